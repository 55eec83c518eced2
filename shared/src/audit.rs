//! One structured log event per auth outcome (user id, outcome, request id). Never pass
//! secrets here: no passwords, tokens, hashes or headers.

use uuid::Uuid;

use crate::error::Error;
use crate::web::request::ApiRequest;

pub fn audit(req: &ApiRequest, event: &'static str, outcome: &'static str, user_id: Option<Uuid>) {
    match user_id {
        Some(id) => {
            tracing::info!(request_id = %req.request_id, event, outcome, user_id = %id, "auth")
        }
        None => tracing::info!(request_id = %req.request_id, event, outcome, "auth"),
    }
}

/// Logs the event of a request whose caller was refused (an outage is not an auth outcome),
/// and hands the error on.
pub fn refused(req: &ApiRequest, event: &'static str, error: Error) -> Error {
    if error.is_unauthenticated() {
        audit(req, event, error.code(), None);
    }
    error
}
