//! Opening a session: its record (not stored yet) and its first refresh token.

use uuid::Uuid;

use crate::error::Error;
use crate::state::AppState;
use crate::store::{session_sk, user_pk, SessionRecord, UserRecord};
use crate::tokens::RefreshToken;
use crate::web::request::ApiRequest;

/// A new session of `user` begun by `req`, and its first refresh token.
pub fn open(
    state: &AppState,
    user: &UserRecord,
    req: &ApiRequest,
    now_ms: i64,
) -> Result<(SessionRecord, RefreshToken), Error> {
    let session_id = Uuid::new_v4();
    let refresh = RefreshToken::generate(user.id, session_id).map_err(|_| Error::internal("random failed"))?;
    // A guest's session never outlives the guest's own idle expiry.
    let idle = match user.is_guest {
        true => state.config.refresh_idle.min(state.config.guest_idle),
        false => state.config.refresh_idle,
    };
    let idle_expires_at = now_ms + idle.as_millis() as i64;
    let expires_at = now_ms + state.config.session_max.as_millis() as i64;
    let record = SessionRecord {
        pk: user_pk(user.id),
        sk: session_sk(session_id),
        session_id,
        user_id: user.id,
        created_at: now_ms,
        last_used_at: now_ms,
        idle_expires_at,
        expires_at,
        current_hash: refresh.hash(),
        previous_hash: None,
        rotated_at: None,
        generation: refresh.generation,
        role: user.role.clone(),
        tier: user.tier.clone(),
        guest: user.is_guest,
        credentials_version: user.credentials_version,
        device_key: user.device_key.clone(),
        user_agent: req.user_agent(),
        ip: req.source_ip.clone(),
        ttl: idle_expires_at.min(expires_at).div_euclid(1000),
    };
    Ok((record, refresh))
}
