//! The native writing of each kind of outcome (`api.md`): what [`super::Native`] answers,
//! and what a profile answers for an outcome its app had no shape for.

use http::{header, HeaderValue, StatusCode};

use super::views::{
    AdminUserList, AdminUserView, IdentityList, Message, SessionList, SessionView, TokenResponse, UserView, Verified,
};
use crate::outcome::{
    Account, Active, AdminUser, Discovery, Done, Identities, Jwks, Mailed, PasswordChanged, Sessions, SignedIn,
    UserList,
};
use crate::web::response::ApiResponse;
use crate::wire::reading::signed_in_status;

pub fn signed_in(outcome: SignedIn) -> ApiResponse {
    let status = signed_in_status(&outcome);
    ApiResponse::json(status, &TokenResponse::new(&outcome.tokens, outcome.user.as_deref()))
}

pub fn account(outcome: Account) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, &UserView::from(&*outcome.user))
}

pub fn admin_user(outcome: AdminUser) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, &AdminUserView::new(&outcome.user, outcome.sessions))
}

pub fn user_list(outcome: UserList) -> ApiResponse {
    let users = outcome.users.iter().map(|user| AdminUserView::new(user, None)).collect();
    ApiResponse::json(StatusCode::OK, &AdminUserList { users, next_cursor: outcome.next_cursor.as_deref() })
}

pub fn identities(outcome: Identities) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, &IdentityList::of(&outcome))
}

pub fn active(Active(claims): Active) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, &Verified { active: true, claims: &claims })
}

pub fn sessions(outcome: Sessions) -> ApiResponse {
    let sessions = outcome.sessions.iter().map(|s| SessionView::new(s, outcome.current)).collect();
    ApiResponse::json(StatusCode::OK, &SessionList { sessions })
}

pub fn mailed(outcome: Mailed) -> ApiResponse {
    let message = match outcome {
        Mailed::Verification => "A verification link is on its way to your email address.",
        Mailed::PasswordReset => "If an account uses this email address, a password reset link is on its way to it.",
    };
    ApiResponse::json(StatusCode::ACCEPTED, &Message { message })
}

pub fn done(_: Done) -> ApiResponse {
    ApiResponse::no_content()
}

pub fn jwks(Jwks(jwks): Jwks) -> ApiResponse {
    public(&jwks)
}

pub fn discovery(Discovery(document): Discovery) -> ApiResponse {
    public(&document)
}

/// A public document verifiers may cache briefly (a key rotation publishes the new key
/// before using it).
fn public(document: &serde_json::Value) -> ApiResponse {
    let mut response = ApiResponse::json(StatusCode::OK, document);
    response.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

pub fn password_changed(outcome: PasswordChanged) -> ApiResponse {
    match outcome {
        PasswordChanged::NewSession(outcome) => signed_in(outcome),
        PasswordChanged::SessionKept => done(Done),
    }
}
