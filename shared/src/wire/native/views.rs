//! The response bodies of `api.md`, borrowed from the records they show.

use serde::Serialize;
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::outcome::{Identities, IssuedTokens};
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
    /// The back office's object about the user: readable, never writable, by the user.
    pub app_metadata: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

/// A JSON object stored as text (preferences, app metadata); `{}` when absent.
pub fn stored_object(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_else(|| serde_json::Value::Object(Default::default()))
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
            preferences: stored_object(Some(&user.preferences)),
            app_metadata: stored_object(user.app_metadata.as_deref()),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// A user as the back office sees it (`openapi/admin.yaml`): the User object and what only
/// the back office reads. Never the password hash.
#[derive(Debug, Serialize)]
pub struct AdminUserView<'a> {
    #[serde(flatten)]
    pub user: UserView<'a>,
    pub disabled: bool,
    pub legacy_id: Option<&'a str>,
    pub legacy_source: Option<&'a str>,
    pub email_verified_at: Option<String>,
    /// When an idle guest expires; `null` for accounts.
    pub expires_at: Option<String>,
    pub has_password: bool,
    pub version: u64,
    /// Live sessions, on single-user answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_count: Option<usize>,
}

impl<'a> AdminUserView<'a> {
    pub fn new(user: &'a UserRecord, session_count: Option<usize>) -> Self {
        AdminUserView {
            user: UserView::from(user),
            disabled: user.disabled,
            legacy_id: user.legacy_id.as_deref(),
            legacy_source: user.legacy_source.as_deref(),
            email_verified_at: user.email_verified_at.map(rfc3339),
            expires_at: user.expires_at.map(rfc3339),
            has_password: user.password_hash.is_some(),
            version: user.version,
            session_count,
        }
    }
}

/// One way an account signs in: `password`, or a linked provider with the address it gave.
#[derive(Debug, Serialize)]
pub struct IdentityView<'a> {
    pub provider: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<String>,
}

/// `GET /identities`' answer.
#[derive(Debug, Serialize)]
pub struct IdentityList<'a> {
    pub identities: Vec<IdentityView<'a>>,
}

impl<'a> IdentityList<'a> {
    pub fn of(identities: &'a Identities) -> Self {
        let password =
            identities.has_password.then_some(IdentityView { provider: "password", email: None, linked_at: None });
        let linked = identities.linked.iter().map(|i| IdentityView {
            provider: &i.provider,
            email: i.email.as_deref(),
            linked_at: Some(rfc3339(i.linked_at)),
        });
        IdentityList { identities: password.into_iter().chain(linked).collect() }
    }
}

/// `GET /admin/v1/users`' answer.
#[derive(Debug, Serialize)]
pub struct AdminUserList<'a> {
    pub users: Vec<AdminUserView<'a>>,
    pub next_cursor: Option<&'a str>,
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
