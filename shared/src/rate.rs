//! App-level rate limits, counted in DynamoDB: per client IP in fixed one-minute windows,
//! and per login identifier with exponential back-off. The IP is the one the network saw
//! (API Gateway's `sourceIp`, or the TCP peer locally), never a client header.

use std::time::Duration;

use crate::clock::UnixMs;
use crate::error::Error;
use crate::rate_scope::RateScope;
use crate::state::AppState;
use crate::store::LoginState;
use crate::web::request::ApiRequest;

const WINDOW_SECONDS: i64 = 60;

/// Counts this request against its route's per-IP limit; 429 once the window is full.
pub async fn check_ip(state: &AppState, scope: RateScope, req: &ApiRequest) -> Result<(), Error> {
    if !state.config.rate_limits_enabled {
        return Ok(());
    }
    // A profile with limits of its own counts them in windows of its own.
    let (limit, window_name) = match state.config.profile_settings.per_minute(req.profile, scope) {
        Some(limit) => (limit, std::borrow::Cow::Owned(format!("{}:{}", req.profile.name(), scope.name()))),
        None => (state.config.rate_limits.per_minute.get(scope), std::borrow::Cow::Borrowed(scope.name())),
    };
    let now = state.clock.now_secs();
    let window = now - now.rem_euclid(WINDOW_SECONDS);
    let ip = req.source_ip.as_deref().unwrap_or("unknown");
    if state.store.count_in_window(&window_name, ip, window, limit, window + 2 * WINDOW_SECONDS).await? {
        Ok(())
    } else {
        tracing::info!(request_id = %req.request_id, scope = scope.name(), ip, "rate limited");
        Err(Error::rate_limited(scope, (window + WINDOW_SECONDS - now).max(1) as u64))
    }
}

/// How long the `failures`-th consecutive failure locks its identifier.
pub fn backoff(state: &AppState, failures: u32) -> Option<Duration> {
    let limits = &state.config.rate_limits;
    let beyond = failures.checked_sub(limits.lockout_after)?;
    let doubled = limits.lockout_base.saturating_mul(1u32 << beyond.min(20));
    Some(doubled.min(limits.lockout_max))
}

fn locked(retry_after_ms: i64) -> Error {
    Error::rate_limited(RateScope::Login, (retry_after_ms.max(1) as u64).div_ceil(1000))
}

/// Admits a login attempt for an identifier, or refuses it while the identifier is locked
/// or disabled. Admitted attempts are counted as failures up front (a success clears them),
/// and the attempt that reaches the threshold sets the lock itself, so parallel attempts
/// get no more guesses than sequential ones.
pub async fn admit_login(
    state: &AppState,
    login_pk: &str,
    current: Option<&LoginState>,
    known_account: bool,
) -> Result<(), Error> {
    if !state.config.rate_limits_enabled {
        return Ok(());
    }
    let limits = &state.config.rate_limits;
    let now = state.clock.now();
    let failures = current.map_or(0, |s| s.failures);
    if failures >= limits.disable_after {
        // Disabled until a password reset clears it (or, for identifiers of nobody, until TTL).
        return Err(locked(limits.lockout_max.as_millis() as i64));
    }
    if let Some(until) = current.map(|s| s.locked_until).filter(|until| *until > now) {
        return Err(locked(until.millis_after(now)));
    }
    let next = failures + 1;
    let locked_until = backoff(state, next).map_or(UnixMs::from_ms(0), |d| now.plus(d));
    let keep_for = match (next >= limits.disable_after, known_account) {
        (true, true) => Duration::from_secs(10 * 365 * 86_400),
        (true, false) => Duration::from_secs(30 * 86_400),
        _ => Duration::from_secs(86_400),
    };
    let record = LoginState::new(login_pk, next, locked_until, now.plus(keep_for).to_unix_secs());
    if state.store.reserve_login(&record, current.map(|s| s.failures)).await? {
        Ok(())
    } else {
        // Another attempt on this identifier was counted in between: refuse this one.
        Err(locked(1000))
    }
}
