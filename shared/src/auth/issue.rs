//! Token issuing: an access token for a session, paired with the session's refresh token.

use crate::clock::UnixMs;
use crate::error::Error;
use crate::outcome::IssuedTokens;
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::tokens::{RefreshToken, Subject};

/// A new access token for `session` (claims copied from the session, so a refresh needs no
/// user read), paired with `refresh`.
pub fn issue(
    state: &AppState,
    session: &SessionRecord,
    refresh: &RefreshToken,
    now: UnixMs,
) -> Result<IssuedTokens, Error> {
    let subject = Subject {
        user_id: session.user_id,
        session_id: session.session_id,
        role: &session.role,
        tier: &session.tier,
        guest: session.guest,
    };
    let (access_token, _) = state
        .tokens
        .issue_access(&subject, now.to_unix_secs())
        .map_err(|_| Error::internal("could not sign an access token"))?;
    let refresh_deadline = session.idle_expires_at.min(session.expires_at);
    Ok(IssuedTokens {
        access_token,
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token: refresh.encode(),
        refresh_expires_in: (refresh_deadline.millis_after(now) + 500).div_euclid(1000).max(0),
    })
}
