//! The native wire format: `api.md`'s bodies and problem+json.

pub mod problem;
pub mod views;

use http::{header, HeaderValue, StatusCode};

use self::views::{Message, SessionList, SessionView, TokenResponse, UserView, Verified};
use super::Codec;
use crate::error::Error;
use crate::outcome::{Mailing, Outcome};
use crate::web::response::ApiResponse;

/// `api.md`.
pub struct Native;

impl Codec for Native {
    fn success(&self, outcome: Outcome) -> ApiResponse {
        match outcome {
            Outcome::Tokens { tokens, user, created } => {
                let status = if created { StatusCode::CREATED } else { StatusCode::OK };
                ApiResponse::json(status, &TokenResponse::new(&tokens, user.as_deref()))
            }
            Outcome::User(user) => ApiResponse::json(StatusCode::OK, &UserView::from(&*user)),
            Outcome::Active(claims) => ApiResponse::json(StatusCode::OK, &Verified { active: true, claims: &claims }),
            Outcome::Sessions { sessions, current } => {
                let sessions = sessions.iter().map(|s| SessionView::new(s, current)).collect();
                ApiResponse::json(StatusCode::OK, &SessionList { sessions })
            }
            Outcome::Mailed(mailing) => {
                let message = match mailing {
                    Mailing::Verification => "A verification link is on its way to your email address.",
                    Mailing::PasswordReset => {
                        "If an account uses this email address, a password reset link is on its way to it."
                    }
                };
                ApiResponse::json(StatusCode::ACCEPTED, &Message { message })
            }
            Outcome::Done => ApiResponse::no_content(),
            Outcome::Keys(jwks) => {
                let mut response = ApiResponse::json(StatusCode::OK, &jwks);
                // Verifiers may cache the keys briefly; a rotation publishes the new key
                // before using it.
                response.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
                response
            }
        }
    }

    fn failure(&self, error: &Error, request_id: &str) -> ApiResponse {
        problem::problem(error, request_id)
    }
}
