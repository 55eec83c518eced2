//! Bookshelf Auth: everything the Lambdas and the local server share.
//!
//! A request flows one way: an event or a socket → [`web::request::ApiRequest`] →
//! [`edge::dispatch`] (per-IP window, then the route's handler from [`routes`]) → a handler in
//! [`handlers`] reads the body ([`web::body`]) into [`domain`] types → [`auth`], [`tokens`],
//! [`password`] and [`store`] → an [`outcome`] or an [`error::Error`] → the route's wire format
//! ([`wire`]) writes the [`web::response::ApiResponse`].

pub mod argon2id;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod clock;
pub mod config;
pub mod domain;
pub mod edge;
pub mod error;
pub mod handlers;
pub mod import;
pub mod jwt_crypto;
pub mod legacy_hash;
pub mod logging;
pub mod mail;
pub mod outcome;
pub mod password;
pub mod profile;
pub mod rate;
pub mod rate_scope;
pub mod routes;
pub mod sdk_http;
pub mod signing_keys;
pub mod social;
pub mod state;
pub mod store;
pub mod tokens;
pub mod web;
pub mod wire;
