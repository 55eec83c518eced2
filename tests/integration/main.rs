//! Integration tests: the real handlers against DynamoDB Local. One binary, so it links once.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod account;
mod admin;
mod attacks;
mod authorizer;
mod canary;
mod discovery;
mod email;
mod errors;
mod events;
mod faults;
mod guest;
mod import;
mod layout;
mod limits;
mod login;
mod openapi;
mod profile_events;
mod profiles;
mod races;
mod refresh;
mod register;
mod sessions;
mod social;
mod template;
