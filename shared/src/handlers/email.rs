//! `POST /email/verification`, `/email/verify`, `/password/forgot` and `/password/reset`:
//! mailed one-time tokens (≥ 256 random bits, stored only as hashes, single use).

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::audit::audit;
use crate::auth::bearer::authenticate;
use crate::domain::{email_key, Email};
use crate::error::Error;
use crate::mail;
use crate::outcome::{Done, Mailed};
use crate::password::{self, UserAttributes};
use crate::rate_scope::RateScope;
use crate::state::AppState;
use crate::store::keys::{email_claim, login_backoff, username_claim};
use crate::store::{Issued, Quota, StoreError};
use crate::tokens::{OneTimeToken, Purpose};
use crate::web::request::ApiRequest;

const VERIFY_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
const RESET_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);
/// At most this many mails of one purpose per account per window.
const MAILS_PER_WINDOW: u32 = 3;
const MAIL_WINDOW: Duration = Duration::from_secs(3600);
/// `/password/forgot` answers no sooner than this, so the time it takes does not tell an
/// existing account (token write + mail) from an unknown one (two reads).
pub const FORGOT_MIN_DURATION: Duration = Duration::from_millis(350);

/// Stores a new token of `purpose` for `user_id` (unless the account's mail quota is spent),
/// then mails the link. A token whose mail fails is withdrawn, so none is left usable
/// without its email. `Ok(false)` when the quota was spent.
async fn mail_token(
    state: &AppState,
    req: &ApiRequest,
    user_id: Uuid,
    purpose: Purpose,
    compose: impl FnOnce(&str) -> mail::Mail,
) -> Result<Result<(), u64>, Error> {
    let now = state.clock.now();
    let (ttl, page) = match purpose {
        Purpose::VerifyEmail => (VERIFY_TOKEN_TTL, "verify-email"),
        Purpose::ResetPassword => (RESET_TOKEN_TTL, "reset-password"),
    };
    let token = OneTimeToken::generate(purpose, user_id).map_err(|_| Error::internal("random failed"))?;
    let hash = token.hash();
    let expires_at = now.plus(ttl);
    let quota = Quota { max_per_window: MAILS_PER_WINDOW, window: MAIL_WINDOW };
    match state.store.issue_one_time(user_id, purpose, &hash, expires_at, now, quota).await? {
        Issued::Capped { retry_after_ms } => return Ok(Err((retry_after_ms as u64).div_ceil(1000))),
        Issued::Stored => {}
    }
    let link = format!("{}/{page}?token={}", state.config.app_base_url, token.encode());
    if let Err(e) = state.mailer.send(&compose(&link), now).await {
        tracing::error!(request_id = %req.request_id, user_id = %user_id, error = %e, cause = ?e.0, "mail not sent");
        if let Err(e) = state.store.withdraw_one_time(user_id, purpose, &hash).await {
            tracing::error!(request_id = %req.request_id, user_id = %user_id, error = %e, "unsent token not withdrawn");
        }
    }
    Ok(Ok(()))
}

pub async fn request_verification(state: &AppState, req: &ApiRequest) -> Result<Mailed, Error> {
    let auth = authenticate(state, req).await?;
    req.json_object(true)?;
    let user = auth.user;
    if user.is_guest {
        return Err(Error::Forbidden("Guests have no email address to verify; upgrade the account first."));
    }
    let Some(address) = user.email.clone() else {
        return Err(Error::Forbidden("This account has no email address."));
    };
    if user.email_verified {
        return Err(Error::AlreadyVerified);
    }
    let name = user.display_name.clone().unwrap_or_default();
    let sent =
        mail_token(state, req, user.id, Purpose::VerifyEmail, |link| mail::verification(&address, &name, link)).await?;
    if let Err(retry_after) = sent {
        audit(req, "email_verification", "capped", Some(user.id));
        return Err(Error::rate_limited(RateScope::Verification, retry_after));
    }
    audit(req, "email_verification", "sent", Some(user.id));
    Ok(Mailed::Verification)
}

