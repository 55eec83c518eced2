//! `GET /sessions` and `DELETE /sessions/{id}`: the caller's live sessions.

use http::StatusCode;
use serde::Serialize;

use super::me::path_uuid;
use super::{audit, authenticate};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;

#[derive(Serialize)]
struct SessionView {
    id: uuid::Uuid,
    created_at: String,
    last_used_at: String,
    expires_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
    current: bool,
}

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<SessionView>,
}

pub async fn list(state: &AppState, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let auth = authenticate(state, req).await?;
    let now = state.clock.now();
    let mut sessions = state.store.sessions_of(auth.user.id).await?;
    sessions.retain(|s| s.is_live(now) && s.credentials_version == auth.user.credentials_version);
    sessions.sort_by_key(|s| s.created_at);
    let sessions = sessions
        .into_iter()
        .map(|s| SessionView {
            id: s.session_id,
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            expires_at: rfc3339(s.idle_expires_at.min(s.expires_at)),
            current: s.session_id == auth.session.session_id,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect();
    Ok(ApiResponse::json(StatusCode::OK, &SessionList { sessions }))
}

/// Another user's session id is looked up under the caller's own partition, so it is
/// exactly as unknown as an id that never existed.
pub async fn delete(state: &AppState, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let auth = authenticate(state, req).await?;
    let session_id = path_uuid(req, "id")?;
    if !state.store.end_session(auth.user.id, session_id).await? {
        return Err(ApiError::NotFound);
    }
    audit(req, "end_session", "success", Some(auth.user.id));
    Ok(ApiResponse::no_content())
}
