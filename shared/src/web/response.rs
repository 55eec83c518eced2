//! The plain response a wire format writes and the Lambda edge or the local server sends.

use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        Self::json_with_type(status, value, "application/json; charset=utf-8")
    }

    pub fn json_with_type(status: StatusCode, value: &impl Serialize, content_type: &'static str) -> Self {
        // Serialising our own response types cannot fail: they hold only strings, numbers,
        // booleans and maps with string keys.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        ApiResponse { status, headers, body }
    }

    pub fn no_content() -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        ApiResponse { status: StatusCode::NO_CONTENT, headers, body: Vec::new() }
    }
}
