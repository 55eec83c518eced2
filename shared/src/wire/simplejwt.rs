//! `simplejwt` (profiles.md; Django REST framework + djangorestframework-simplejwt):
//! `{"refresh", "access"}` tokens, DRF's field errors and `{"detail", "code"}` token errors,
//! JSON or form bodies.

use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Map, Value};

use super::codec::Codec;
use super::reading::{answer, native_detail, signed_in_status, usual_status};
use crate::error::{Error, FieldErrors, NoBearer};
use crate::outcome::{Account, Active, SignedIn};
use crate::web::response::ApiResponse;

pub struct Simplejwt;

/// Requests as DRF's parsers and serializers took them.
pub mod decode {
    use crate::error::Error;
    use crate::state::AppState;
    use crate::web::request::ApiRequest;
    use crate::wire::reading::{Accept, Body};

    /// DRF's messages for a missing or blank field.
    fn required(body: &mut Body, fields: &[&str]) {
        for field in fields {
            match body.fields.get(*field) {
                None => body.error(field, "This field is required."),
                Some(serde_json::Value::Null) => body.error(field, "This field may not be null."),
                Some(serde_json::Value::String(s)) if s.trim().is_empty() => {
                    body.error(field, "This field may not be blank.")
                }
                Some(serde_json::Value::String(_)) => {}
                // DRF's CharField takes numbers as their text.
                Some(serde_json::Value::Number(n)) => {
                    let text = n.to_string();
                    body.fields.insert((*field).to_owned(), serde_json::Value::String(text));
                }
                Some(_) => body.error(field, "Not a valid string."),
            }
        }
    }

    pub fn decode_token(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::JsonOrForm)?;
        required(&mut body, &["username", "password"]);
        body.keep(&["username", "password"]).native(req, Error::Schema)
    }

    pub fn decode_refresh(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::JsonOrForm)?;
        required(&mut body, &["refresh"]);
        body.keep(&["refresh"]).rename("refresh", "refresh_token").native(req, Error::Schema)
    }

    pub fn decode_verify(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::JsonOrForm)?;
        required(&mut body, &["token"]);
        body.keep(&["token"]).native(req, Error::Schema)
    }

    /// The real view names both fields whenever either is missing or empty, without a full
    /// stop; its clients match on that text.
    pub fn decode_register(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
        let mut body = Body::read(req, Accept::JsonOrForm)?;
        if !(body.filled("username") && body.filled("password")) {
            body.error("username", "This field is required");
            body.error("password", "This field is required");
        }
        body.keep(&["username", "password"]).native(req, Error::Schema)
    }
}

/// DRF's field errors, native names turned back into the app's.
fn field_errors(errors: &FieldErrors) -> Value {
    let map: Map<String, Value> = errors
        .iter()
        .map(|(field, messages)| {
            let field = if field == "refresh_token" { "refresh" } else { field.as_str() };
            (field.to_owned(), json!(messages))
        })
        .collect();
    Value::Object(map)
}

const TOKEN_NOT_VALID: &str = "Token is invalid or expired";

impl Codec for Simplejwt {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        // The refresh token is the same one while rotation is off, the successor when on: a
        // client written from the seed document (which reads it) and one written from the
        // real server (which does not) both work.
        let body = json!({"refresh": outcome.tokens.refresh_token, "access": outcome.tokens.access_token});
        let status = signed_in_status(&outcome);
        answer(status, &body, None)
    }

    fn account(&self, outcome: Account) -> ApiResponse {
        let user = &outcome.user;
        answer(StatusCode::OK, &json!({"username": user.username.as_ref().or(user.email.as_ref())}), None)
    }

    fn active(&self, _: Active) -> ApiResponse {
        answer(StatusCode::OK, &json!({}), None)
    }

    fn failure(&self, error: &Error, _request_id: &str, operation: &str) -> ApiResponse {
        let detail = |text: &str| json!({"detail": text});
        let (status, body) = match error {
            Error::Validation(errors) | Error::Schema(errors) => (StatusCode::BAD_REQUEST, field_errors(errors)),
            Error::UsernameTaken | Error::EmailTaken => (StatusCode::CONFLICT, detail("User already exists")),
            Error::InvalidCredentials => {
                (StatusCode::UNAUTHORIZED, detail("No active account found with the given credentials"))
            }
            Error::NoBearer(NoBearer::Missing) => {
                (StatusCode::UNAUTHORIZED, detail("Authentication credentials were not provided."))
            }
            Error::NoBearer(NoBearer::Malformed) => (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Authorization header must contain two space-delimited values",
                       "code": "bad_authorization_header"}),
            ),
            // A bearer route's refusal names the token class it tried, as simplejwt does.
            e if e.is_unauthenticated() && operation == "get-me" => (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Given token not valid for any token type", "code": "token_not_valid",
                       "messages": [{"token_class": "AccessToken", "token_type": "access",
                                     "message": TOKEN_NOT_VALID}]}),
            ),
            e if e.is_unauthenticated() => {
                (StatusCode::UNAUTHORIZED, json!({"detail": TOKEN_NOT_VALID, "code": "token_not_valid"}))
            }
            Error::RateLimited { retry_after, .. } => {
                let unit = if *retry_after == 1 { "second" } else { "seconds" };
                let text = format!("Request was throttled. Expected available in {retry_after} {unit}.");
                (StatusCode::TOO_MANY_REQUESTS, detail(&text))
            }
            Error::Malformed(_) => (StatusCode::BAD_REQUEST, detail("JSON parse error")),
            // simplejwt's own words for an inactive user.
            Error::AccountDisabled => {
                (StatusCode::FORBIDDEN, json!({"detail": "User is inactive", "code": "user_inactive"}))
            }
            other => (usual_status(other), detail(native_detail(other))),
        };
        let mut response = answer(status, &body, Some(error));
        if status == StatusCode::UNAUTHORIZED {
            response.headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"api\""));
        }
        response
    }
}
