//! `bookwish` (profiles.md): flat `{"user", "access_token", "refresh_token"}` bodies, a
//! camelCase user object, and `{"error": "<Code>", "message"}` failures.

use http::StatusCode;
use serde_json::{json, Value};

use super::codec::Codec;
use super::reading::{answer, native_detail, shown_id, signed_in_status, usual_status};
use crate::clock::rfc3339;
use crate::error::Error;
use crate::outcome::{Account, Done, SignedIn};
use crate::store::UserRecord;
use crate::web::response::ApiResponse;

pub struct Bookwish;

/// Requests as BookWish's clients send them: either spelling of a field (`device_id` /
/// `deviceId`), and its required fields.
pub mod decode {
    use crate::error::Error;
    use crate::state::AppState;
    use crate::web::request::ApiRequest;
    use crate::wire::reading::{bearer_first, Accept, Body};

    fn read(req: &ApiRequest) -> Result<Body, Error> {
        Ok(Body::read(req, Accept::Json)?
            .alias("device_id", "deviceId")
            .alias("refresh_token", "refreshToken")
            .alias("display_name", "displayName")
            .alias("id_token", "idToken"))
    }

    fn required(body: &mut Body, fields: &[&str]) {
        for field in fields {
            if !body.filled(field) {
                body.error(field, "This field is required.");
            }
        }
    }

    pub fn decode_guest(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        read(req)?.keep(&["device_id"]).native(req, Error::Validation)
    }

    pub fn decode_refresh(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        read(req)?.keep(&["refresh_token"]).native(req, Error::Validation)
    }

    /// Logout ends the session of the refresh token it names (one of the caller's), or else
    /// the bearer's own; nothing else BookWish never sent (such as ending every session).
    pub fn decode_logout(state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        bearer_first(state, req)?;
        read(req)?.keep(&["refresh_token"]).native(req, Error::Validation)
    }

    pub fn decode_signup(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = read(req)?;
        required(&mut body, &["email", "password", "display_name"]);
        body.keep(&["email", "password", "display_name"]).native(req, Error::Validation)
    }

    pub fn decode_login(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = read(req)?;
        required(&mut body, &["email", "password"]);
        body.keep(&["email", "password"]).native(req, Error::Validation)
    }

    /// Social sign-in (BookWish's planned Google and Apple login): the ID token, its nonce and
    /// the name the app collected, in either spelling.
    pub fn decode_social(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = read(req)?;
        required(&mut body, &["id_token"]);
        body.keep(&["id_token", "nonce", "display_name"]).native(req, Error::Validation)
    }

    pub fn decode_migrate(state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        bearer_first(state, req)?;
        let mut body = read(req)?;
        required(&mut body, &["email", "password", "display_name"]);
        body.keep(&["email", "password", "display_name"]).native(req, Error::Validation)
    }
}

fn user_view(user: &UserRecord, full: bool) -> Value {
    let mut view = json!({
        "id": shown_id(user),
        "email": user.email,
        "displayName": user.display_name,
        "isGuest": user.is_guest,
        // Read from the database by this request, never from a token.
        "tier": user.tier,
    });
    if full {
        view["username"] = json!(user.username);
        view["createdAt"] = json!(rfc3339(user.created_at));
        view["updatedAt"] = json!(rfc3339(user.updated_at));
    }
    view
}

impl Codec for Bookwish {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        let mut body = json!({
            "access_token": outcome.tokens.access_token,
            "refresh_token": outcome.tokens.refresh_token,
        });
        if let Some(user) = &outcome.user {
            body["user"] = user_view(user, false);
        }
        let status = signed_in_status(&outcome);
        answer(status, &body, None)
    }

    fn account(&self, outcome: Account) -> ApiResponse {
        answer(StatusCode::OK, &user_view(&outcome.user, true), None)
    }

    fn done(&self, _: Done) -> ApiResponse {
        answer(StatusCode::OK, &json!({"success": true}), None)
    }

    fn failure(&self, error: &Error, _request_id: &str, operation: &str) -> ApiResponse {
        let (code, message) = match error {
            Error::Validation(errors) | Error::Schema(errors) => {
                let details: Vec<Value> = errors
                    .iter()
                    .flat_map(|(path, messages)| messages.iter().map(move |m| json!({"path": path, "message": m})))
                    .collect();
                let body = json!({"error": "ValidationError", "message": "Validation failed", "details": details});
                return answer(StatusCode::BAD_REQUEST, &body, Some(error));
            }
            Error::EmailTaken | Error::UsernameTaken if operation == "guest-upgrade" => {
                ("EmailConflict", "Email already in use")
            }
            Error::EmailTaken | Error::UsernameTaken => ("EmailConflict", "Email already registered"),
            Error::InvalidCredentials => ("InvalidCredentials", "Email or password incorrect"),
            Error::NotGuest => ("BadRequest", "User is not a guest account"),
            Error::RefreshTokenReused => ("InvalidToken", "Token has been revoked"),
            Error::InvalidRefreshToken => ("InvalidToken", "Token is invalid or expired"),
            Error::NoBearer(_) => ("Unauthorized", "Missing or invalid authorization header"),
            e if e.is_unauthenticated() => ("Unauthorized", "Invalid or expired token"),
            Error::RateLimited { .. } => ("RateLimited", native_detail(error)),
            Error::Malformed(_) | Error::PayloadTooLarge | Error::UnsupportedMediaType => {
                ("BadRequest", native_detail(error))
            }
            Error::AccountDisabled => ("AccountDisabled", native_detail(error)),
            Error::Forbidden(_) => ("Forbidden", native_detail(error)),
            Error::Conflict => ("Conflict", native_detail(error)),
            Error::NotFound => ("NotFound", native_detail(error)),
            Error::Unavailable(_) => ("ServiceUnavailable", native_detail(error)),
            Error::AccountExists => ("AccountExists", native_detail(error)),
            other => ("InternalError", native_detail(other)),
        };
        answer(usual_status(error), &json!({"error": code, "message": message}), Some(error))
    }
}
