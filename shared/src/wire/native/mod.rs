//! The native wire format: `api.md`'s bodies and problem+json.

pub mod problem;
pub mod views;
pub mod write;

use super::codec::Codec;
use crate::error::Error;
use crate::web::response::ApiResponse;

/// `api.md`: every outcome is written by the codec's defaults (`write`).
pub struct Native;

impl Codec for Native {
    fn failure(&self, error: &Error, request_id: &str, _operation: &str) -> ApiResponse {
        problem::problem(error, request_id)
    }
}
