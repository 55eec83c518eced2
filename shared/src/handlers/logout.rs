//! `POST /logout`: ends the access token's session, a named session of the caller, or all
//! of the caller's sessions. Repeating it is harmless.

use crate::audit::{audit, refused};
use crate::auth::bearer::{live_session, verified_claims};
use crate::error::Error;
use crate::outcome::Done;
use crate::state::AppState;
use crate::tokens::RefreshToken;
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    let claims =
        req.bearer_token().and_then(|token| verified_claims(state, token)).map_err(|e| refused(req, "logout", e))?;
    let mut body = req.json_object(true)?;
    let refresh_token = body.opt_str("refresh_token");
    let all_sessions = body.opt_bool("all_sessions").unwrap_or(false);
    body.finish()?;
    let (user_id, session_id) = match (claims.user_id(), claims.session_id()) {
        (Some(u), Some(s)) => (u, s),
        _ => return Err(Error::InvalidToken),
    };

    if all_sessions {
        // Acting on other sessions needs a session that is still live.
        let auth = live_session(state, claims.clone()).await.map_err(|e| refused(req, "logout", e))?;
        let ended = state.store.delete_sessions_of(auth.user.id).await?;
        tracing::info!(request_id = %req.request_id, user_id = %user_id, ended, "logout all sessions");
        audit(req, "logout_all", "success", Some(user_id));
    } else if let Some(text) = refresh_token {
        let auth = live_session(state, claims.clone()).await.map_err(|e| refused(req, "logout", e))?;
        let target =
            RefreshToken::decode(&text).ok_or_else(|| Error::field("refresh_token", "This is not a refresh token."))?;
        if target.user_id != auth.user.id {
            audit(req, "logout", "forbidden", Some(user_id));
            return Err(Error::Forbidden("This refresh token belongs to another account."));
        }
        state.store.delete_session(user_id, target.session_id).await?;
        audit(req, "logout", "success", Some(user_id));
    } else {
        // Deleting one's own session is idempotent natively, so a signed token is enough here
        // (one conditional delete: a token its session has replaced ends nothing).
        let ended = state.store.end_session_of_token(user_id, session_id, &claims.jti).await?;
        if !ended && !req.profile.rules().idempotent_logout {
            return Err(refused(req, "logout", Error::InvalidToken));
        }
        audit(req, "logout", "success", Some(user_id));
    }
    Ok(Done)
}
