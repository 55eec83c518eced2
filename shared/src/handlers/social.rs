//! `POST /social/{provider}` (sign in with Google or Apple by ID token) and the signed-in
//! user's identities: `GET /identities`, `POST /identities/{provider}` (link; a guest's first
//! link upgrades it), `DELETE /identities/{provider}` (unlink, never the last way in).
//!
//! Linking by email is automatic only when the provider says the address is verified **and**
//! the account's address is verified: anything else would hand an account to whoever controls
//! an unverified address at some provider.

use crate::audit::{audit, refused};
use crate::auth::bearer::authenticate;
use crate::auth::issue::issue;
use crate::auth::reauth::require_password;
use crate::auth::session;
use crate::domain::{check_display_name, check_real_name, email_key, Email, DEFAULT_ROLE, DEFAULT_TIER};
use crate::error::Error;
use crate::outcome::{Done, Identities, SignedIn};
use crate::social::{Provider, VerifiedIdentity};
use crate::state::AppState;
use crate::store::keys::{email_claim, identity_claim};
use crate::store::{Claim, LinkedIdentity, NewAccount, StoreError, UserRecord};
use crate::web::request::ApiRequest;

/// Rounds of sign-in against concurrent ones (the identity or email claimed meanwhile).
const ATTEMPTS: usize = 3;
/// A new user's display name when neither the app nor the token gives one.
const DEFAULT_DISPLAY_NAME: &str = "Reader";

/// The provider a path names, if users may sign in with it here.
fn provider(state: &AppState, req: &ApiRequest) -> Result<Provider, Error> {
    req.path_params
        .get("provider")
        .and_then(|name| Provider::from_name(name))
        .filter(|p| state.social.enabled(*p))
        .ok_or(Error::NotFound)
}

/// The body of a sign-in or link: the ID token, the raw nonce, and (sign-in) the names the app
/// collected, which Apple sends only on the first authorisation and never in the token.
struct TokenBody {
    id_token: String,
    nonce: Option<String>,
    display_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// Linking: the account's password, when it has one.
    current_password: Option<String>,
}

fn read_body(req: &ApiRequest) -> Result<TokenBody, Error> {
    let mut body = req.json_object(false)?;
    let id_token = body.req_str("id_token");
    let nonce = body.opt_str("nonce");
    let display_name = body.opt_checked("display_name", check_display_name);
    let first_name = body.opt_checked("first_name", check_real_name);
    let last_name = body.opt_checked("last_name", check_real_name);
    let current_password = body.opt_str("current_password");
    body.finish()?;
    let id_token = id_token.ok_or_else(|| Error::field("id_token", "This field is required."))?;
    Ok(TokenBody { id_token, nonce, display_name, first_name, last_name, current_password })
}

/// The verified identity of a request's ID token; a refusal is an auth event.
async fn verified(
    state: &AppState,
    req: &ApiRequest,
    provider: Provider,
    body: &TokenBody,
    event: &'static str,
) -> Result<VerifiedIdentity, Error> {
    let now = state.clock.now();
    let verified = state.social.verify(provider, &body.id_token, body.nonce.as_deref(), now).await;
    verified.map_err(|e| refused(req, event, e.into()))
}

fn linked(identity: &VerifiedIdentity, state: &AppState) -> LinkedIdentity {
    LinkedIdentity {
        provider: identity.provider.name().to_owned(),
        subject: identity.subject.clone(),
        email: identity.email.clone(),
        linked_at: state.clock.now(),
    }
}

/// The provider's address as the account's email: only a verified one that parses.
fn verified_email(identity: &VerifiedIdentity) -> Option<Email> {
    identity.email.as_deref().filter(|_| identity.email_verified).and_then(|e| Email::parse(e).ok())
}

