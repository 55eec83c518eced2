//! `POST /password`: change the password with the current one; every session ends, the
//! caller's included, and a new session answers.

use http::StatusCode;

use super::me::require_password;
use super::{audit, authenticate, new_session, tokens_for};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::password::{self, UserAttributes};
use crate::state::AppState;
use crate::store::{StoreError, UserRecord};

pub async fn change(state: &AppState, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let auth = authenticate(state, req).await?;
    if auth.user.is_guest {
        return Err(ApiError::Forbidden("Guest accounts have no password; upgrade the account first."));
    }
    let mut body = req.json_object(false)?;
    let current = body.req_str("current_password");
    let raw_new = body.req_str("new_password");
    let new = password::read_new_password(&mut body, "new_password", raw_new, attributes(&auth.user));
    body.finish()?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::Malformed("current_password and new_password are required."));
    };
    require_password(&auth.user, &current, req, "change_password").await?;

    let new_hash = password::hash(&new).await?;
    let now = state.clock.now();
    let mut user = auth.user.clone();
    user.password_hash = Some(new_hash.clone());
    user.credentials_version += 1;
    user.version += 1;
    user.updated_at = now;
    let (session, refresh) = new_session(state, &user, req, now)?;
    match state.store.change_password(&auth.user, &new_hash, &session, now).await {
        Ok(()) => {}
        // The password changed under us: the current password we checked is no longer it.
        Err(StoreError::Stale) => return Err(ApiError::InvalidCredentials),
        Err(e) => return Err(e.into()),
    }
    // The new credentials version already shuts every old session out of the bearer routes;
    // deleting them also kills their refresh tokens.
    if let Err(e) = state.store.delete_sessions_except(user.id, session.session_id).await {
        tracing::error!(request_id = %req.request_id, user_id = %user.id, error = %e, "old sessions not deleted");
    }
    audit(req, "change_password", "success", Some(user.id));
    tokens_for(state, &session, &refresh, Some(&user), StatusCode::OK, now)
}

/// What a user's new password must not resemble.
pub fn attributes(user: &UserRecord) -> UserAttributes<'_> {
    UserAttributes {
        username: user.username.as_deref(),
        email: user.email.as_deref(),
        first_name: user.first_name.as_deref(),
        last_name: user.last_name.as_deref(),
        display_name: user.display_name.as_deref(),
    }
}
