//! The response bodies of `api.md`, borrowed from the records they show.

use serde::Serialize;
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::outcome::IssuedTokens;
use crate::store::{SessionRecord, UserRecord};
use crate::tokens::AccessClaims;

/// The User object.
#[derive(Debug, Serialize)]
pub struct UserView<'a> {
    pub id: Uuid,
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub role: &'a str,
    pub tier: &'a str,
    pub is_guest: bool,
    pub preferences: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a UserRecord> for UserView<'a> {
    fn from(user: &'a UserRecord) -> Self {
        UserView {
            id: user.id,
            username: user.username.as_deref(),
            email: user.email.as_deref(),
            email_verified: user.email_verified,
            display_name: user.display_name.as_deref(),
            first_name: user.first_name.as_deref(),
            last_name: user.last_name.as_deref(),
            role: &user.role,
            tier: &user.tier,
            is_guest: user.is_guest,
            preferences: serde_json::from_str(&user.preferences)
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// The TokenResponse; `user` only where the contract includes it.
#[derive(Debug, Serialize)]
pub struct TokenResponse<'a> {
    pub token_type: &'static str,
    pub access_token: &'a str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    pub refresh_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView<'a>>,
}

impl<'a> TokenResponse<'a> {
    pub fn new(tokens: &'a IssuedTokens, user: Option<&'a UserRecord>) -> Self {
        TokenResponse {
            token_type: "Bearer",
            access_token: &tokens.access_token,
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token.as_deref(),
            refresh_expires_in: tokens.refresh_expires_in,
            user: user.map(UserView::from),
        }
    }
}

/// One of `GET /sessions`' sessions.
#[derive(Debug, Serialize)]
pub struct SessionView<'a> {
    pub id: Uuid,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub current: bool,
}

impl<'a> SessionView<'a> {
    pub fn new(session: &'a SessionRecord, current: Uuid) -> Self {
        SessionView {
            id: session.session_id,
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            expires_at: rfc3339(session.idle_expires_at.min(session.expires_at)),
            user_agent: session.user_agent.as_deref(),
            ip: session.ip.as_deref(),
            current: session.session_id == current,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionList<'a> {
    pub sessions: Vec<SessionView<'a>>,
}

/// `POST /verify`'s answer for a live token.
#[derive(Debug, Serialize)]
pub struct Verified<'a> {
    pub active: bool,
    pub claims: &'a AccessClaims,
}

/// A 202's body.
#[derive(Debug, Serialize)]
pub struct Message {
    pub message: &'static str,
}
