//! Why a request did not succeed, in the service's own terms. Nothing here knows HTTP: a wire
//! format (`crate::wire`) turns each variant into a status and a body, once, at the edge.

use std::collections::BTreeMap;

use crate::rate_scope::RateScope;
use crate::social::SocialError;
use crate::store::{Claim, StoreError};
use crate::tokens::TokenError;

/// Field name → messages, as a validation failure lists them.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The boxed cause of a server-side failure, logged but never shown to the client.
pub use crate::store::Cause;

/// Every way a request can fail. Each variant's doc names the `code` it is logged (and, in the
/// native wire format, answered) with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `validation_error`: one or more fields break a rule.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// `validation_error` too: the body does not have the shape a profile's route declares (a
    /// missing field, a wrong type, a length), found before any rule of the core is applied.
    /// Profiles whose servers told the two apart (pydantic's 422) answer it apart.
    #[error("schema validation failed")]
    Schema(FieldErrors),
    /// `malformed_request`: the body is not a JSON object.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// `invalid_credentials`: same answer for unknown users and wrong passwords.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// `invalid_token`: missing, malformed, forged, wrong type, revoked or used token.
    #[error("invalid token")]
    InvalidToken,
    /// `invalid_token` too, found in the `Authorization` header before any token was read:
    /// some profiles' servers answer these apart.
    #[error("no bearer token: {0:?}")]
    NoBearer(NoBearer),
    /// `invalid_token` too: an ID token of a sign-in provider that failed verification.
    #[error("invalid id token")]
    InvalidIdToken,
    /// `token_expired`: a genuine access token past `exp`.
    #[error("token expired")]
    TokenExpired,
    /// `invalid_refresh_token`: unknown, expired or revoked refresh token.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// `refresh_token_reused`: a rotated refresh token replayed; the session is revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// `account_disabled`: the back office disabled this account (told only to a caller who
    /// proved to be its owner: the right password, a live refresh or reset token, its device).
    #[error("account disabled")]
    AccountDisabled,
    /// `forbidden`: the caller may not do this; the text says why.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// `invalid_api_key`.
    #[error("invalid api key")]
    InvalidApiKey,
    /// `not_found`.
    #[error("not found")]
    NotFound,
    /// `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// `username_taken`.
    #[error("username taken")]
    UsernameTaken,
    /// `email_taken`.
    #[error("email taken")]
    EmailTaken,
    /// `already_verified`: the email address is verified already.
    #[error("already verified")]
    AlreadyVerified,
    /// `rate_limited`: a limit is spent; try again after `retry_after` seconds.
    #[error("rate limited")]
    RateLimited { limit: Limit, retry_after: u64 },
    /// `not_guest`: a full account called guest upgrade.
    #[error("not a guest")]
    NotGuest,
    /// `account_exists`: a social sign-in whose email belongs to an account it may not be
    /// linked to automatically (either side's address unverified): sign in the old way and
    /// link the identity from there.
    #[error("account exists")]
    AccountExists,
    /// `identity_taken`: the social identity belongs to another account (or this account has
    /// another identity of the provider).
    #[error("identity taken")]
    IdentityTaken,
    /// `last_identity`: unlinking it would leave the account no way to sign in.
    #[error("last identity")]
    LastIdentity,
    /// `conflict`: the account changed under a concurrent request; try again.
    #[error("conflict")]
    Conflict,
    /// `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// `unsupported_media_type`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// `service_unavailable`: the database is unreachable or throttling.
    #[error("service unavailable")]
    Unavailable(#[source] Cause),
    /// `internal_error`: a bug; what the client is told stays generic.
    #[error("internal error")]
    Internal(#[source] Cause),
}

/// Why a request carries no bearer token to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoBearer {
    /// No `Authorization` header, or one of another scheme.
    Missing,
    /// `Bearer` without exactly one token after it.
    Malformed,
}

/// Which limit a `rate_limited` failure ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// An app-level per-IP window; also the login back-off (as [`RateScope::Login`]) and an
    /// account's hourly mail quota (as [`RateScope::Verification`]).
    Scope(RateScope),
    /// The API key's usage plan (API Gateway's throttle, emulated by the local server).
    UsagePlan,
}

impl Error {
    /// A spent app-level limit.
    pub fn rate_limited(scope: RateScope, retry_after: u64) -> Self {
        Error::RateLimited { limit: Limit::Scope(scope), retry_after }
    }
}

/// Every `code` an [`Error`] can have, for documents that list them (`openapi.yaml`).
pub const CODES: &[&str] = &[
    "validation_error",
    "malformed_request",
    "invalid_credentials",
    "invalid_token",
    "token_expired",
    "invalid_refresh_token",
    "refresh_token_reused",
    "account_disabled",
    "forbidden",
    "invalid_api_key",
    "not_found",
    "method_not_allowed",
    "username_taken",
    "email_taken",
    "not_guest",
    "account_exists",
    "identity_taken",
    "last_identity",
    "already_verified",
    "rate_limited",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "service_unavailable",
    "internal_error",
];

