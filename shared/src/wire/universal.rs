//! `universal-bookshelf` (profiles.md; Laravel + tymon/jwt-auth): `{"status", "message"}`
//! bodies, Laravel's 422 validation errors and timestamps, and one JWT per session that the
//! client exchanges for the next one.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::codec::Codec;
use super::reading::{answer, native_detail, shown_id, usual_status};
use crate::clock::{rfc3339, UnixMs};
use crate::error::{Error, FieldErrors};
use crate::outcome::{Account, Done, Mailed, PasswordChanged, SignedIn};
use crate::store::UserRecord;
use crate::web::response::ApiResponse;

pub struct UniversalBookshelf;

/// Requests in Laravel's shapes, with its validation messages.
pub mod decode {
    use crate::error::Error;
    use crate::state::AppState;
    use crate::web::request::ApiRequest;
    use crate::wire::reading::{bearer_first, Accept, Body};

    /// Laravel's `required` rule: "The password confirmation field is required."
    fn required(body: &mut Body, fields: &[&str]) {
        for field in fields {
            if !body.filled(field) {
                body.error(field, format!("The {} field is required.", field.replace('_', " ")));
            }
        }
    }

    /// Laravel's `confirmed` rule, reported on the confirmed field.
    fn confirmed(body: &mut Body, field: &str) {
        let confirmation = format!("{field}_confirmation");
        if body.filled(field) && body.str(field) != body.str(&confirmation) {
            body.error(field, format!("The {} confirmation does not match.", field.replace('_', " ")));
        }
    }

    pub fn decode_signup(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::Json)?;
        required(&mut body, &["name", "email", "password"]);
        confirmed(&mut body, "password");
        body.keep(&["name", "email", "password", "role"]).rename("name", "display_name").native(req, Error::Validation)
    }

    pub fn decode_login(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::Json)?;
        required(&mut body, &["email", "password"]);
        body.keep(&["email", "password"]).native(req, Error::Validation)
    }

    pub fn decode_update(state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        bearer_first(state, req)?;
        Body::read(req, Accept::Json)?
            .keep(&["name", "email"])
            .rename("name", "display_name")
            .native(req, Error::Validation)
    }

    pub fn decode_change_password(state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        bearer_first(state, req)?;
        let mut body = Body::read(req, Accept::Json)?;
        required(&mut body, &["current_password", "new_password"]);
        confirmed(&mut body, "new_password");
        body.keep(&["current_password", "new_password"]).native(req, Error::Validation)
    }
}

/// Laravel's JSON timestamps: microseconds, `Z`.
fn laravel_time(at: UnixMs) -> String {
    let text = rfc3339(at);
    match text.strip_suffix('Z') {
        Some(millis) => format!("{millis}000Z"),
        None => text,
    }
}

fn user_view(user: &UserRecord, full: bool) -> Value {
    let mut view = json!({
        "id": shown_id(user),
        "name": user.display_name,
        "email": user.email,
        "role": user.role,
    });
    if full {
        let verified_at = user.email_verified.then(|| laravel_time(user.email_verified_at.unwrap_or(user.updated_at)));
        view["email_verified_at"] = json!(verified_at);
        view["created_at"] = json!(laravel_time(user.created_at));
        view["updated_at"] = json!(laravel_time(user.updated_at));
    }
    view
}

fn ok(message: &str) -> ApiResponse {
    answer(StatusCode::OK, &json!({"status": true, "message": message}), None)
}

/// A 422 in Laravel's shape: native field names turned back into the app's, and the native
/// wording of the rules Laravel also had in Laravel's.
fn invalid(errors: &FieldErrors) -> (StatusCode, Value) {
    let errors: Map<String, Value> = errors
        .iter()
        .map(|(field, messages)| {
            let field = if field == "display_name" { "name" } else { field.as_str() };
            let messages: Vec<String> = messages.iter().map(|m| laravel_wording(field, m)).collect();
            (field.to_owned(), json!(messages))
        })
        .collect();
    (StatusCode::UNPROCESSABLE_ENTITY, json!({"status": false, "message": "Validation error", "errors": errors}))
}

fn laravel_wording(field: &str, message: &str) -> String {
    match (field, message) {
        ("email", crate::domain::INVALID_EMAIL) => "The email field must be a valid email address.".to_owned(),
        ("name", _) if message.starts_with("Display name must be") => {
            "The name field must be between 1 and 100 characters.".to_owned()
        }
        (_, "Must be a string.") => format!("The {} field must be a string.", field.replace('_', " ")),
        _ => message.to_owned(),
    }
}

fn one_invalid(field: &str, message: &str) -> (StatusCode, Value) {
    invalid(&FieldErrors::from([(field.to_owned(), vec![message.to_owned()])]))
}

impl Codec for UniversalBookshelf {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        let authorization = json!({"token": outcome.tokens.access_token, "type": "bearer"});
        let (status, body) = match (&outcome.user, outcome.created) {
            (Some(user), true) => (
                StatusCode::CREATED,
                json!({"status": true, "message": "User successfully registered", "user": user_view(user, true),
                       "authorization": authorization}),
            ),
            (Some(user), false) => (
                StatusCode::OK,
                json!({"status": true, "message": "Login successful", "user": user_view(user, false),
                       "authorization": authorization}),
            ),
            (None, _) => (
                StatusCode::OK,
                json!({"status": true, "message": "Token refreshed successfully", "authorization": authorization}),
            ),
        };
        answer(status, &body, None)
    }

    fn account(&self, outcome: Account) -> ApiResponse {
        let mut body = json!({"status": true, "user": user_view(&outcome.user, true)});
        if outcome.updated {
            body["message"] = json!("Profile updated successfully");
        }
        answer(StatusCode::OK, &body, None)
    }

    fn mailed(&self, _: Mailed) -> ApiResponse {
        ok("Verification link sent!")
    }

    fn done(&self, _: Done) -> ApiResponse {
        ok("Successfully logged out")
    }

    fn password_changed(&self, _: PasswordChanged) -> ApiResponse {
        ok("Password changed successfully")
    }

    fn failure(&self, error: &Error, _request_id: &str, operation: &str) -> ApiResponse {
        let message = |status: StatusCode, text: &str| (status, json!({"status": false, "message": text}));
        let (status, body) = match error {
            // Laravel answers a verified address's request for another link kindly.
            Error::AlreadyVerified => (StatusCode::OK, json!({"status": true, "message": "Email already verified."})),
            Error::Validation(errors) | Error::Schema(errors) => invalid(errors),
            Error::EmailTaken => one_invalid("email", "The email has already been taken."),
            Error::UsernameTaken => one_invalid("name", "The name has already been taken."),
            Error::InvalidCredentials if operation == "change-password" => {
                one_invalid("current_password", "The current password is incorrect.")
            }
            Error::InvalidCredentials => message(StatusCode::UNAUTHORIZED, "Invalid credentials"),
            e if e.is_unauthenticated() => message(StatusCode::UNAUTHORIZED, "Unauthenticated."),
            Error::RateLimited { .. } => message(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts."),
            Error::Unavailable(_) | Error::Internal(_) => message(usual_status(error), "Server Error"),
            other => message(usual_status(other), native_detail(other)),
        };
        answer(status, &body, Some(error))
    }
}