pub async fn verify_email(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    let mut body = req.json_object(false)?;
    let raw = body.req_str("token");
    body.finish()?;
    let token =
        raw.as_deref().and_then(|t| OneTimeToken::decode(t, Purpose::VerifyEmail)).ok_or(Error::InvalidToken)?;
    match state.store.verify_email(token.user_id, &token.hash(), state.clock.now()).await {
        Ok(()) => {
            audit(req, "verify_email", "success", Some(token.user_id));
            Ok(Done)
        }
        Err(StoreError::Missing) => {
            audit(req, "verify_email", "invalid_token", None);
            Err(Error::InvalidToken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Always the same 202, whether or not the address belongs to an account.
pub async fn forgot(state: &AppState, req: &ApiRequest) -> Result<Mailed, Error> {
    let started = Instant::now();
    let mut body = req.json_object(false)?;
    let raw = body.req_str("email");
    if let Some(Err(message)) = raw.as_deref().map(Email::parse) {
        body.error("email", message);
    }
    body.finish()?;
    let address = raw.unwrap_or_default();

    let owner = state.store.claim_owner(email_claim(&email_key(&address))).await?;
    // Unknown addresses read a (missing) user too, so both paths make the same reads.
    let user = state.store.get_user(owner.unwrap_or(Uuid::nil())).await?;
    let now = state.clock.now();
    match user.filter(|u| owner.is_some() && u.is_live(now) && !u.is_guest) {
        // A disabled account cannot reset its password: no mail, the same answer.
        Some(user) if user.disabled => audit(req, "password_forgot", "account_disabled", Some(user.id)),
        Some(user) => {
            let to = user.email.clone().unwrap_or(address);
            let name = user.display_name.clone().unwrap_or_default();
            let sent =
                mail_token(state, req, user.id, Purpose::ResetPassword, |link| mail::password_reset(&to, &name, link));
            let outcome = match sent.await? {
                Ok(()) => "sent",
                Err(_) => "capped",
            };
            audit(req, "password_forgot", outcome, Some(user.id));
        }
        None => audit(req, "password_forgot", "unknown_email", None),
    }
    if let Some(rest) = FORGOT_MIN_DURATION.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok(Mailed::PasswordReset)
}

pub async fn reset(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    let mut body = req.json_object(false)?;
    let raw_token = body.req_str("token");
    let raw_new = body.req_str("new_password");
    if raw_token.is_none() || raw_new.is_none() {
        return Err(Error::Validation(std::mem::take(&mut body.errors)));
    }
    let token = raw_token
        .as_deref()
        .and_then(|t| OneTimeToken::decode(t, Purpose::ResetPassword))
        .ok_or(Error::InvalidToken)?;
    let hash = token.hash();
    let now = state.clock.now();
    // Both reads at once: one round trip of waiting.
    let (user, pending) = tokio::try_join!(
        state.store.get_user(token.user_id),
        state.store.get_one_time(token.user_id, Purpose::ResetPassword),
    )?;
    let user = user.filter(|u| u.is_live(now));
    let (Some(user), true) = (user, pending.is_some_and(|p| p.hash == hash && p.expires_at > now)) else {
        audit(req, "password_reset", "invalid_token", None);
        return Err(Error::InvalidToken);
    };
    if user.disabled {
        audit(req, "password_reset", "account_disabled", Some(user.id));
        return Err(Error::AccountDisabled);
    }
    // The token is checked before the password rules, so they never help probe tokens.
    let new = body.new_password("new_password", raw_new, UserAttributes::of(&user));
    body.finish()?;
    let new = new.ok_or(Error::Malformed("new_password is required."))?;
    let new_hash = password::hash(&new).await?;
    match state.store.reset_password(user.id, &hash, &new_hash, state.clock.now()).await {
        Ok(()) => {}
        Err(StoreError::Missing) => return Err(Error::InvalidToken),
        Err(e) => return Err(e.into()),
    }
    // The new credentials version already shuts every session out; deleting them kills
    // their refresh tokens too. No auto-login: the user signs in with the new password.
    if let Err(e) = state.store.delete_sessions_of(user.id).await {
        tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "sessions not deleted after reset");
    }
    // A reset also lifts any login lock or disablement of the account's identifiers.
    let identifiers = [user.username_key.as_deref().map(username_claim), user.email_key.as_deref().map(email_claim)];
    let login_keys = identifiers.into_iter().flatten().map(|claim| login_backoff(&claim)).collect();
    if let Err(e) = state.store.clear_login_states(login_keys).await {
        tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "login back-off not cleared after reset");
    }
    audit(req, "password_reset", "success", Some(user.id));
    Ok(Done)
}
