//! Opening a session: its record (not stored yet) and its first refresh token.

use uuid::Uuid;

use crate::clock::UnixMs;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{NewSession, SessionRecord, UserRecord};
use crate::tokens::RefreshToken;
use crate::web::request::ApiRequest;

/// A new session of `user` begun by `req`, and its first refresh token.
pub fn open(
    state: &AppState,
    user: &UserRecord,
    req: &ApiRequest,
    now: UnixMs,
) -> Result<(SessionRecord, RefreshToken), Error> {
    let session_id = Uuid::new_v4();
    let refresh = RefreshToken::generate(user.id, session_id).map_err(|_| Error::internal("random failed"))?;
    // A guest's session never outlives the guest's own idle expiry.
    let idle = match user.is_guest {
        true => state.config.refresh_idle.min(state.config.guest_idle),
        false => state.config.refresh_idle,
    };
    let record = SessionRecord::new(NewSession {
        session_id,
        user_id: user.id,
        now,
        idle_expires_at: now.plus(idle),
        expires_at: now.plus(state.config.session_max),
        current_hash: refresh.hash(),
        generation: refresh.generation,
        role: user.role.clone(),
        tier: user.tier.clone(),
        guest: user.is_guest,
        credentials_version: user.credentials_version,
        device_key: user.device_key.clone(),
        user_agent: req.user_agent(),
        ip: req.source_ip.clone(),
    });
    Ok((record, refresh))
}
