//! Token issuing: an access token for a session, paired with the session's refresh token.

use std::time::Duration;

use crate::clock::UnixMs;
use crate::error::Error;
use crate::outcome::IssuedTokens;
use crate::profile::{ExtraClaims, Profile};
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::tokens::{RefreshToken, Subject};

/// A new access token for `session` (claims copied from the session, so a refresh needs no
/// user read), paired with `refresh` unless the session is continued by token exchange,
/// whose clients never hold a refresh token.
pub fn issue(
    state: &AppState,
    session: &SessionRecord,
    refresh: &RefreshToken,
    now: UnixMs,
) -> Result<IssuedTokens, Error> {
    let mut tokens = access(state, session, now)?;
    if session.access_jti.is_none() {
        tokens.refresh_token = Some(refresh.encode());
    }
    Ok(tokens)
}

/// A new access token for `session`, alone.
pub fn access(state: &AppState, session: &SessionRecord, now: UnixMs) -> Result<IssuedTokens, Error> {
    let ttl = session.access_ttl_secs.map_or(state.config.access_ttl, Duration::from_secs);
    let extra_claims =
        session.profile.as_deref().and_then(Profile::from_name).map_or(ExtraClaims::None, Profile::extra_claims);
    let subject = Subject {
        user_id: session.user_id,
        session_id: session.session_id,
        role: &session.role,
        tier: &session.tier,
        guest: session.guest,
        ttl,
        jti: session.access_jti.as_deref(),
        extra_claims,
        legacy_id: session.legacy_id.as_deref(),
    };
    let (access_token, claims) = state
        .tokens
        .issue_access(&subject, now.to_unix_secs())
        .map_err(|_| Error::internal("could not sign an access token"))?;
    let refresh_deadline = session.idle_expires_at.min(session.expires_at);
    Ok(IssuedTokens {
        access_token,
        expires_in: ttl.as_secs(),
        access_expires_at: claims.exp,
        refresh_token: None,
        refresh_expires_in: (refresh_deadline.millis_after(now) + 500).div_euclid(1000).max(0),
    })
}
