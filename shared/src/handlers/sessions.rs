//! `GET /sessions` and `DELETE /sessions/{id}`: the caller's live sessions.

use crate::audit::audit;
use crate::auth::bearer::authenticate;
use crate::error::Error;
use crate::outcome::{Done, Sessions};
use crate::state::AppState;
use crate::web::request::ApiRequest;

pub async fn list(state: &AppState, req: &ApiRequest) -> Result<Sessions, Error> {
    let auth = authenticate(state, req).await?;
    let now = state.clock.now();
    let mut sessions = state.store.sessions_of(auth.user.id).await?;
    sessions.retain(|s| s.is_live(now) && s.credentials_version == auth.user.credentials_version);
    sessions.sort_by_key(|s| s.created_at);
    Ok(Sessions { sessions, current: auth.session.session_id })
}

/// Another user's session id is looked up under the caller's own partition, so it is
/// exactly as unknown as an id that never existed.
pub async fn delete(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    let auth = authenticate(state, req).await?;
    let session_id = req.path_uuid("id")?;
    if !state.store.end_session(auth.user.id, session_id).await? {
        return Err(Error::NotFound);
    }
    audit(req, "end_session", "success", Some(auth.user.id));
    Ok(Done)
}
