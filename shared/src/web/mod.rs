//! The HTTP edge: the plain request and response every handler path sees, body reading,
//! CORS, and dispatch from a request to a handler and back to a response, in Lambda
//! ([`lambda`]) and in the local server alike.

pub mod body;
pub mod cors;
pub mod dispatch;
pub mod lambda;
pub mod request;
pub mod response;
