//! The plain HTTP data every layer may name: the request a handler reads ([`request`], its
//! body through [`body`]) and the response a wire format writes ([`response`]), whatever
//! carried them. What moves a request to a handler and back is `crate::edge`.

pub mod body;
pub mod request;
pub mod response;
