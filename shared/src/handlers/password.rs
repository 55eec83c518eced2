//! `POST /password`: change the password with the current one; every session ends, the
//! caller's included, and a new session answers.

use crate::audit::audit;
use crate::auth::bearer::authenticate;
use crate::auth::issue::issue;
use crate::auth::reauth::require_password;
use crate::auth::session;
use crate::error::Error;
use crate::outcome::SignedIn;
use crate::password::{self, UserAttributes};
use crate::state::AppState;
use crate::store::StoreError;
use crate::web::request::ApiRequest;

pub async fn change(state: &AppState, req: &ApiRequest) -> Result<SignedIn, Error> {
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
    let (session, refresh) = session::open(state, &user, req, now)?;
    match state.store.change_password(&auth.user, &new_hash, &session, now).await {
        Ok(()) => {}
        // The password changed under us: the current password we checked is no longer it.
        Err(StoreError::Stale) => return Err(Error::InvalidCredentials),
        Err(e) => return Err(e.into()),
    }
    // The new credentials version already shuts every old session out of the bearer routes;
    // deleting them also kills their refresh tokens.
    if let Err(e) = state.store.delete_sessions_except(user.id, session.session_id).await {
        tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "old sessions not deleted");
    }
    audit(req, "change_password", "success", Some(user.id));
    Ok(SignedIn::account(issue(state, &session, &refresh, now)?, user, false))
}
