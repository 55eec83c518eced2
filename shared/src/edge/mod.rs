//! The top of the stack: from an API Gateway event ([`lambda`]) or the local server to a
//! route's entry and back ([`dispatch`]), with CORS ([`cors`]) on the way out.

pub mod cors;
pub mod dispatch;
pub mod lambda;
