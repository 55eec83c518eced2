//! `POST /register`: a new account, its unique names and its first session, all or nothing.

use uuid::Uuid;

use crate::audit::audit;
use crate::auth::issue::issue;
use crate::auth::session;
use crate::domain::{check_display_name, check_real_name, Email, Username, DEFAULT_ROLE, DEFAULT_TIER};
use crate::error::Error;
use crate::outcome::SignedIn;
use crate::password::{self, UserAttributes};
use crate::state::AppState;
use crate::store::{NewAccount, UserRecord};
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
    let mut body = req.json_object(false)?;
    let raw_username = body.opt_str("username");
    let raw_email = body.opt_str("email");
    let raw_password = body.req_str("password");
    let confirmation = body.opt_str("password_confirmation");
    let display_name = body.opt_checked("display_name", check_display_name);
    let first_name = body.opt_checked("first_name", check_real_name);
    let last_name = body.opt_checked("last_name", check_real_name);
    // Only profiles whose clients pick a role at sign-up read one, from the allow-list.
    let role = match req.profile.rules().role_at_sign_up {
        true => body.opt_str("role"),
        false => None,
    };
    if role.as_ref().is_some_and(|r| !state.config.self_assignable_roles.contains(r)) {
        body.error("role", "The selected role is invalid.");
    }

    let username = match raw_username.as_deref().map(Username::parse) {
        Some(Err(message)) => {
            body.error("username", message);
            None
        }
        parsed => parsed.and_then(Result::ok),
    };
    let email = match raw_email.as_deref().map(Email::parse) {
        Some(Err(message)) => {
            body.error("email", message);
            None
        }
        parsed => parsed.and_then(Result::ok),
    };
    if raw_username.is_none() && raw_email.is_none() && !body.errors.contains_key("username") {
        body.error("username", "Provide a username or an email address.");
        body.error("email", "Provide a username or an email address.");
    }
    let attributes = UserAttributes {
        username: raw_username.as_deref(),
        email: raw_email.as_deref(),
        first_name: first_name.as_deref(),
        last_name: last_name.as_deref(),
        display_name: display_name.as_deref(),
    };
    let password = body.new_password("password", raw_password, attributes);
    if let (Some(password), Some(confirmation)) = (&password, &confirmation) {
        if confirmation != password.expose() {
            body.error("password_confirmation", "The two password fields didn't match.");
        }
    }
    body.finish()?;
    let password = password.ok_or_else(|| Error::field("password", "This field is required."))?;

    let password_hash = password::hash(&password).await?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let display_name = display_name.or_else(|| {
        let fallback = username.as_ref().map(|u| u.as_str()).or_else(|| email.as_ref().map(Email::local_part));
        fallback.map(|name| name.chars().take(100).collect())
    });
    let account = NewAccount {
        username: username.map(|u| (u.as_str().to_owned(), u.key())),
        email: email.map(|e| (e.as_str().to_owned(), e.key())),
        display_name,
        first_name,
        last_name,
        role: role.unwrap_or_else(|| DEFAULT_ROLE.to_owned()),
        tier: DEFAULT_TIER.to_owned(),
        password_hash,
    };
    let user = UserRecord::new_account(id, account, now);
    let (session, refresh) = session::open(state, &user, req, now)?;
    if let Err(e) = state.store.create_user(&user, &session).await {
        let error = Error::from(e);
        audit(req, "register", error.code(), None);
        return Err(error);
    }
    audit(req, "register", "success", Some(user.id));
    Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, true))
}
