//! `POST /refresh`: rotation in one conditional write, a grace window for retries, and
//! revocation of the whole session when an older token is replayed; sessions whose refresh
//! token does not rotate; and jwt-auth style exchange of a session's one access token.

use uuid::Uuid;

use crate::audit::{audit, refused};
use crate::auth::bearer::holds;
use crate::auth::issue::{access, issue};
use crate::clock::UnixMs;
use crate::error::Error;
use crate::outcome::SignedIn;
use crate::profile::Profile;
use crate::state::AppState;
use crate::store::{Exchange, Rotate, Rotation, SessionRecord};
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
    // Its user was disabled: told only to whoever holds a token the session handed out, and
    // only while the user still is.
    if session.ended_by_disable && session.issued(&presented.hash()) {
        if state.store.get_user(session.user_id).await?.is_some_and(|user| user.disabled) {
            audit(req, "refresh", "account_disabled", Some(session.user_id));
            return Err(Error::AccountDisabled);
        }
        audit(req, "refresh", "invalid_refresh_token", Some(session.user_id));
        return Err(Error::InvalidRefreshToken);
    }
    if !session.is_live(now) {
        audit(req, "refresh", "invalid_refresh_token", Some(session.user_id));
        return Err(Error::InvalidRefreshToken);
    }
    // A session whose refresh token does not rotate: the one token stays good until the
    // session's deadlines, and each use is a new access token.
    if session.fixed_refresh && session.current_hash == presented.hash() {
        audit(req, "refresh", "success", Some(session.user_id));
        return Ok(SignedIn::refreshed_without_rotation(issue(state, session, presented, now)?));
    }
    let grace_ms = state.config.refresh_reuse_grace.as_millis() as i64;
    // A grace of zero is none: a concurrent loser may read a clock a little behind the
    // winner's write, and "within 0 ms" would then let it through.
    let just_rotated = grace_ms > 0
        && session.previous_hash.as_deref() == Some(presented.hash().as_str())
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

/// Continues a session by exchanging its one live access token, expired or not, for a new one
/// (`crate::profile::TokenExchange`): one conditional write picks one winner, and the
/// presented token is dead everywhere from then on. Within the session's window only.
pub async fn exchange(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let now = state.clock.now();
    let claims = req
        .bearer_token()
        .and_then(|token| Ok(state.tokens.genuine_access(token, now.to_unix_secs())?))
        .map_err(|e| refused(req, "refresh", e))?;
    let (Some(user_id), Some(session_id)) = (claims.user_id(), claims.session_id()) else {
        return Err(refused(req, "refresh", Error::InvalidToken));
    };
    let (user, session) = state.store.user_and_session(user_id, session_id).await?;
    let live = match (&user, &session) {
        (Some(user), Some(session)) => holds(user, session, now) && session.access_jti.is_some(),
        _ => false,
    };
    if !live {
        // Told only to the token the disable caught: the session's live one (or the one it
        // just replaced), not any old token of the user's.
        let caught = session.as_ref().is_some_and(|s| {
            s.ended_by_disable
                && (s.access_jti.as_deref() == Some(claims.jti.as_str())
                    || s.previous_jti.as_deref() == Some(claims.jti.as_str()))
        });
        if caught && user.is_some_and(|user| user.disabled) {
            audit(req, "refresh", "account_disabled", Some(user_id));
            return Err(Error::AccountDisabled);
        }
        return Err(refused(req, "refresh", Error::InvalidToken));
    }
    let successor = Uuid::new_v4().to_string();
    let exchange = Exchange { user_id, session_id, presented_jti: &claims.jti, successor_jti: &successor, now };
    match state.store.exchange_access(exchange).await? {
        Rotation::Rotated(session) => {
            audit(req, "refresh", "success", Some(user_id));
            Ok(SignedIn::refreshed(access(state, &session, now)?))
        }
        // Lost to a concurrent exchange of the same token: within the grace window it gets
        // the winner's token id too; otherwise the token is dead.
        Rotation::Rejected(Some(current)) if within_grace(state, &current, &claims.jti, now) => {
            audit(req, "refresh", "grace_replay", Some(user_id));
            Ok(SignedIn::refreshed(access(state, &current, now)?))
        }
        Rotation::Rejected(_) => Err(refused(req, "refresh", Error::InvalidToken)),
    }
}

fn within_grace(state: &AppState, session: &SessionRecord, presented_jti: &str, now: UnixMs) -> bool {
    let profile = session.profile.as_deref().and_then(Profile::from_name).unwrap_or(Profile::Bookshelf);
    let grace = state.config.profile_settings.policy(profile).token_exchange.map_or(0, |e| e.grace.as_millis() as i64);
    // Zero is no grace (see `judge_rejected`).
    grace > 0
        && session.is_live(now)
        && session.previous_jti.as_deref() == Some(presented_jti)
        && session.exchanged_at.is_some_and(|at| now.millis_after(at) <= grace)
}
