//! One error type for every handler, and its one mapping to RFC 9457 problem+json.

use std::collections::BTreeMap;

use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::http::ApiResponse;

/// Field name → messages, as the `errors` member of a validation problem.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The boxed cause of a 5xx answer, logged but never shown to the client.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `validation_error`: one or more fields break a rule.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400 `malformed_request`: the body is not a JSON object.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// 401 `invalid_credentials`: same answer for unknown users and wrong passwords.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 401 `invalid_token`: missing, malformed, forged, wrong type, revoked or used token.
    #[error("invalid token")]
    InvalidToken,
    /// 401 `token_expired`: a genuine access token past `exp`.
    #[error("token expired")]
    TokenExpired,
    /// 401 `invalid_refresh_token`: unknown, expired or revoked refresh token.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// 401 `refresh_token_reused`: a rotated refresh token replayed; the session is revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// 403 `forbidden`.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 403 `invalid_api_key`.
    #[error("invalid api key")]
    InvalidApiKey,
    /// 404 `not_found`.
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `username_taken`.
    #[error("username taken")]
    UsernameTaken,
    /// 409 `email_taken`.
    #[error("email taken")]
    EmailTaken,
    /// 409 `already_verified`: the email address is verified already.
    #[error("already verified")]
    AlreadyVerified,
    /// 429 `rate_limited`, with `Retry-After` and `retry_after` (seconds).
    #[error("rate limited")]
    RateLimited { detail: &'static str, retry_after: u64 },
    /// 409 `not_guest`: a full account called guest upgrade.
    #[error("not a guest")]
    NotGuest,
    /// 409 `conflict`: the account changed under a concurrent request; try again.
    #[error("conflict")]
    Conflict,
    /// 413 `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415 `unsupported_media_type`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 503 `service_unavailable`: the database is unreachable or throttling.
    #[error("service unavailable")]
    Unavailable(#[source] Cause),
    /// 500 `internal_error`: a bug; the detail stays generic.
    #[error("internal error")]
    Internal(#[source] Cause),
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: &'a str,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    pub request_id: &'a str,
}

pub const INVALID_CREDENTIALS: &str = "Invalid credentials.";
pub const INVALID_REFRESH: &str = "Invalid or expired refresh token.";
pub const USERNAME_TAKEN: &str = "Username already exists.";
pub const EMAIL_TAKEN: &str = "Email already exists.";

/// Every `code` an [`ApiError`] can answer, for documents that list them (`openapi.yaml`).
pub const CODES: &[&str] = &[
    "validation_error",
    "malformed_request",
    "invalid_credentials",
    "invalid_token",
    "token_expired",
    "invalid_refresh_token",
    "refresh_token_reused",
    "forbidden",
    "invalid_api_key",
    "not_found",
    "method_not_allowed",
    "username_taken",
    "email_taken",
    "not_guest",
    "already_verified",
    "rate_limited",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "service_unavailable",
    "internal_error",
];

impl ApiError {
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Validation(_) | Malformed(_) => StatusCode::BAD_REQUEST,
            InvalidCredentials | InvalidToken | TokenExpired | InvalidRefreshToken | RefreshTokenReused => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden(_) | InvalidApiKey => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            UsernameTaken | EmailTaken | NotGuest | Conflict | AlreadyVerified => StatusCode::CONFLICT,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            Validation(_) => "validation_error",
            Malformed(_) => "malformed_request",
            InvalidCredentials => "invalid_credentials",
            InvalidToken => "invalid_token",
            TokenExpired => "token_expired",
            InvalidRefreshToken => "invalid_refresh_token",
            RefreshTokenReused => "refresh_token_reused",
            Forbidden(_) => "forbidden",
            InvalidApiKey => "invalid_api_key",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            UsernameTaken => "username_taken",
            EmailTaken => "email_taken",
            NotGuest => "not_guest",
            AlreadyVerified => "already_verified",
            RateLimited { .. } => "rate_limited",
            Conflict => "conflict",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            Unavailable(_) => "service_unavailable",
            Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> &'static str {
        use ApiError::*;
        match self {
            Validation(_) => "One or more fields are invalid.",
            Malformed(detail) => detail,
            InvalidCredentials => INVALID_CREDENTIALS,
            InvalidToken => "The access token is missing, invalid or revoked.",
            TokenExpired => "The access token has expired.",
            InvalidRefreshToken => INVALID_REFRESH,
            RefreshTokenReused => "This refresh token was already used; the session has been revoked.",
            Forbidden(detail) => detail,
            InvalidApiKey => "A valid API key is required.",
            NotFound => "No such resource.",
            MethodNotAllowed => "This method is not allowed on this resource.",
            UsernameTaken => USERNAME_TAKEN,
            EmailTaken => EMAIL_TAKEN,
            NotGuest => "This account is not a guest account.",
            AlreadyVerified => "This email address is already verified.",
            RateLimited { detail, .. } => detail,
            Conflict => "The account was changed by another request at the same time. Please try again.",
            PayloadTooLarge => "The request body is larger than 16 KiB.",
            UnsupportedMediaType => "The request body must be application/json.",
            Unavailable(_) => "The service is temporarily unavailable. Please try again.",
            Internal(_) => "Something went wrong on our side.",
        }
    }

    /// A validation problem about a single field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(name.to_owned(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        ApiError::Internal(cause.into())
    }

    /// The problem+json response for this error, tagged with the request id.
    pub fn to_response(&self, request_id: &str) -> ApiResponse {
        let status = self.status();
        let conflict_errors;
        let errors = match self {
            ApiError::Validation(errors) => Some(errors),
            ApiError::UsernameTaken | ApiError::EmailTaken => {
                let field = if matches!(self, ApiError::UsernameTaken) { "username" } else { "email" };
                let mut map = FieldErrors::new();
                map.insert(field.to_owned(), vec![self.detail().to_owned()]);
                conflict_errors = map;
                Some(&conflict_errors)
            }
            _ => None,
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors,
            retry_after: match self {
                ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
                _ => None,
            },
            request_id,
        };
        let mut response = ApiResponse::json_with_type(status, &problem, "application/problem+json");
        if let ApiError::RateLimited { retry_after, .. } = self {
            response.headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if status == StatusCode::UNAUTHORIZED && !matches!(self, ApiError::InvalidCredentials) {
            let challenge = match self {
                ApiError::TokenExpired => {
                    r#"Bearer error="invalid_token", error_description="The access token expired""#
                }
                _ => r#"Bearer error="invalid_token""#,
            };
            response.headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::{Claim, StoreError};
        match e {
            StoreError::Conflict(Claim::Username) => ApiError::UsernameTaken,
            StoreError::Conflict(Claim::Email) => ApiError::EmailTaken,
            StoreError::Conflict(Claim::Device) => ApiError::Conflict,
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Stale => ApiError::Conflict,
            StoreError::Missing => ApiError::InvalidToken,
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &ApiError) -> serde_json::Value {
        serde_json::from_slice(&error.to_response("req-1").body).expect("json")
    }

    #[test]
    fn problems_carry_type_title_status_detail_code_and_request_id() {
        let b = body(&ApiError::UsernameTaken);
        assert_eq!(b["type"], "about:blank");
        assert_eq!(b["title"], "Conflict");
        assert_eq!(b["status"], 409);
        assert_eq!(b["detail"], "Username already exists.");
        assert_eq!(b["code"], "username_taken");
        assert_eq!(b["errors"]["username"][0], "Username already exists.");
        assert_eq!(b["request_id"], "req-1");
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let error = ApiError::internal("table bookshelf not found in dynamodb");
        let response = error.to_response("r");
        let text = String::from_utf8(response.body).expect("utf8");
        assert!(!text.to_lowercase().contains("dynamodb"));
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn token_failures_carry_a_bearer_challenge_but_login_failures_do_not() {
        let token = ApiError::InvalidToken.to_response("r");
        assert_eq!(token.headers[header::WWW_AUTHENTICATE], r#"Bearer error="invalid_token""#);
        let login = ApiError::InvalidCredentials.to_response("r");
        assert!(!login.headers.contains_key(header::WWW_AUTHENTICATE));
    }

    /// One error of every variant. The match below has no wildcard, so a new variant does not
    /// compile until it is added here too (and its code to `CODES`).
    fn one_of_each() -> Vec<ApiError> {
        use ApiError::*;
        let all = vec![
            Validation(FieldErrors::new()),
            Malformed("m"),
            InvalidCredentials,
            InvalidToken,
            TokenExpired,
            InvalidRefreshToken,
            RefreshTokenReused,
            Forbidden("f"),
            InvalidApiKey,
            NotFound,
            MethodNotAllowed,
            UsernameTaken,
            EmailTaken,
            AlreadyVerified,
            RateLimited { detail: "r", retry_after: 1 },
            NotGuest,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unavailable("u".into()),
            Internal("i".into()),
        ];
        for error in &all {
            match error {
                Validation(_)
                | Malformed(_)
                | InvalidCredentials
                | InvalidToken
                | TokenExpired
                | InvalidRefreshToken
                | RefreshTokenReused
                | Forbidden(_)
                | InvalidApiKey
                | NotFound
                | MethodNotAllowed
                | UsernameTaken
                | EmailTaken
                | AlreadyVerified
                | RateLimited { .. }
                | NotGuest
                | Conflict
                | PayloadTooLarge
                | UnsupportedMediaType
                | Unavailable(_)
                | Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn codes_lists_the_code_of_every_variant_once() {
        let mut emitted: Vec<&str> = one_of_each().iter().map(ApiError::code).collect();
        let mut listed = CODES.to_vec();
        emitted.sort_unstable();
        listed.sort_unstable();
        assert_eq!(emitted, listed);
    }

    #[test]
    fn content_type_is_problem_json() {
        let response = ApiError::NotFound.to_response("r");
        assert_eq!(response.headers[header::CONTENT_TYPE], "application/problem+json");
    }
}
