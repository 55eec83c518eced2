//! `GET /me`, `PATCH /me` and `DELETE /me`: the caller's own account.

use serde_json::{Map, Value};

use crate::audit::audit;
use crate::auth::bearer::authenticate;
use crate::auth::reauth::require_password;
use crate::domain::{check_display_name, check_real_name, Email, Username};
use crate::error::Error;
use crate::mail;
use crate::outcome::{Account, Done};
use crate::state::AppState;
use crate::store::{ProfileChanges, StoreError, UserRecord};
use crate::web::body::{JsonObject, Patch};
use crate::web::request::ApiRequest;

/// The largest preferences object, measured as compact JSON.
pub const MAX_PREFERENCES_BYTES: usize = 4 * 1024;
/// How often a profile write is retried after losing an optimistic-locking race.
const UPDATE_ATTEMPTS: usize = 3;

pub async fn get(state: &AppState, req: &ApiRequest) -> Result<Account, Error> {
    let auth = authenticate(state, req).await?;
    Ok(Account::read(auth.user))
}

/// A validated PATCH body, independent of the user it is applied to.
struct ProfileInput {
    username: Option<Username>,
    email: Option<Email>,
    display_name: Option<String>,
    first_name: Option<Option<String>>,
    last_name: Option<Option<String>>,
    preferences: Option<String>,
}

impl ProfileInput {
    fn read(body: &mut JsonObject) -> Self {
        let username = body.patch_set_only("username", "A username cannot be removed.", |raw| Username::parse(&raw));
        let email = body.patch_set_only("email", "An email address cannot be removed.", |raw| Email::parse(&raw));
        let display_name =
            body.patch_set_only("display_name", "Display name must be 1 to 100 characters long.", |raw| {
                check_display_name(&raw).map(|()| raw)
            });
        let mut real_name = |field: &str| match body.patch_str(field) {
            Patch::Value(v) => check_real_name(&v).map_err(|m| body.error(field, m)).ok().map(|()| Some(v)),
            Patch::Null => Some(None),
            Patch::Absent => None,
        };
        let first_name = real_name("first_name");
        let last_name = real_name("last_name");
        let preferences = body.opt_object("preferences").and_then(|map: Map<String, Value>| {
            let text = Value::Object(map).to_string();
            if text.len() > MAX_PREFERENCES_BYTES {
                body.error("preferences", "Preferences must be a JSON object of at most 4 KiB.");
                return None;
            }
            Some(text)
        });
        ProfileInput { username, email, display_name, first_name, last_name, preferences }
    }

    /// The changes this input makes to `user`: unchanged names are left alone, and a new
    /// email address (not merely a new spelling of the same one) starts unverified.
    fn changes_for(&self, user: &UserRecord) -> ProfileChanges {
        let username = self
            .username
            .as_ref()
            .filter(|u| user.username.as_deref() != Some(u.as_str()))
            .map(|u| (u.as_str().to_owned(), u.key()));
        let email = self
            .email
            .as_ref()
            .filter(|e| user.email.as_deref() != Some(e.as_str()))
            .map(|e| (e.as_str().to_owned(), e.key()));
        let email_verified = match &email {
            Some((_, key)) if user.email_key.as_deref() != Some(key) => Some(false),
            _ => None,
        };
        ProfileChanges {
            username,
            email,
            email_verified,
            display_name: self.display_name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            preferences: self.preferences.clone(),
        }
    }
}

