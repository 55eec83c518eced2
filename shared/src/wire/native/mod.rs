//! The native wire format: `api.md`'s bodies and problem+json.

pub mod problem;
pub mod views;

use http::{header, HeaderValue, StatusCode};

use self::views::{Message, SessionList, SessionView, TokenResponse, UserView, Verified};
use super::codec::Codec;
use crate::error::Error;
use crate::outcome::{Account, Active, Done, Jwks, Mailed, PasswordChanged, Sessions, SignedIn};
use crate::web::response::ApiResponse;

/// `api.md`.
pub struct Native;

impl Codec for Native {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
        ApiResponse::json(status, &TokenResponse::new(&outcome.tokens, outcome.user.as_deref()))
    }

    fn account(&self, outcome: Account) -> ApiResponse {
        ApiResponse::json(StatusCode::OK, &UserView::from(&*outcome.user))
    }

    fn active(&self, Active(claims): Active) -> ApiResponse {
        ApiResponse::json(StatusCode::OK, &Verified { active: true, claims: &claims })
    }

    fn sessions(&self, outcome: Sessions) -> ApiResponse {
        let sessions = outcome.sessions.iter().map(|s| SessionView::new(s, outcome.current)).collect();
        ApiResponse::json(StatusCode::OK, &SessionList { sessions })
    }

    fn mailed(&self, outcome: Mailed) -> ApiResponse {
        let message = match outcome {
            Mailed::Verification => "A verification link is on its way to your email address.",
            Mailed::PasswordReset => {
                "If an account uses this email address, a password reset link is on its way to it."
            }
        };
        ApiResponse::json(StatusCode::ACCEPTED, &Message { message })
    }

    fn done(&self, _: Done) -> ApiResponse {
        ApiResponse::no_content()
    }

    fn jwks(&self, Jwks(jwks): Jwks) -> ApiResponse {
        let mut response = ApiResponse::json(StatusCode::OK, &*jwks);
        // Verifiers may cache the keys briefly; a rotation publishes the new key before using it.
        response.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
        response
    }

    fn password_changed(&self, outcome: PasswordChanged) -> ApiResponse {
        match outcome {
            PasswordChanged::NewSession(signed_in) => self.signed_in(signed_in),
            PasswordChanged::SessionKept => self.done(Done),
        }
    }

    fn failure(&self, error: &Error, request_id: &str, _operation: &str) -> ApiResponse {
        problem::problem(error, request_id)
    }
}
