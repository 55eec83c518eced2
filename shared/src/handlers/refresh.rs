//! `POST /refresh`: rotation in one conditional write, a grace window for retries, and
//! revocation of the whole session when an older token is replayed.

use crate::audit::audit;
use crate::auth::issue::issue;
use crate::clock::UnixMs;
use crate::error::Error;
use crate::outcome::SignedIn;
use crate::state::AppState;
use crate::store::{Rotate, Rotation, SessionRecord};
use crate::tokens::RefreshToken;
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let mut body = req.json_object(false)?;
    let presented = body.req_str("refresh_token");
    body.finish()?;
    let presented = presented.as_deref().and_then(RefreshToken::decode).ok_or(Error::InvalidRefreshToken)?;
    let successor = state.tokens.successor(&presented);
    let now = state.clock.now();
    let idle_expires_at = now.plus(state.config.refresh_idle);

    let (presented_hash, successor_hash) = (presented.hash(), successor.hash());
    let rotation = state
        .store
        .rotate_refresh(Rotate {
            user_id: presented.user_id,
            session_id: presented.session_id,
            presented_hash: &presented_hash,
            successor_hash: &successor_hash,
            successor_generation: successor.generation,
            now,
            idle_expires_at,
        })
        .await?;
    match rotation {
        Rotation::Rotated(session) => {
            if !keep_guest_alive(state, &session, now).await? {
                // The guest expired (idle) before this refresh: it is never served again.
                state.store.delete_session(session.user_id, session.session_id).await?;
                audit(req, "refresh", "guest_expired", Some(session.user_id));
                return Err(Error::InvalidRefreshToken);
            }
            audit(req, "refresh", "success", Some(session.user_id));
            Ok(SignedIn::refreshed(issue(state, &session, &successor, now)?))
        }
        Rotation::Rejected(None) => {
            audit(req, "refresh", "invalid_refresh_token", None);
            Err(Error::InvalidRefreshToken)
        }
        Rotation::Rejected(Some(session)) => judge_rejected(state, req, &session, &presented, &successor, now).await,
    }
}

/// Each refresh of a guest session pushes the guest's idle expiry forward (one more write,
/// guests only); `false` when the guest has already expired.
async fn keep_guest_alive(state: &AppState, session: &SessionRecord, now: UnixMs) -> Result<bool, Error> {
    match (&session.device_key, session.guest) {
        (Some(device), true) => {
            let expires_at = now.plus(state.config.guest_idle);
            Ok(state.store.touch_guest(session.user_id, device, expires_at, now, None).await?)
        }
        _ => Ok(true),
    }
}

/// The presented token did not match the live one: decide between a retry within the grace
/// window (answered with the same successor), reuse of an old token (the session dies), and
/// a dead or forged token.
async fn judge_rejected(
    state: &AppState,
    req: &ApiRequest,
    session: &SessionRecord,
    presented: &RefreshToken,
    successor: &RefreshToken,
    now: UnixMs,
) -> Result<SignedIn, Error> {
    if !session.is_live(now) {
        audit(req, "refresh", "invalid_refresh_token", Some(session.user_id));
        return Err(Error::InvalidRefreshToken);
    }
    let grace_ms = state.config.refresh_reuse_grace.as_millis() as i64;
    let just_rotated = session.previous_hash.as_deref() == Some(presented.hash().as_str())
        && session.current_hash == successor.hash()
        && session.rotated_at.is_some_and(|at| now.millis_after(at) <= grace_ms);
    if just_rotated {
        audit(req, "refresh", "grace_replay", Some(session.user_id));
        return Ok(SignedIn::refreshed(issue(state, session, successor, now)?));
    }
    if presented.generation < session.generation {
        state.store.delete_session(session.user_id, session.session_id).await?;
        tracing::warn!(
            request_id = %req.request_id,
            user_id = %session.user_id,
            session_id = %session.session_id,
            "refresh token reuse: session revoked"
        );
        audit(req, "refresh", "refresh_token_reused", Some(session.user_id));
        return Err(Error::RefreshTokenReused);
    }
    audit(req, "refresh", "invalid_refresh_token", Some(session.user_id));
    Err(Error::InvalidRefreshToken)
}
