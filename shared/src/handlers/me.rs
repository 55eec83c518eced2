//! `GET /me`: the caller's user, fresh from the database.

use http::StatusCode;

use super::{authenticate, UserView};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;

pub async fn get(state: &AppState, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let auth = authenticate(state, req).await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &UserView::from(&auth.user),
    ))
}
