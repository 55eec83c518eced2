//! The top of the stack: from an API Gateway event ([`lambda`]) or the local server to a
//! route's entry and back ([`dispatch`]), with CORS ([`cors`]) on the way out; and the
//! pieces that protect an app's own API: its Lambda [`authorizer`] and the [`example_app`].

pub mod authorizer;
pub mod cors;
pub mod dispatch;
pub mod example_app;
pub mod lambda;