/// `POST /social/{provider}`: 200 for the user the identity (or, both verified, the email)
/// already belongs to, 201 for a new user.
pub async fn sign_in(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let provider = provider(state, req)?;
    let body = read_body(req)?;
    let identity = verified(state, req, provider, &body, "social_sign_in").await?;
    let claim = identity_claim(provider.name(), &identity.subject);
    for _ in 0..ATTEMPTS {
        let now = state.clock.now();
        // A returning identity.
        if let Some(owner) = state.store.claim_owner(claim.clone()).await? {
            let user = state.store.get_user(owner).await?.filter(|u| u.is_live(now)).ok_or(Error::Conflict)?;
            match sign_in_existing(state, req, &user).await {
                Err(Error::Conflict) => continue,
                outcome => return outcome,
            }
        }
        // An address that already has an account: linked only if both sides verified it.
        if let Some(email) = identity.email.as_deref() {
            if let Some(owner) = state.store.claim_owner(email_claim(&email_key(email))).await? {
                let user = state.store.get_user(owner).await?.filter(|u| u.is_live(now));
                let Some(user) = user.filter(|u| identity.email_verified && u.email_verified) else {
                    audit(req, "social_sign_in", "account_exists", Some(owner));
                    return Err(Error::AccountExists);
                };
                if user.disabled {
                    audit(req, "social_sign_in", "account_disabled", Some(user.id));
                    return Err(Error::AccountDisabled);
                }
                if user.identities.iter().any(|i| i.provider == provider.name() && i.subject == identity.subject) {
                    // A concurrent first sign-in made this user just now: the next round finds it.
                    continue;
                }
                if user.identities.iter().any(|i| i.provider == provider.name()) {
                    // The account holds another identity of this provider.
                    audit(req, "social_sign_in", "account_exists", Some(user.id));
                    return Err(Error::AccountExists);
                }
                let (session, refresh) = session::open(state, &user, req, now)?;
                let link = linked(&identity, state);
                match state.store.link_identity(&user, &link, Some(&session), now).await {
                    Ok(()) => {
                        audit(req, "social_sign_in", "linked", Some(user.id));
                        let mut user = user;
                        user.identities.push(link);
                        return Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, false));
                    }
                    Err(StoreError::Stale | StoreError::Conflict(Claim::Identity)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // A new user.
        let user = new_user(state, &identity, &body);
        let (session, refresh) = session::open(state, &user, req, now)?;
        match state.store.create_social_user(&user, &session).await {
            Ok(()) => {
                audit(req, "social_sign_in", "created", Some(user.id));
                return Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, true));
            }
            // A concurrent first sign-in made the user, or someone took the address meanwhile:
            // the next round finds either.
            Err(StoreError::Conflict(Claim::Identity | Claim::Email)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict)
}

/// A session for the user an identity already belongs to. `Conflict`: the user changed since
/// it was read (read again).
async fn sign_in_existing(state: &AppState, req: &ApiRequest, user: &UserRecord) -> Result<SignedIn, Error> {
    if user.disabled {
        audit(req, "social_sign_in", "account_disabled", Some(user.id));
        return Err(Error::AccountDisabled);
    }
    let now = state.clock.now();
    let (session, refresh) = session::open(state, user, req, now)?;
    match state.store.open_login_session(user, &session, None, None).await {
        Ok(()) => {
            audit(req, "social_sign_in", "success", Some(user.id));
            Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user.clone(), false))
        }
        Err(StoreError::Stale) => Err(Error::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// A user made by its first social sign-in: the provider's address only if verified (an
/// unverified one would claim an address its owner may later want), names from the app.
fn new_user(state: &AppState, identity: &VerifiedIdentity, body: &TokenBody) -> UserRecord {
    let email = verified_email(identity);
    let display_name = body
        .display_name
        .clone()
        .or_else(|| email.as_ref().map(|e| e.local_part().chars().take(100).collect()))
        .unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned());
    let account = NewAccount {
        username: None,
        email: email.as_ref().map(|e| (e.as_str().to_owned(), e.key())),
        display_name: Some(display_name),
        first_name: body.first_name.clone(),
        last_name: body.last_name.clone(),
        role: DEFAULT_ROLE.to_owned(),
        tier: DEFAULT_TIER.to_owned(),
        password_hash: String::new(),
    };
    let now = state.clock.now();
    let mut user = UserRecord::new_account(uuid::Uuid::now_v7(), account, now);
    // Signs in with its identity only, until it sets a password (a reset mails one).
    user.password_hash = None;
    user.email_verified = email.is_some();
    user.email_verified_at = email.is_some().then_some(now);
    user.identities.push(linked(identity, state));
    user
}

/// `GET /identities`.
pub async fn list(state: &AppState, req: &ApiRequest) -> Result<Identities, Error> {
    let auth = authenticate(state, req).await?;
    Ok(Identities::of(auth.user))
}

/// A new way in (or one fewer) is a credential change: an account with a password proves it
/// again, as for a new email or password, so a stolen access token cannot plant a lasting one.
async fn reauthenticate(
    user: &UserRecord,
    current_password: Option<&str>,
    req: &ApiRequest,
    event: &'static str,
) -> Result<(), Error> {
    if user.password_hash.is_none() {
        return Ok(());
    }
    let Some(password) = current_password else {
        return Err(Error::field("current_password", "Your current password is required to change how you sign in."));
    };
    require_password(user, password, req, event).await
}

/// `POST /identities/{provider}`: links the token's identity to the caller's account (which
/// proves its password, if it has one); a guest's first link makes it a full account under
/// the same id.
pub async fn link(state: &AppState, req: &ApiRequest) -> Result<Identities, Error> {
    let auth = authenticate(state, req).await?;
    let provider = provider(state, req)?;
    let body = read_body(req)?;
    reauthenticate(&auth.user, body.current_password.as_deref(), req, "link_identity").await?;
    let identity = verified(state, req, provider, &body, "link_identity").await?;
    let claim = identity_claim(provider.name(), &identity.subject);
    let mut user = auth.user;
    for _ in 0..ATTEMPTS {
        match state.store.claim_owner(claim.clone()).await? {
            Some(owner) if owner == user.id => return Ok(Identities::of(user)),
            Some(owner) => {
                audit(req, "link_identity", "identity_taken", Some(user.id));
                tracing::info!(request_id = %req.request_id, other_user = %owner, "identity held by another user");
                return Err(Error::IdentityTaken);
            }
            None => {}
        }
        if user.identities.iter().any(|i| i.provider == provider.name()) {
            audit(req, "link_identity", "identity_taken", Some(user.id));
            return Err(Error::IdentityTaken);
        }
        let link = linked(&identity, state);
        let now = state.clock.now();
        let outcome = if user.is_guest {
            let email = verified_email(&identity);
            let email = email.as_ref().map(|e| (e.as_str().to_owned(), e.key()));
            let written = state
                .store
                .upgrade_guest_by_identity(
                    &user,
                    &link,
                    email.as_ref().map(|(a, k)| (a.as_str(), k.as_str())),
                    auth.session.session_id,
                    now,
                )
                .await;
            if written.is_ok() {
                // Its other guest sessions (other devices' sign-ins) end; this one lives on.
                if let Err(e) = state.store.delete_sessions_except(user.id, auth.session.session_id).await {
                    tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "guest sessions not deleted");
                }
            }
            written
        } else {
            state.store.link_identity(&user, &link, None, now).await
        };
        match outcome {
            Ok(()) => {
                audit(req, "link_identity", "success", Some(user.id));
                // The answer lists the ways in: those the user had, and this one.
                let mut identities = Identities::of(user);
                identities.linked.push(link);
                return Ok(identities);
            }
            // The address belongs to another account: sign in to that one instead.
            Err(StoreError::Conflict(Claim::Email)) => {
                audit(req, "link_identity", "account_exists", Some(user.id));
                return Err(Error::AccountExists);
            }
            Err(StoreError::Stale | StoreError::Conflict(Claim::Identity)) => {
                user = state.store.get_user(user.id).await?.ok_or(Error::InvalidToken)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict)
}

/// `DELETE /identities/{provider}` (`{current_password}` when the account has a password):
/// refused when it is the account's last way in.
pub async fn unlink(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    let auth = authenticate(state, req).await?;
    let name = req.path_params.get("provider").and_then(|p| Provider::from_name(p)).ok_or(Error::NotFound)?.name();
    let mut body = req.json_object(true)?;
    let current_password = body.opt_str("current_password");
    body.finish()?;
    reauthenticate(&auth.user, current_password.as_deref(), req, "unlink_identity").await?;
    let mut user = auth.user;
    for _ in 0..ATTEMPTS {
        if !user.identities.iter().any(|i| i.provider == name) {
            return Err(Error::NotFound);
        }
        if user.password_hash.is_none() && user.identities.len() == 1 {
            audit(req, "unlink_identity", "last_identity", Some(user.id));
            return Err(Error::LastIdentity);
        }
        match state.store.unlink_identity(&user, name, state.clock.now()).await {
            Ok(()) => {
                audit(req, "unlink_identity", "success", Some(user.id));
                return Ok(Done);
            }
            Err(StoreError::Stale) => user = state.store.get_user(user.id).await?.ok_or(Error::InvalidToken)?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict)
}