pub async fn update(state: &AppState, req: &ApiRequest) -> Result<Account, Error> {
    let auth = authenticate(state, req).await?;
    let mut body = req.json_object(false)?;
    let input = ProfileInput::read(&mut body);
    let current_password = body.opt_str("current_password");
    let first = input.changes_for(&auth.user);
    let changes_credentials = first.username.is_some() || first.email.is_some();
    if changes_credentials && auth.user.is_guest {
        return Err(Error::Forbidden("Guests choose a username and email by upgrading their account."));
    }
    // A profile whose clients change their email without the password tells the old address.
    let needs_password =
        changes_credentials && (req.profile.rules().email_change_needs_password || first.username.is_some());
    if needs_password && current_password.is_none() {
        body.error("current_password", "Your current password is required to change your username or email.");
    }
    body.finish()?;
    if needs_password {
        require_password(&auth.user, current_password.as_deref().unwrap_or_default(), req, "update_profile").await?;
    }

    let mut user = auth.user;
    for attempt in 1..=UPDATE_ATTEMPTS {
        let changes = input.changes_for(&user);
        let now = state.clock.now();
        match state.store.update_user(&user, &changes, now).await {
            Ok(updated) => {
                audit(req, "update_profile", "success", Some(updated.id));
                // A new address, not a new spelling of the same one.
                if !needs_password && changes.email_verified == Some(false) {
                    tell_old_address(state, req, &user, &updated).await;
                }
                return Ok(Account::updated(updated));
            }
            // Another request changed the account first: apply this one on top of it.
            Err(StoreError::Stale) if attempt < UPDATE_ATTEMPTS => {
                user = state.store.get_user(user.id).await?.ok_or(Error::InvalidToken)?;
            }
            Err(e) => {
                let error = Error::from(e);
                audit(req, "update_profile", error.code(), Some(user.id));
                return Err(error);
            }
        }
    }
    Err(Error::Conflict)
}

/// Mails the old address of an email change made without the password, so its owner learns
/// of a change they did not make. Best effort: the change itself has happened.
async fn tell_old_address(state: &AppState, req: &ApiRequest, before: &UserRecord, after: &UserRecord) {
    let (Some(old), Some(new)) = (before.email.as_deref(), after.email.as_deref()) else { return };
    let name = after.display_name.clone().unwrap_or_default();
    let link = format!("{}/forgot-password", state.config.app_base_url);
    if let Err(e) = state.mailer.send(&mail::email_changed(old, new, &name, &link), state.clock.now()).await {
        tracing::error!(request_id = %req.request_id, user_id = %after.id, error = %e, "email change notice not sent");
    }
}

pub async fn delete(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    let auth = authenticate(state, req).await?;
    let mut body = req.json_object(true)?;
    let password = body.opt_str("password");
    // Guests and accounts that sign in only with a social identity have no password to give.
    let has_password = auth.user.password_hash.is_some();
    if has_password && password.is_none() {
        body.require("password");
    }
    body.finish()?;
    if has_password {
        require_password(&auth.user, password.as_deref().unwrap_or_default(), req, "delete_account").await?;
    }
    remove_account(state, req, &auth.user).await?;
    audit(req, "delete_account", "success", Some(auth.user.id));
    Ok(Done)
}

/// Deletes a user, its unique names and every session (self-service and back-office
/// deletion alike).
pub async fn remove_account(state: &AppState, req: &ApiRequest, user: &UserRecord) -> Result<(), Error> {
    // Sessions first: a failure after this leaves a user who can still log in and retry.
    state.store.delete_sessions_of(user.id).await?;
    let mut current = user.clone();
    for attempt in 1..=UPDATE_ATTEMPTS {
        match state.store.delete_user(&current).await {
            Ok(()) => break,
            // Changed since it was read (a claim may have joined it): delete it as it is now.
            Err(StoreError::Stale) => match state.store.get_user(user.id).await? {
                None => break,
                Some(_) if attempt == UPDATE_ATTEMPTS => return Err(Error::Conflict),
                Some(fresh) => current = fresh,
            },
            Err(e) => return Err(e.into()),
        }
    }
    // A login that raced the deletion may have opened one more session; it is useless without
    // its user, and this sweep removes it.
    if let Err(e) = state.store.delete_sessions_of(user.id).await {
        tracing::warn!(request_id = %req.request_id, user_id = %user.id, error = %e, "post-delete session sweep failed");
    }
    Ok(())
}
