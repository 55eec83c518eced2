//! `POST /guest` and `POST /guest/upgrade`: device-bound guests that can become full accounts
//! under the same user id.

use uuid::Uuid;

use crate::audit::audit;
use crate::auth::bearer::authenticate;
use crate::auth::issue::issue;
use crate::auth::session;
use crate::clock::UnixMs;
use crate::domain::{check_display_name, Email, Username, DEFAULT_ROLE, DEFAULT_TIER};
use crate::error::Error;
use crate::outcome::SignedIn;
use crate::password::{self, UserAttributes};
use crate::state::AppState;
use crate::store::keys::device_claim;
use crate::store::{Claim, ClaimRecord, StoreError, Upgrade, UserRecord};
use crate::web::request::ApiRequest;

pub const GUEST_DISPLAY_NAME: &str = "Guest User";
/// Attempts before giving up on a device whose claim keeps changing under us.
const ATTEMPTS: usize = 3;

pub async fn create(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let mut body = req.json_object(false)?;
    let device_id = body.req_str("device_id");
    if device_id.as_deref().is_some_and(|d| !(8..=200).contains(&d.chars().count())) {
        body.error("device_id", "Device id must be 8 to 200 characters long.");
    }
    body.finish()?;
    let device_id = device_id.ok_or_else(|| Error::field("device_id", "This field is required."))?;
    let claim_pk = device_claim(&device_id);

    for _ in 0..ATTEMPTS {
        let now = state.clock.now();
        let expires_at = now.plus(state.config.guest_idle);
        // A returning device gets its guest back, with a new session and a fresh idle expiry.
        if let Some(claim) = state.store.get_claim(claim_pk.clone()).await?.filter(|c| c.is_live(now)) {
            let user = state.store.get_user(claim.user_id).await?;
            if let Some(user) = user.as_ref().filter(|u| u.disabled) {
                audit(req, "guest", "account_disabled", Some(user.id));
                return Err(Error::AccountDisabled);
            }
            if let Some(mut user) = user.filter(|u| u.is_guest && u.is_live(now)) {
                user.expires_at = Some(expires_at);
                let (session, refresh) = session::open(state, &user, req, now)?;
                if state.store.touch_guest(user.id, &claim_pk, expires_at, now, Some(&session)).await? {
                    audit(req, "guest", "returning", Some(user.id));
                    return Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, false));
                }
            }
            continue;
        }
        let user = new_guest(&claim_pk, now, expires_at);
        let claim = ClaimRecord::new_device(claim_pk.clone(), user.id, expires_at);
        let (session, refresh) = session::open(state, &user, req, now)?;
        match state.store.create_guest(&user, &claim, &session, now).await {
            Ok(()) => {
                audit(req, "guest", "created", Some(user.id));
                return Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, true));
            }
            // Another first call for this device won; the next round returns its guest.
            Err(StoreError::Conflict(Claim::Device)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict)
}

fn new_guest(device_key: &str, now: UnixMs, expires_at: UnixMs) -> UserRecord {
    UserRecord::new_guest(Uuid::now_v7(), device_key, GUEST_DISPLAY_NAME, DEFAULT_ROLE, DEFAULT_TIER, now, expires_at)
}

pub async fn upgrade(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let auth = authenticate(state, req).await?;
    if !auth.user.is_guest {
        audit(req, "guest_upgrade", "not_guest", Some(auth.user.id));
        return Err(Error::NotGuest);
    }
    let mut body = req.json_object(false)?;
    let raw_email = body.req_str("email");
    let raw_username = body.opt_str("username");
    let display_name = body.opt_checked("display_name", check_display_name);
    let raw_password = body.req_str("password");
    let email = raw_email.as_deref().and_then(|e| Email::parse(e).map_err(|m| body.error("email", m)).ok());
    let username = raw_username.as_deref().and_then(|u| Username::parse(u).map_err(|m| body.error("username", m)).ok());
    let attributes = UserAttributes {
        username: raw_username.as_deref(),
        email: raw_email.as_deref(),
        display_name: display_name.as_deref(),
        ..Default::default()
    };
    let password = body.new_password("password", raw_password, attributes);
    body.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(Error::Malformed("email and password are required."));
    };

    let password_hash = password::hash(&password).await?;
    let display_name = display_name
        .or_else(|| auth.user.display_name.clone().filter(|d| d != GUEST_DISPLAY_NAME))
        .or_else(|| username.as_ref().map(|u| u.as_str().to_owned()))
        .unwrap_or_else(|| email.local_part().chars().take(100).collect());
    let upgrade = Upgrade {
        email: (email.as_str().to_owned(), email.key()),
        username: username.map(|u| (u.as_str().to_owned(), u.key())),
        display_name,
        password_hash,
    };
    let now = state.clock.now();
    let user = upgrade.apply(&auth.user, now);
    let (session, refresh) = session::open(state, &user, req, now)?;
    match state.store.upgrade_guest(&auth.user, &upgrade, &session, now).await {
        Ok(()) => {}
        // Lost a race with another upgrade (or edit) of this guest.
        Err(StoreError::Stale) => {
            let current = state.store.get_user(auth.user.id).await?;
            let error = match current {
                Some(u) if !u.is_guest => Error::NotGuest,
                _ => Error::Conflict,
            };
            audit(req, "guest_upgrade", error.code(), Some(auth.user.id));
            return Err(error);
        }
        Err(e) => {
            let error = Error::from(e);
            audit(req, "guest_upgrade", error.code(), Some(auth.user.id));
            return Err(error);
        }
    }
    // The credentials version moved on, which already shuts the guest sessions out; delete
    // them too so their refresh tokens die.
    if let Err(e) = state.store.delete_sessions_except(user.id, session.session_id).await {
        tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "guest sessions not deleted");
    }
    audit(req, "guest_upgrade", "success", Some(user.id));
    Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, false))
}
