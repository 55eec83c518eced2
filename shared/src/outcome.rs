//! What a handler did, before any wire format: the seam between the core and the formats
//! clients read. Each handler returns one of these types (or an [`crate::error::Error`]);
//! the route's wire format (`crate::wire`) writes it. One type per kind of answer, so a
//! function's binary links the writing of its own answers only.

use uuid::Uuid;

use crate::store::{LinkedIdentity, SessionRecord, UserRecord};
use crate::tokens::AccessClaims;

/// The tokens of a session as a client receives them, whatever the wire format.
pub struct IssuedTokens {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// Its `exp` claim (unix seconds).
    pub access_expires_at: i64,
    /// None for a session continued by exchanging its access token.
    pub refresh_token: Option<String>,
    /// Seconds until the refresh token's idle or absolute deadline, whichever is first.
    pub refresh_expires_in: i64,
}

/// Never prints the tokens.
impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish_non_exhaustive()
    }
}

/// A session's tokens: just opened, or continued by a refresh.
#[derive(Debug)]
pub struct SignedIn {
    pub tokens: IssuedTokens,
    /// The account, where the route answers it (not on refresh).
    pub user: Option<Box<UserRecord>>,
    /// This call created the account.
    pub created: bool,
    /// The refresh token is not the one the client presented (a session that does not
    /// rotate answers its own again).
    pub new_refresh: bool,
}

impl SignedIn {
    /// Tokens without the account (refresh): a rotated refresh token, or the same one.
    pub fn refreshed(tokens: IssuedTokens) -> Self {
        SignedIn { tokens, user: None, created: false, new_refresh: true }
    }

    /// Tokens of a session whose refresh token does not rotate.
    pub fn refreshed_without_rotation(tokens: IssuedTokens) -> Self {
        SignedIn { new_refresh: false, ..SignedIn::refreshed(tokens) }
    }

    /// Tokens with the account they were issued to; `created` when this call made it.
    pub fn account(tokens: IssuedTokens, user: UserRecord, created: bool) -> Self {
        SignedIn { tokens, user: Some(Box::new(user)), created, new_refresh: true }
    }
}

/// The caller's account, fresh from the database; `updated` when this request changed it.
#[derive(Debug)]
pub struct Account {
    pub user: Box<UserRecord>,
    pub updated: bool,
}

impl Account {
    pub fn read(user: UserRecord) -> Self {
        Account { user: Box::new(user), updated: false }
    }

    pub fn updated(user: UserRecord) -> Self {
        Account { user: Box::new(user), updated: true }
    }
}

/// A user as the back office sees it: the whole record but its password hash, with its live
/// sessions counted where the answer shows them.
#[derive(Debug)]
pub struct AdminUser {
    pub user: Box<UserRecord>,
    pub sessions: Option<usize>,
}

/// Users found or listed by the back office, and where the next page starts (opaque).
#[derive(Debug)]
pub struct UserList {
    pub users: Vec<UserRecord>,
    pub next_cursor: Option<String>,
}

/// The ways an account signs in: a password, and each linked social identity.
#[derive(Debug)]
pub struct Identities {
    pub has_password: bool,
    pub linked: Vec<LinkedIdentity>,
}

impl Identities {
    pub fn of(user: UserRecord) -> Self {
        Identities { has_password: user.password_hash.is_some(), linked: user.identities }
    }
}

/// A password was changed: every other session ended, and the caller either holds a new
/// session or (where its profile keeps it) still holds its own.
#[derive(Debug)]
pub enum PasswordChanged {
    NewSession(SignedIn),
    SessionKept,
}

/// An access token whose session and user are live right now.
#[derive(Debug)]
pub struct Active(pub AccessClaims);

/// The caller's live sessions; `current` is the one the request came with.
#[derive(Debug)]
pub struct Sessions {
    pub sessions: Vec<SessionRecord>,
    pub current: Uuid,
}

/// A mail was sent, or (for a password reset) may have been: the answer must not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailed {
    Verification,
    PasswordReset,
}

/// Done; there is nothing to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done;

/// The public signing keys (a JWKS document).
#[derive(Debug)]
pub struct Jwks(pub std::sync::Arc<serde_json::Value>);

/// The OpenID Connect discovery document: where verifiers find the issuer's keys.
#[derive(Debug)]
pub struct Discovery(pub serde_json::Value);
