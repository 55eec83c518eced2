//! Bookshelf Auth: everything the Lambdas and the local server share.
//!
//! A request flows one way: event → [`http::ApiRequest`] → a handler in [`handlers`] parses
//! the body into [`domain`] types → tokens, passwords and the [`store`] → an
//! [`http::ApiResponse`] (or an [`error::ApiError`] rendered as problem+json).

pub mod aws;
pub mod clock;
pub mod config;
pub mod cors;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod http;
pub mod jwt_crypto;
pub mod keys;
pub mod lambda;
pub mod logging;
pub mod mail;
pub mod password;
pub mod rate;
pub mod routes;
pub mod sdk_http;
pub mod state;
pub mod store;
pub mod tokens;
