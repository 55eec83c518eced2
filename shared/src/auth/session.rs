//! Opening a session: its record (not stored yet) and its first refresh token, under the
//! session policy of the profile the request came through.

use uuid::Uuid;

use crate::clock::UnixMs;
use crate::error::Error;
use crate::profile::Profile;
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
    let config = &state.config;
    let policy = config.profile_settings.policy(req.profile);
    // A guest's session never outlives the guest's own idle expiry.
    let idle = match user.is_guest {
        true => config.refresh_idle.min(config.guest_idle),
        false => config.refresh_idle,
    };
    let mut expires_at = now.plus(config.session_max);
    let mut idle_expires_at = now.plus(idle);
    if let Some(exchange) = policy.token_exchange {
        // Continued by exchanging its token: alive for the exchange window from its start.
        expires_at = now.plus(config.session_max.min(exchange.window));
        idle_expires_at = expires_at;
    }
    let record = SessionRecord::new(NewSession {
        session_id,
        user_id: user.id,
        now,
        idle_expires_at,
        expires_at,
        current_hash: refresh.hash(),
        generation: refresh.generation,
        role: user.role.clone(),
        tier: user.tier.clone(),
        guest: user.is_guest,
        credentials_version: user.credentials_version,
        device_key: user.device_key.clone(),
        user_agent: req.user_agent(),
        ip: req.source_ip.clone(),
        access_ttl_secs: policy.access_ttl.as_secs(),
        fixed_refresh: !policy.rotate_refresh,
        access_jti: policy.token_exchange.map(|_| Uuid::new_v4().to_string()),
        profile: (req.profile != Profile::Bookshelf).then(|| req.profile.name().to_owned()),
        legacy_id: user.legacy_id.clone(),
    });
    Ok((record, refresh))
}
