//! Bearer authentication: the access token's signature and lifetime, then its session and
//! user in the database in one round trip, so a revocation takes effect at once.

use crate::audit::refused;
use crate::clock::UnixMs;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{SessionRecord, UserRecord};
use crate::tokens::AccessClaims;
use crate::web::request::ApiRequest;

/// A bearer request whose token, session and user were all checked just now.
#[derive(Debug)]
pub struct Authenticated {
    pub claims: AccessClaims,
    pub user: UserRecord,
    pub session: SessionRecord,
}

/// Authenticates the request's bearer token; a refusal is logged as an `authenticate` event.
pub async fn authenticate(state: &AppState, req: &ApiRequest) -> Result<Authenticated, Error> {
    let outcome = match req.bearer_token().and_then(|token| verified_claims(state, token)) {
        Ok(claims) => live_session(state, claims).await,
        Err(e) => Err(e),
    };
    outcome.map_err(|e| refused(req, "authenticate", e))
}

/// The claims of a genuine, unexpired access token (no database read).
pub fn verified_claims(state: &AppState, token: &str) -> Result<AccessClaims, Error> {
    Ok(state.tokens.verify_access(token, state.clock.now_secs())?)
}

/// Whether a session still stands for its user: both live, the user enabled, and the session
/// opened under the user's current credentials.
pub fn holds(user: &UserRecord, session: &SessionRecord, now: UnixMs) -> bool {
    user.is_live(now)
        && !user.disabled
        && session.is_live(now)
        && session.credentials_version == user.credentials_version
}

/// The session and user behind verified claims, if both are still live, the session was
/// opened under the user's current credentials, and (for a session continued by token
/// exchange) the token is the session's one live token.
pub async fn live_session(state: &AppState, claims: AccessClaims) -> Result<Authenticated, Error> {
    let (user_id, session_id) = match (claims.user_id(), claims.session_id()) {
        (Some(u), Some(s)) => (u, s),
        _ => return Err(Error::InvalidToken),
    };
    let (user, session) = state.store.user_and_session(user_id, session_id).await?;
    let now = state.clock.now();
    match (user, session) {
        (Some(user), Some(session))
            if holds(&user, &session, now) && session.access_jti.as_deref().is_none_or(|live| live == claims.jti) =>
        {
            Ok(Authenticated { claims, user, session })
        }
        _ => Err(Error::InvalidToken),
    }
}
