//! `POST /login`: by username or email; unknown users and wrong passwords look and cost the same.

use uuid::Uuid;

use crate::audit::audit;
use crate::auth::issue::issue;
use crate::auth::session;
use crate::domain::{email_key, username_key, MAX_KEY_BYTES};
use crate::error::Error;
use crate::outcome::SignedIn;
use crate::password;
use crate::rate;
use crate::rate_scope::RateScope;
use crate::state::AppState;
use crate::store::keys::{email_claim, login_backoff, username_claim};
use crate::store::{HashUpgrade, StoreError};
use crate::web::request::ApiRequest;

/// The per-IP window login counts against itself, alongside its first read (its route is
/// declared `InHandler(RateScope::Login)`).
pub const SCOPE: RateScope = RateScope::Login;
/// How often a login reads its user again after the user changed under it.
const STALE_ATTEMPTS: usize = 2;

pub async fn handle(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let started = tokio::time::Instant::now();
    let mut body = req.json_object(false)?;
    let username = body.opt_str("username");
    let email = body.opt_str("email");
    let password = body.req_str("password");
    if username.is_none() && email.is_none() {
        body.error("username", "Provide a username or an email address.");
        body.error("email", "Provide a username or an email address.");
    }
    body.finish()?;
    let password = password.ok_or_else(|| Error::field("password", "This field is required."))?;

    // The identifier as its uniqueness claim: usernames NFKC + lower-case, emails lower-case.
    // Profiles whose `username` field also takes the email address (ninja-jwt's login): a
    // value with an `@` is looked up as an email address.
    let (username, email) = match username {
        Some(u) if req.profile.rules().username_may_be_email && u.contains('@') && email.is_none() => {
            (None, Some(u.trim().to_owned()))
        }
        username => (username, email),
    };
    let (identifier, plausible) = match (&username, &email) {
        (Some(u), _) => {
            let key = username_key(u);
            let plausible = (1..=150).contains(&u.chars().count()) && key.len() <= MAX_KEY_BYTES;
            (username_claim(&key), plausible)
        }
        (None, Some(e)) => (email_claim(&email_key(e)), (1..=254).contains(&e.len())),
        (None, None) => return Err(Error::field("username", "Provide a username or an email address.")),
    };
    // Identifiers that could never have been registered are looked up as nobody, which also
    // keeps oversized strings out of database keys (the back-off key is a hash).
    let login_pk = login_backoff(&identifier);
    // Three sequential round trips: the per-IP window alongside the identifier's claim and
    // back-off state; then the attempt's reservation alongside the user read; then the session.
    let (_, (owner, login_state)) = tokio::try_join!(rate::check_ip(state, SCOPE, req), async {
        Ok(state.store.login_lookup(plausible.then_some(identifier), login_pk.clone()).await?)
    },)?;
    // Locked identifiers are refused before any password is checked, known or not alike.
    // Unknown identifiers still read a (missing) user, so both paths make the same calls.
    let (admitted, user) = tokio::join!(
        rate::admit_login(state, &login_pk, login_state.as_ref(), owner.is_some()),
        state.store.get_user(owner.unwrap_or(Uuid::nil())),
    );
    if let Err(locked) = admitted {
        audit(req, "login", locked.code(), None);
        return Err(locked);
    }
    let user = user?;
    let now = state.clock.now();
    let user = user.filter(|u| owner.is_some() && u.is_live(now) && !u.is_guest);

    let verdict = password::verify(&password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    let mut user = match user {
        Some(user) if verdict.matches => user,
        _ => return Err(refuse(state, req, started, None).await),
    };

    // A legacy or outdated hash is replaced by argon2id in the same write that opens the
    // session: the upgrade and the login happen together or not at all.
    let upgraded = match verdict.needs_rehash {
        true => Some(password::rehash(&password).await?),
        false => None,
    };
    let verified_hash = user.password_hash.clone();
    let clear = state.config.rate_limits_enabled.then_some(login_pk);
    let mut attempts = 0;
    let (session, refresh) = loop {
        // Told only to whoever knows the password.
        if user.disabled {
            audit(req, "login", "account_disabled", Some(user.id));
            return Err(Error::AccountDisabled);
        }
        let (session, refresh) = session::open(state, &user, req, now)?;
        let upgrade = match (&upgraded, &verified_hash) {
            (Some(new_hash), Some(old_hash)) => Some(HashUpgrade { old_hash, new_hash, now }),
            _ => None,
        };
        match state.store.open_login_session(&user, &session, clear.clone(), upgrade).await {
            Ok(()) => break (session, refresh),
            // The user changed since it was read: disabled, a new role or tier (open the
            // session from the new record), or a new password (which wins).
            Err(StoreError::Stale) if attempts < STALE_ATTEMPTS => {
                attempts += 1;
                match state.store.get_user(user.id).await? {
                    Some(fresh) if fresh.password_hash == verified_hash => user = fresh,
                    _ => return Err(refuse(state, req, started, Some(user.id)).await),
                }
            }
            Err(StoreError::Stale) => return Err(Error::Conflict),
            Err(e) => return Err(e.into()),
        }
    };
    audit(req, "login", "success", Some(user.id));
    Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, false))
}

/// A failed login: logged, then answered no sooner than the floor after it began. Imported
/// hashes cost their scheme's time (bcrypt, PBKDF2), unknown users the dummy argon2, so a
/// failure's time must not tell an imported account from a native or an unknown one.
async fn refuse(state: &AppState, req: &ApiRequest, started: tokio::time::Instant, user_id: Option<Uuid>) -> Error {
    audit(req, "login", "invalid_credentials", user_id);
    tokio::time::sleep_until(started + state.config.login_failure_floor).await;
    Error::InvalidCredentials
}
