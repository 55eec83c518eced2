//! `session-api` (profiles.md): `{"success": true, "data": …}` envelopes, one long-lived
//! bearer token per session, and `{"success": false, "error", "code"}` failures.

use http::StatusCode;
use serde_json::{json, Value};

use super::codec::Codec;
use super::reading::{answer, native_detail, shown_id, signed_in_status, usual_status};
use crate::clock::{rfc3339, UnixMs};
use crate::error::Error;
use crate::outcome::{Account, Done, SignedIn};
use crate::store::UserRecord;
use crate::web::response::ApiResponse;

pub struct SessionApi;

/// Requests in the session API's shapes: camelCase names, its own messages for what is
/// missing.
pub mod decode {
    use crate::error::Error;
    use crate::state::AppState;
    use crate::web::request::ApiRequest;
    use crate::wire::reading::{bearer_first, Accept, Body};

    /// Its one message when any of `fields` is missing, reported as a validation failure.
    fn require_all(body: &mut Body, fields: &[&str], message: &str) {
        if !fields.iter().all(|f| body.filled(f)) {
            body.error(fields[0], message);
        }
    }

    pub fn decode_register(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::Json)?;
        require_all(&mut body, &["username", "email", "password"], "Username, email, and password are required");
        body.keep(&["username", "email", "password", "firstName", "lastName"])
            .rename("firstName", "first_name")
            .rename("lastName", "last_name")
            .native(req, Error::Validation)
    }

    pub fn decode_login(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::Json)?;
        require_all(&mut body, &["email", "password"], "Email and password are required");
        body.keep(&["email", "password"]).native(req, Error::Validation)
    }

    pub fn decode_update(state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        bearer_first(state, req)?;
        Body::read(req, Accept::Json)?
            .keep(&["firstName", "lastName", "preferences"])
            .rename("firstName", "first_name")
            .rename("lastName", "last_name")
            .native(req, Error::Validation)
    }
}

fn user_view(user: &UserRecord) -> Value {
    json!({
        "id": shown_id(user),
        "username": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "createdAt": rfc3339(user.created_at),
    })
}

impl Codec for SessionApi {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        let user = outcome.user.as_deref().map_or(Value::Null, user_view);
        let expires_at = rfc3339(UnixMs::from_ms(outcome.tokens.access_expires_at.saturating_mul(1000)));
        let body = json!({
            "success": true,
            "data": {"user": user, "session": {"token": outcome.tokens.access_token, "expiresAt": expires_at}},
        });
        let status = signed_in_status(&outcome);
        answer(status, &body, None)
    }

    fn account(&self, outcome: Account) -> ApiResponse {
        let mut data = user_view(&outcome.user);
        data["preferences"] = serde_json::from_str(&outcome.user.preferences).unwrap_or_else(|_| json!({}));
        answer(StatusCode::OK, &json!({"success": true, "data": data}), None)
    }

    fn done(&self, _: Done) -> ApiResponse {
        answer(StatusCode::OK, &json!({"success": true, "message": "Logged out successfully"}), None)
    }

    fn failure(&self, error: &Error, _request_id: &str, _operation: &str) -> ApiResponse {
        let (status, message, code) = match error {
            Error::Validation(_) | Error::Schema(_) | Error::Malformed(_) => {
                (StatusCode::BAD_REQUEST, native_detail(error), "VALIDATION_ERROR")
            }
            Error::UsernameTaken | Error::EmailTaken => (StatusCode::CONFLICT, native_detail(error), "USER_EXISTS"),
            Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "Invalid email or password", "INVALID_CREDENTIALS"),
            e if e.is_unauthenticated() => (StatusCode::UNAUTHORIZED, "Authentication required", "AUTH_REQUIRED"),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, native_detail(error), "RATE_LIMITED"),
            Error::AccountDisabled => (StatusCode::FORBIDDEN, native_detail(error), "ACCOUNT_DISABLED"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, native_detail(error), "FORBIDDEN"),
            Error::Conflict => (StatusCode::CONFLICT, native_detail(error), "CONFLICT"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, native_detail(error), "SERVICE_UNAVAILABLE"),
            other => (usual_status(other), native_detail(other), "INTERNAL_ERROR"),
        };
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => "VALIDATION_ERROR",
            _ => code,
        };
        answer(status, &json!({"success": false, "error": message, "code": code}), Some(error))
    }
}
