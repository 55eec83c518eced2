//! `POST /verify`: an access token's claims, if its signature, lifetime, session and user
//! all hold right now.

use http::StatusCode;
use serde::Serialize;

use super::{audit, live_session, verified_claims};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;
use crate::tokens::AccessClaims;

#[derive(Serialize)]
struct Verified<'a> {
    active: bool,
    claims: &'a AccessClaims,
}

pub async fn handle(state: &AppState, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let mut body = req.json_object(false)?;
    let token = body.req_str("token");
    body.finish()?;
    let token = token.unwrap_or_default();
    let outcome = match verified_claims(state, &token) {
        Ok(claims) => live_session(state, claims).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(auth) => {
            audit(req, "verify", "active", Some(auth.user.id));
            Ok(ApiResponse::json(StatusCode::OK, &Verified { active: true, claims: &auth.claims }))
        }
        Err(e) => {
            audit(req, "verify", e.code(), None);
            Err(e)
        }
    }
}
