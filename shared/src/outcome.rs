//! What a handler did, before any wire format: the seam between the core and the formats
//! clients read. A handler returns an [`Outcome`] (or an [`crate::error::Error`]); the route's
//! [`crate::wire::Codec`] writes it.

use uuid::Uuid;

use crate::auth::issue::IssuedTokens;
use crate::store::{SessionRecord, UserRecord};
use crate::tokens::AccessClaims;

#[derive(Debug)]
pub enum Outcome {
    /// A session's tokens: just opened, or continued by a refresh. `user` is the account when
    /// the route answers it; `created` when this call created the account.
    Tokens { tokens: IssuedTokens, user: Option<Box<UserRecord>>, created: bool },
    /// The caller's account, fresh from the database.
    User(Box<UserRecord>),
    /// An access token whose session and user are live right now.
    Active(AccessClaims),
    /// The caller's live sessions; `current` is the one the request came with.
    Sessions { sessions: Vec<SessionRecord>, current: Uuid },
    /// A mail was sent, or (for a password reset) may have been: the answer must not tell.
    Mailed(Mailing),
    /// Done; there is nothing to tell.
    Done,
    /// The public signing keys (a JWKS document).
    Keys(serde_json::Value),
}

/// Which mail an [`Outcome::Mailed`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailing {
    Verification,
    PasswordReset,
}

impl Outcome {
    /// Tokens without the account (refresh).
    pub fn tokens(tokens: IssuedTokens) -> Self {
        Outcome::Tokens { tokens, user: None, created: false }
    }

    /// Tokens with the account they were issued to.
    pub fn signed_in(tokens: IssuedTokens, user: UserRecord, created: bool) -> Self {
        Outcome::Tokens { tokens, user: Some(Box::new(user)), created }
    }

    pub fn user(user: UserRecord) -> Self {
        Outcome::User(Box::new(user))
    }
}
