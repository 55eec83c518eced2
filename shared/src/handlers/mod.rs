//! One module per endpoint. A handler reads its request, does its work through `auth`,
//! `tokens`, `password` and `store`, and returns what happened as one of the types of
//! [`crate::outcome`] (or an [`Error`](crate::error::Error)); it never writes a response body,
//! so the same handler serves every wire format.

pub mod admin;
pub mod email;
pub mod guest;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod me;
pub mod password;
pub mod refresh;
pub mod register;
pub mod sessions;
pub mod social;
pub mod verify;
