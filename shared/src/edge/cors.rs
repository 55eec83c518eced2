//! CORS for browser clients, the same in Lambda and in the local server: origins come from
//! `CORS_ALLOWED_ORIGINS` (`*` allows any), a preflight `OPTIONS` is answered without an API
//! key (API Gateway sends it to the fallback function), and every answer to an allowed origin
//! carries `Access-Control-Allow-Origin`. No credentials mode: tokens travel in headers.

use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::web::response::ApiResponse;

/// The request's `Origin` when it is allowed, ready to be echoed.
pub fn allowed_origin(allowed: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed.iter().any(|a| a == text || a == "*").then(|| origin.clone())
}

/// The answer to a preflight: 204, with the methods and headers the API takes when the origin
/// is allowed, and without them otherwise (the browser then refuses the real request).
pub fn preflight(allowed: bool) -> ApiResponse {
    let mut response = ApiResponse::no_content();
    if allowed {
        let headers = &mut response.headers;
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, x-api-key, x-requested-with"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response.status = StatusCode::NO_CONTENT;
    response
}

/// Lets an allowed origin read `response`.
pub fn allow(response: &mut ApiResponse, origin: Option<HeaderValue>) {
    if let Some(origin) = origin {
        response.headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).expect("origin"));
        headers
    }

    #[test]
    fn only_listed_origins_are_echoed_and_a_star_allows_any() {
        let listed = vec!["https://app.example.com".to_owned()];
        assert_eq!(
            allowed_origin(&listed, &with_origin("https://app.example.com")).as_ref().map(HeaderValue::as_bytes),
            Some(&b"https://app.example.com"[..])
        );
        assert!(allowed_origin(&listed, &with_origin("https://evil.example.net")).is_none());
        assert!(allowed_origin(&listed, &HeaderMap::new()).is_none());
        assert!(allowed_origin(&[], &with_origin("https://app.example.com")).is_none());
        assert!(allowed_origin(&["*".to_owned()], &with_origin("https://any.example.org")).is_some());
    }

    #[test]
    fn a_preflight_names_methods_and_headers_only_for_an_allowed_origin() {
        let allowed = preflight(true);
        assert_eq!(allowed.status, StatusCode::NO_CONTENT);
        let headers = allowed.headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().expect("ascii");
        assert!(headers.contains("x-api-key") && headers.contains("authorization"));
        assert!(preflight(false).headers.get(header::ACCESS_CONTROL_ALLOW_METHODS).is_none());
    }
}
