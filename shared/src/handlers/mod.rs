//! One module per endpoint, plus what several of them share: authentication of bearer
//! requests, session creation and the response shapes of `api.md`.

pub mod email;
pub mod guest;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod me;
pub mod password;
pub mod refresh;
pub mod register;
pub mod sessions;
pub mod verify;

use http::StatusCode;
use serde::Serialize;
use uuid::Uuid;

use crate::clock::{rfc3339, UnixMs};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;
use crate::store::{NewSession, SessionRecord, UserRecord};
use crate::tokens::{AccessClaims, RefreshToken, Subject, TokenError};

/// The User object of `api.md`.
#[derive(Debug, Serialize)]
pub struct UserView<'a> {
    pub id: Uuid,
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub role: &'a str,
    pub tier: &'a str,
    pub is_guest: bool,
    pub preferences: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a UserRecord> for UserView<'a> {
    fn from(user: &'a UserRecord) -> Self {
        UserView {
            id: user.id,
            username: user.username.as_deref(),
            email: user.email.as_deref(),
            email_verified: user.email_verified,
            display_name: user.display_name.as_deref(),
            first_name: user.first_name.as_deref(),
            last_name: user.last_name.as_deref(),
            role: &user.role,
            tier: &user.tier,
            is_guest: user.is_guest,
            preferences: serde_json::from_str(&user.preferences)
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// The TokenResponse of `api.md`; `user` only where the contract includes it.
#[derive(Debug, Serialize)]
pub struct TokenResponse<'a> {
    pub token_type: &'static str,
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView<'a>>,
}

pub fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Expired => ApiError::TokenExpired,
        TokenError::Invalid => ApiError::InvalidToken,
    }
}

/// An access token for `session`, paired with `refresh` in a TokenResponse.
pub fn tokens_for(
    state: &AppState,
    session: &SessionRecord,
    refresh: &RefreshToken,
    user: Option<&UserRecord>,
    status: StatusCode,
    now_ms: UnixMs,
) -> Result<ApiResponse, ApiError> {
    let subject = Subject {
        user_id: session.user_id,
        session_id: session.session_id,
        role: &session.role,
        tier: &session.tier,
        guest: session.guest,
    };
    let (access_token, _) = state
        .tokens
        .issue_access(&subject, now_ms.to_unix_secs())
        .map_err(|_| ApiError::internal("could not sign an access token"))?;
    let refresh_deadline = session.idle_expires_at.min(session.expires_at);
    let body = TokenResponse {
        token_type: "Bearer",
        access_token,
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token: refresh.encode(),
        refresh_expires_in: (refresh_deadline.saturating_sub(now_ms) + 500).div_euclid(1000).max(0),
        user: user.map(UserView::from),
    };
    Ok(ApiResponse::json(status, &body))
}

/// A new session of `user` begun by `req`, and its first refresh token. Not stored yet.
pub fn new_session(
    state: &AppState,
    user: &UserRecord,
    req: &ApiRequest,
    now_ms: UnixMs,
) -> Result<(SessionRecord, RefreshToken), ApiError> {
    let session_id = Uuid::new_v4();
    let refresh = RefreshToken::generate(user.id, session_id).map_err(|_| ApiError::internal("random failed"))?;
    // A guest's session never outlives the guest's own idle expiry.
    let idle = match user.is_guest {
        true => state.config.refresh_idle.min(state.config.guest_idle),
        false => state.config.refresh_idle,
    };
    let idle_expires_at = now_ms.plus(idle);
    let expires_at = now_ms.plus(state.config.session_max);
    let record = SessionRecord::new(NewSession {
        session_id,
        user_id: user.id,
        now: now_ms,
        idle_expires_at,
        expires_at,
        current_hash: refresh.hash(),
        generation: refresh.generation,
        role: user.role.clone(),
        tier: user.tier.clone(),
        guest: user.is_guest,
        credentials_version: user.credentials_version,
        device_key: user.device_key.clone(),
        user_agent: req.user_agent(),
        ip: req.source_ip.clone(),
    });
    Ok((record, refresh))
}

/// A bearer request whose token, session and user were all checked just now.
#[derive(Debug)]
pub struct Authenticated {
    pub claims: AccessClaims,
    pub user: UserRecord,
    pub session: SessionRecord,
}

/// Verifies the bearer token, then checks its session and user in the database in one
/// round trip, so revocation takes effect at once.
pub async fn authenticate(state: &AppState, req: &ApiRequest) -> Result<Authenticated, ApiError> {
    let outcome = match req.bearer_token().and_then(|token| verified_claims(state, token)) {
        Ok(claims) => live_session(state, claims).await,
        Err(e) => Err(e),
    };
    outcome.map_err(|e| refused(req, "authenticate", e))
}

/// Logs the one auth event of a bearer request whose token was refused (401; an outage is
/// not an auth outcome), and hands the error on.
pub fn refused(req: &ApiRequest, event: &'static str, error: ApiError) -> ApiError {
    if error.status() == StatusCode::UNAUTHORIZED {
        audit(req, event, error.code(), None);
    }
    error
}

pub fn verified_claims(state: &AppState, token: &str) -> Result<AccessClaims, ApiError> {
    state.tokens.verify_access(token, state.clock.now_secs()).map_err(token_error)
}

/// The session and user behind verified claims, if both are still live.
pub async fn live_session(state: &AppState, claims: AccessClaims) -> Result<Authenticated, ApiError> {
    let (user_id, session_id) = match (claims.user_id(), claims.session_id()) {
        (Some(u), Some(s)) => (u, s),
        _ => return Err(ApiError::InvalidToken),
    };
    let (user, session) = state.store.user_and_session(user_id, session_id).await?;
    let now = state.clock.now();
    match (user, session) {
        (Some(user), Some(session))
            if user.is_live(now) && session.is_live(now) && session.credentials_version == user.credentials_version =>
        {
            Ok(Authenticated { claims, user, session })
        }
        _ => Err(ApiError::InvalidToken),
    }
}

/// One structured event per auth outcome. Never pass secrets here.
pub fn audit(req: &ApiRequest, event: &'static str, outcome: &'static str, user_id: Option<Uuid>) {
    match user_id {
        Some(id) => {
            tracing::info!(request_id = %req.request_id, event, outcome, user_id = %id, "auth")
        }
        None => tracing::info!(request_id = %req.request_id, event, outcome, "auth"),
    }
}
