//! `book-corners` (profiles.md; django-ninja + ninja-jwt): `{"access", "refresh"}` tokens,
//! `{"message", "details"}` errors, and pydantic's 422 for a body of the wrong shape.

use http::StatusCode;
use serde_json::{json, Value};

use super::codec::Codec;
use super::reading::{answer, first_message, native_detail, shown_id, signed_in_status, usual_status};
use crate::error::{Error, FieldErrors};
use crate::outcome::{Account, SignedIn};
use crate::web::response::ApiResponse;

pub struct BookCorners;

/// Requests in Book Corners' shapes, checked the way its pydantic schemas checked them.
pub mod decode {
    use crate::error::Error;
    use crate::state::AppState;
    use crate::web::request::ApiRequest;
    use crate::wire::reading::{Accept, Body};

    /// A required string field of `min..=max` characters, with pydantic's messages.
    fn string(body: &mut Body, field: &str, min: usize, max: usize) {
        let message = match body.fields.get(field) {
            None | Some(serde_json::Value::Null) => Some("Field required".to_owned()),
            Some(serde_json::Value::String(s)) if s.chars().count() < min => {
                Some(format!("String should have at least {min} character{}", plural(min)))
            }
            Some(serde_json::Value::String(s)) if s.chars().count() > max => {
                Some(format!("String should have at most {max} character{}", plural(max)))
            }
            Some(serde_json::Value::String(_)) => None,
            Some(_) => Some("Input should be a valid string".to_owned()),
        };
        if let Some(message) = message {
            body.error(field, message);
        }
    }

    fn plural(n: usize) -> &'static str {
        if n == 1 {
            ""
        } else {
            "s"
        }
    }

    /// django-ninja reads the body as JSON whatever its `Content-Type` says.
    fn read(req: &ApiRequest) -> Result<Body, Error> {
        Body::read(req, Accept::AnyAsJson)
    }

    /// The view strips the names it is given (and the email is matched case-insensitively).
    fn trim(mut body: Body, fields: &[&str]) -> Body {
        for field in fields {
            if let Some(serde_json::Value::String(s)) = body.fields.get_mut(*field) {
                *s = s.trim().to_owned();
            }
        }
        body
    }

    pub fn decode_register(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = read(req)?;
        string(&mut body, "username", 3, 150);
        string(&mut body, "email", 3, 254);
        string(&mut body, "password", 8, 128);
        trim(body.keep(&["username", "email", "password"]), &["username", "email"]).native(req, Error::Schema)
    }

    pub fn decode_login(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = read(req)?;
        string(&mut body, "username", 1, 254);
        string(&mut body, "password", 1, 128);
        trim(body.keep(&["username", "password"]), &["username"]).native(req, Error::Schema)
    }

    pub fn decode_refresh(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = read(req)?;
        // No upper bound in its schema: a long string is just an invalid token (401).
        string(&mut body, "refresh", 20, usize::MAX);
        body.keep(&["refresh"]).rename("refresh", "refresh_token").native(req, Error::Schema)
    }
}

/// pydantic's error type for one of its messages.
fn pydantic_type(message: &str) -> &'static str {
    match message {
        "Field required" => "missing",
        m if m.starts_with("String should have at least") => "string_too_short",
        m if m.starts_with("String should have at most") => "string_too_long",
        _ => "string_type",
    }
}

fn schema_errors(errors: &FieldErrors) -> Value {
    let items: Vec<Value> = errors
        .iter()
        .flat_map(|(field, messages)| {
            messages.iter().map(move |msg| {
                let field = if field == "refresh_token" { "refresh" } else { field.as_str() };
                json!({"type": pydantic_type(msg), "loc": ["body", "payload", field], "msg": msg})
            })
        })
        .collect();
    json!({"errors": items})
}

impl Codec for BookCorners {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        let tokens = &outcome.tokens;
        let mut body = json!({"access": tokens.access_token});
        // A refresh answers the refresh token only when it rotated (a setting): the client
        // keeps the one it has otherwise.
        if outcome.new_refresh {
            body["refresh"] = json!(tokens.refresh_token);
        }
        let status = signed_in_status(&outcome);
        answer(status, &body, None)
    }

    fn account(&self, outcome: Account) -> ApiResponse {
        let user = &outcome.user;
        let body = json!({
            "id": shown_id(user),
            "username": user.username,
            "email": user.email,
            "is_social_only": false,
            "is_staff": matches!(user.role.as_str(), "staff" | "admin"),
        });
        answer(StatusCode::OK, &body, None)
    }

    fn failure(&self, error: &Error, _request_id: &str, operation: &str) -> ApiResponse {
        let (status, message, details) = match error {
            Error::Schema(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Validation error.".to_owned(), schema_errors(errors))
            }
            Error::Malformed(_) => (StatusCode::BAD_REQUEST, "Cannot parse request body".to_owned(), Value::Null),
            Error::Validation(errors) => (StatusCode::BAD_REQUEST, first_message(errors).to_owned(), Value::Null),
            Error::UsernameTaken => (StatusCode::BAD_REQUEST, "Username already exists.".to_owned(), Value::Null),
            Error::EmailTaken => (StatusCode::BAD_REQUEST, "Email already exists.".to_owned(), Value::Null),
            Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "Invalid credentials.".to_owned(), Value::Null),
            Error::InvalidRefreshToken | Error::RefreshTokenReused => {
                (StatusCode::UNAUTHORIZED, "Invalid or expired refresh token.".to_owned(), Value::Null)
            }
            e if e.is_unauthenticated() => (StatusCode::UNAUTHORIZED, "Unauthorized".to_owned(), Value::Null),
            Error::RateLimited { .. } => {
                let attempts = match operation {
                    "register" => "registration",
                    "refresh" => "refresh",
                    _ => "login",
                };
                let message = format!("Too many {attempts} attempts. Please try again later.");
                (StatusCode::TOO_MANY_REQUESTS, message, Value::Null)
            }
            other => (usual_status(other), native_detail(other).to_owned(), Value::Null),
        };
        answer(status, &json!({"message": message, "details": details}), Some(error))
    }
}
