//! `GET /.well-known/jwks.json`: the public signing keys, no API key needed.

use http::{header, HeaderValue, StatusCode};

use crate::http::ApiResponse;
use crate::state::AppState;

pub fn handle(state: &AppState) -> ApiResponse {
    let mut response = ApiResponse::json(StatusCode::OK, state.tokens.jwks());
    // Verifiers may cache the keys briefly; a rotation publishes the new key before using it.
    response.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
