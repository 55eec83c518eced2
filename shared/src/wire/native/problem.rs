//! RFC 9457 problem+json: `api.md`'s failure body, with its status, detail and headers.

use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::error::{Error, FieldErrors, Limit};
use crate::web::response::ApiResponse;

const INVALID_CREDENTIALS: &str = "Invalid credentials.";
const INVALID_REFRESH: &str = "Invalid or expired refresh token.";
const USERNAME_TAKEN: &str = "Username already exists.";
const EMAIL_TAKEN: &str = "Email already exists.";

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    request_id: &'a str,
}

fn status(error: &Error) -> StatusCode {
    use Error::*;
    match error {
        Validation(_) | Schema(_) | Malformed(_) => StatusCode::BAD_REQUEST,
        InvalidCredentials | InvalidToken | NoBearer(_) | InvalidIdToken | TokenExpired | InvalidRefreshToken
        | RefreshTokenReused => StatusCode::UNAUTHORIZED,
        AccountDisabled | Forbidden(_) | InvalidApiKey => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        UsernameTaken | EmailTaken | NotGuest | Conflict | AlreadyVerified | AccountExists | IdentityTaken
        | LastIdentity => StatusCode::CONFLICT,
        RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn detail(error: &Error) -> &'static str {
    use Error::*;
    match error {
        Validation(_) | Schema(_) => "One or more fields are invalid.",
        Malformed(detail) => detail,
        InvalidCredentials => INVALID_CREDENTIALS,
        InvalidToken | NoBearer(_) => "The access token is missing, invalid or revoked.",
        InvalidIdToken => "The ID token is invalid, expired, or was not issued for this app.",
        TokenExpired => "The access token has expired.",
        InvalidRefreshToken => INVALID_REFRESH,
        RefreshTokenReused => "This refresh token was already used; the session has been revoked.",
        AccountDisabled => "This account is disabled.",
        Forbidden(detail) => detail,
        InvalidApiKey => "A valid API key is required.",
        NotFound => "No such resource.",
        MethodNotAllowed => "This method is not allowed on this resource.",
        UsernameTaken => USERNAME_TAKEN,
        EmailTaken => EMAIL_TAKEN,
        NotGuest => "This account is not a guest account.",
        AccountExists => {
            "An account already uses this email address. Sign in to it the usual way and link this identity from there."
        }
        IdentityTaken => "This identity is linked to another account, or this account already has one of its provider.",
        LastIdentity => "This is the account's last way to sign in: set a password or link another identity first.",
        AlreadyVerified => "This email address is already verified.",
        RateLimited { limit: Limit::Scope(scope), .. } => scope.detail(),
        RateLimited { limit: Limit::UsagePlan, .. } => "Too many requests. Please try again later.",
        Conflict => "The account was changed by another request at the same time. Please try again.",
        PayloadTooLarge => "The request body is larger than 16 KiB.",
        UnsupportedMediaType => "The request body must be application/json.",
        Unavailable(_) => "The service is temporarily unavailable. Please try again.",
        Internal(_) => "Something went wrong on our side.",
    }
}

/// The problem+json response for `error`, tagged with the request id.
pub fn problem(error: &Error, request_id: &str) -> ApiResponse {
    let status = status(error);
    // A taken name is also reported under its field, like any other field error.
    let conflict_errors;
    let errors = match error {
        Error::Validation(errors) => Some(errors),
        Error::UsernameTaken | Error::EmailTaken => {
            let field = if matches!(error, Error::UsernameTaken) { "username" } else { "email" };
            conflict_errors = FieldErrors::from([(field.to_owned(), vec![detail(error).to_owned()])]);
            Some(&conflict_errors)
        }
        _ => None,
    };
    let retry_after = match error {
        Error::RateLimited { retry_after, .. } => Some(*retry_after),
        _ => None,
    };
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail: detail(error),
        code: error.code(),
        errors,
        retry_after,
        request_id,
    };
    let mut response = ApiResponse::json_with_type(status, &body, "application/problem+json");
    if let Some(seconds) = retry_after {
        response.headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if status == StatusCode::UNAUTHORIZED && !matches!(error, Error::InvalidCredentials) {
        let challenge = match error {
            Error::TokenExpired => r#"Bearer error="invalid_token", error_description="The access token expired""#,
            _ => r#"Bearer error="invalid_token""#,
        };
        response.headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_scope::RateScope;

    fn body(error: &Error) -> serde_json::Value {
        serde_json::from_slice(&problem(error, "req-1").body).expect("json")
    }

    #[test]
    fn problems_carry_type_title_status_detail_code_and_request_id() {
        let b = body(&Error::UsernameTaken);
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
        let response = problem(&Error::internal("table bookshelf not found in dynamodb"), "r");
        let text = String::from_utf8(response.body).expect("utf8");
        assert!(!text.to_lowercase().contains("dynamodb"));
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn token_failures_carry_a_bearer_challenge_but_login_failures_do_not() {
        let token = problem(&Error::InvalidToken, "r");
        assert_eq!(token.headers[header::WWW_AUTHENTICATE], r#"Bearer error="invalid_token""#);
        let login = problem(&Error::InvalidCredentials, "r");
        assert!(!login.headers.contains_key(header::WWW_AUTHENTICATE));
    }

    #[test]
    fn a_rate_limit_says_its_scope_and_when_to_retry() {
        let response = problem(&Error::rate_limited(RateScope::Register, 42), "r");
        assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers[header::RETRY_AFTER], "42");
        let b: serde_json::Value = serde_json::from_slice(&response.body).expect("json");
        assert_eq!(b["detail"], "Too many registration attempts. Please try again later.");
        assert_eq!(b["retry_after"], 42);
    }

    #[test]
    fn unauthenticated_errors_are_exactly_the_401s() {
        for error in crate::error::tests::one_of_each() {
            assert_eq!(error.is_unauthenticated(), status(&error) == StatusCode::UNAUTHORIZED, "{error:?}");
            assert_eq!(error.is_server_fault(), status(&error).is_server_error(), "{error:?}");
        }
    }

    #[test]
    fn content_type_is_problem_json() {
        assert_eq!(problem(&Error::NotFound, "r").headers[header::CONTENT_TYPE], "application/problem+json");
    }
}