impl Error {
    /// The stable name of this failure: the `outcome` of its audit event, and the `code` of
    /// the native wire format.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            Validation(_) | Schema(_) => "validation_error",
            Malformed(_) => "malformed_request",
            InvalidCredentials => "invalid_credentials",
            InvalidToken | NoBearer(_) | InvalidIdToken => "invalid_token",
            TokenExpired => "token_expired",
            InvalidRefreshToken => "invalid_refresh_token",
            RefreshTokenReused => "refresh_token_reused",
            AccountDisabled => "account_disabled",
            Forbidden(_) => "forbidden",
            InvalidApiKey => "invalid_api_key",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            UsernameTaken => "username_taken",
            EmailTaken => "email_taken",
            NotGuest => "not_guest",
            AccountExists => "account_exists",
            IdentityTaken => "identity_taken",
            LastIdentity => "last_identity",
            AlreadyVerified => "already_verified",
            RateLimited { .. } => "rate_limited",
            Conflict => "conflict",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            Unavailable(_) => "service_unavailable",
            Internal(_) => "internal_error",
        }
    }

    /// The caller could not be authenticated: bad credentials or a token that was refused.
    /// These are the auth outcomes worth an audit event, and what per-IP windows of token
    /// routes count.
    pub fn is_unauthenticated(&self) -> bool {
        use Error::*;
        matches!(
            self,
            InvalidCredentials
                | InvalidToken
                | NoBearer(_)
                | InvalidIdToken
                | TokenExpired
                | InvalidRefreshToken
                | RefreshTokenReused
        )
    }

    /// The service, not the request, is at fault (the cause is logged, never answered).
    pub fn is_server_fault(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Internal(_))
    }

    /// A validation failure about a single field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(name.to_owned(), vec![message.into()]);
        Error::Validation(errors)
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Error::Internal(cause.into())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(Claim::Username) => Error::UsernameTaken,
            StoreError::Conflict(Claim::Email) => Error::EmailTaken,
            StoreError::Conflict(Claim::Identity) => Error::IdentityTaken,
            StoreError::Conflict(Claim::Device | Claim::Legacy) => Error::Conflict,
            StoreError::Unavailable(cause) => Error::Unavailable(cause),
            StoreError::Stale => Error::Conflict,
            StoreError::Missing => Error::InvalidToken,
            StoreError::Internal(cause) => Error::Internal(cause),
        }
    }
}

impl From<SocialError> for Error {
    fn from(e: SocialError) -> Self {
        match e {
            SocialError::NotEnabled => Error::NotFound,
            SocialError::Refused => Error::InvalidIdToken,
            SocialError::Unavailable(reason) => Error::Unavailable(reason.into()),
        }
    }
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Expired => Error::TokenExpired,
            TokenError::Invalid => Error::InvalidToken,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One error of every variant. The match below has no wildcard, so a new variant does not
    /// compile until it is added here too (and its code to `CODES`).
    pub(crate) fn one_of_each() -> Vec<Error> {
        use Error::*;
        let all = vec![
            Validation(FieldErrors::new()),
            Schema(FieldErrors::new()),
            Malformed("m"),
            InvalidCredentials,
            InvalidToken,
            NoBearer(super::NoBearer::Missing),
            InvalidIdToken,
            TokenExpired,
            InvalidRefreshToken,
            RefreshTokenReused,
            AccountDisabled,
            Forbidden("f"),
            InvalidApiKey,
            NotFound,
            MethodNotAllowed,
            UsernameTaken,
            EmailTaken,
            AlreadyVerified,
            RateLimited { limit: Limit::UsagePlan, retry_after: 1 },
            NotGuest,
            AccountExists,
            IdentityTaken,
            LastIdentity,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unavailable("u".into()),
            Internal("i".into()),
        ];
        for error in &all {
            match error {
                Validation(_)
                | Schema(_)
                | Malformed(_)
                | InvalidCredentials
                | InvalidToken
                | NoBearer(_)
                | InvalidIdToken
                | TokenExpired
                | InvalidRefreshToken
                | RefreshTokenReused
                | AccountDisabled
                | Forbidden(_)
                | InvalidApiKey
                | NotFound
                | MethodNotAllowed
                | UsernameTaken
                | EmailTaken
                | AlreadyVerified
                | RateLimited { .. }
                | NotGuest
                | AccountExists
                | IdentityTaken
                | LastIdentity
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
        let mut emitted: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        let mut listed = CODES.to_vec();
        emitted.sort_unstable();
        // Some variants share a code (they differ only where a profile answers them apart).
        emitted.dedup();
        listed.sort_unstable();
        assert_eq!(emitted, listed);
    }

    #[test]
    fn a_taken_claim_is_its_names_conflict_and_a_lost_race_a_retryable_one() {
        assert_eq!(Error::from(StoreError::Conflict(Claim::Username)).code(), "username_taken");
        assert_eq!(Error::from(StoreError::Conflict(Claim::Email)).code(), "email_taken");
        assert_eq!(Error::from(StoreError::Stale).code(), "conflict");
        assert!(Error::from(StoreError::Unavailable("down".into())).is_server_fault());
    }
}
