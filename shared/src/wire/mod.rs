//! Wire formats: how outcomes and failures are written for a client. The core never builds a
//! response body itself; each route names its format in its declaration (`crate::routes`),
//! and its entry hands the handler's outcome to that format.
//!
//! A second format (a seed app's own API) is one more module implementing [`Codec`] and one
//! more [`Wire`] variant with its arms below; handlers and storage stay as they are. Writing
//! is dispatched statically, per outcome type, so each function links only the writing of
//! the answers its own handler gives.

pub mod native;

use crate::error::Error;
use crate::outcome::{Account, Active, Done, Keys, Mailed, Sessions, SignedIn};
use crate::web::response::ApiResponse;

/// Writes one wire format: one method per kind of outcome, and failures.
pub trait Codec {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse;
    fn account(&self, outcome: Account) -> ApiResponse;
    fn active(&self, outcome: Active) -> ApiResponse;
    fn sessions(&self, outcome: Sessions) -> ApiResponse;
    fn mailed(&self, outcome: Mailed) -> ApiResponse;
    fn done(&self, outcome: Done) -> ApiResponse;
    fn keys(&self, outcome: Keys) -> ApiResponse;
    /// The response to a failure, tagged with the request id that its log line carries too.
    /// The cause of a server fault never reaches the body.
    fn failure(&self, error: &Error, request_id: &str) -> ApiResponse;
}

/// An outcome any codec can write.
pub trait Encode {
    fn encode<C: Codec>(self, codec: &C) -> ApiResponse;
}

macro_rules! encode {
    ($($outcome:ty => $method:ident),* $(,)?) => {$(
        impl Encode for $outcome {
            fn encode<C: Codec>(self, codec: &C) -> ApiResponse {
                codec.$method(self)
            }
        }
    )*};
}

encode! {
    SignedIn => signed_in,
    Account => account,
    Active => active,
    Sessions => sessions,
    Mailed => mailed,
    Done => done,
    Keys => keys,
}

/// The wire formats this service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `api.md`: JSON bodies and RFC 9457 problem+json failures.
    Native,
}

impl Wire {
    pub fn encode(self, outcome: impl Encode) -> ApiResponse {
        match self {
            Wire::Native => outcome.encode(&native::Native),
        }
    }

    pub fn failure(self, error: &Error, request_id: &str) -> ApiResponse {
        match self {
            Wire::Native => native::Native.failure(error, request_id),
        }
    }
}
