//! Wire formats: how outcomes and failures are written for a client. The core never builds a
//! response body itself; each route names its format in its declaration (`crate::routes`),
//! and its entry hands the handler's outcome to that format.
//!
//! A second format (a seed app's own API) is one more module implementing [`Codec`] and one
//! more [`Wire`] variant with its arms below; handlers and storage stay as they are. Writing
//! is dispatched statically, per outcome type, so each function links only the writing of
//! the answers its own handler gives.

pub mod codec;
pub mod native;

pub use codec::{Codec, Encode};

use crate::error::Error;
use crate::web::response::ApiResponse;

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
