//! `POST /password`: change the password with the current one; every session ends, the
//! caller's included, and a new session answers (unless the caller's profile keeps it).

use crate::audit::audit;
use crate::auth::bearer::authenticate;
use crate::auth::issue::issue;
use crate::auth::reauth::require_password;
use crate::auth::session;
use crate::error::Error;
use crate::outcome::{PasswordChanged, SignedIn};
use crate::password::{self, UserAttributes};
use crate::state::AppState;
use crate::store::{SessionAfter, StoreError};
use crate::web::request::ApiRequest;

pub async fn change(state: &AppState, req: &ApiRequest) -> Result<PasswordChanged, Error> {
    let auth = authenticate(state, req).await?;
    if auth.user.is_guest {
        return Err(Error::Forbidden("Guest accounts have no password; upgrade the account first."));
    }
    let mut body = req.json_object(false)?;
    let current = body.req_str("current_password");
    let raw_new = body.req_str("new_password");
    let new = body.new_password("new_password", raw_new, UserAttributes::of(&auth.user));
    body.finish()?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(Error::Malformed("current_password and new_password are required."));
    };
    require_password(&auth.user, &current, req, "change_password").await?;

    let new_hash = password::hash(&new).await?;
    let now = state.clock.now();
    let user = auth.user.with_new_password(&new_hash, now);
    // Every other session ends; the caller's either gives way to a new one (native) or, where
    // its profile's clients keep their one token, moves to the new credentials.
    let (kept, opened) = if req.profile.rules().password_change_keeps_session {
        (auth.session.session_id, None)
    } else {
        let (session, refresh) = session::open(state, &user, req, now)?;
        (session.session_id, Some((session, refresh)))
    };
    let after = match &opened {
        Some((session, _)) => SessionAfter::Open(session),
        None => SessionAfter::Keep(kept),
    };
    match state.store.change_password(&auth.user, &user, after).await {
        Ok(()) => {}
        // The password changed under us (the current password we checked is no longer it), the
        // kept session ended meanwhile, or the back office changed the account (disabled: the
        // caller's session is gone too; a new tier or role: try again).
        Err(StoreError::Stale) => {
            let current = state.store.get_user(user.id).await?;
            return Err(match current {
                Some(u) if u.password_hash == auth.user.password_hash && !u.disabled => Error::Conflict,
                _ => Error::InvalidCredentials,
            });
        }
        Err(e) => return Err(e.into()),
    }
    // The new credentials version already shuts every old session out of the bearer routes;
    // deleting them also kills their refresh tokens.
    if let Err(e) = state.store.delete_sessions_except(user.id, kept).await {
        tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "old sessions not deleted");
    }
    audit(req, "change_password", "success", Some(user.id));
    Ok(match opened {
        Some((session, refresh)) => {
            PasswordChanged::NewSession(SignedIn::account(issue(state, &session, &refresh, now)?, user, false))
        }
        None => PasswordChanged::SessionKept,
    })
}
