//! Wire formats: how outcomes and failures are written for a client. The core never builds a
//! response body itself; each route names its format in its declaration (`crate::routes`),
//! and the edge (`crate::web::dispatch`) hands the handler's result to that format's codec.
//!
//! A second format (a seed app's own API) is one more module implementing [`Codec`] and one
//! more [`Wire`] variant; handlers and storage stay as they are.

pub mod native;

use crate::error::Error;
use crate::outcome::Outcome;
use crate::web::response::ApiResponse;

/// Writes one wire format.
pub trait Codec: Send + Sync {
    /// The response to what a handler did.
    fn success(&self, outcome: Outcome) -> ApiResponse;
    /// The response to a failure, tagged with the request id that its log line carries too.
    /// The cause of a server fault never reaches the body.
    fn failure(&self, error: &Error, request_id: &str) -> ApiResponse;
}

/// The wire formats this service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `api.md`: JSON bodies and RFC 9457 problem+json failures.
    Native,
}

impl Wire {
    pub fn codec(self) -> &'static dyn Codec {
        match self {
            Wire::Native => &native::Native,
        }
    }
}
