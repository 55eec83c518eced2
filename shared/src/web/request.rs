//! The plain request every handler sees, whatever carried it (an API Gateway event or the
//! local server), and what a handler reads from it besides the body: headers, the bearer
//! token, path parameters.

use std::collections::HashMap;

use http::{header, HeaderMap, HeaderValue, Method};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, NoBearer};
use crate::profile::Profile;

#[derive(Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub path_params: HashMap<String, String>,
    /// The caller's address as the network saw it (API Gateway's `sourceIp`, or the TCP peer),
    /// never a client-supplied header such as `X-Forwarded-For`.
    pub source_ip: Option<String>,
    pub request_id: String,
    /// The profile of the route it came through (set when it is routed).
    pub profile: Profile,
    /// The scheme, host and base path the client called (`https://<api>.execute-api…/v1`,
    /// `http://127.0.0.1:3000`), for documents that name the service's own URLs.
    pub origin: Option<String>,
    /// The query string's parameters, decoded, in order (repeats kept).
    pub query: Vec<(String, String)>,
    /// Who signed the request, where the gateway authenticated the caller itself: the IAM
    /// principal's ARN (API Gateway's `AWS_IAM` routes), or `local-admin` (the local server's
    /// `x-admin-key`). Never taken from anything the client sends.
    pub caller: Option<String>,
}

/// Never prints the body or the credentials headers: they carry passwords and tokens.
impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body_bytes", &self.body.len())
            .field("source_ip", &self.source_ip)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    /// A request for `target`: a path with an optional query string.
    pub fn new(method: Method, target: impl Into<String>) -> Self {
        let target = target.into();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), parse_query(query)),
            None => (target, Vec::new()),
        };
        ApiRequest {
            method,
            path,
            headers: HeaderMap::new(),
            body: Vec::new(),
            path_params: HashMap::new(),
            source_ip: None,
            request_id: uuid::Uuid::new_v4().to_string(),
            profile: Profile::Bookshelf,
            origin: None,
            query,
            caller: None,
        }
    }

    /// A request as an in-process caller (tests, benchmarks) makes it: from a made-up address
    /// of its own (so per-IP limits only bite where a caller aims them), with an optional
    /// bearer token and JSON body.
    pub fn in_process(
        method: Method,
        path: &str,
        user_agent: &'static str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Self {
        let mut req = ApiRequest::new(method, path);
        let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
        req.source_ip = Some(format!("10.{a}.{b}.{c}"));
        req.headers.insert(header::USER_AGENT, HeaderValue::from_static(user_agent));
        if let Some(value) = token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) {
            req.headers.insert(header::AUTHORIZATION, value);
        }
        if let Some(body) = body {
            req.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            req.body = body.to_string().into_bytes();
        }
        req
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn user_agent(&self) -> Option<String> {
        self.header(header::USER_AGENT).map(|ua| ua.chars().take(256).collect())
    }

    /// The bearer token of the `Authorization` header (scheme matched case-insensitively).
    pub fn bearer_token(&self) -> Result<&str, Error> {
        let value = self.header(header::AUTHORIZATION).ok_or(Error::NoBearer(NoBearer::Missing))?;
        let mut parts = value.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => Ok(token),
            (Some(scheme), _, _) if scheme.eq_ignore_ascii_case("bearer") => Err(Error::NoBearer(NoBearer::Malformed)),
            _ => Err(Error::NoBearer(NoBearer::Missing)),
        }
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// How often a query parameter is given.
    pub fn query_count(&self, name: &str) -> usize {
        self.query.iter().filter(|(key, _)| key == name).count()
    }

    /// A path parameter that must be a UUID; anything else names nothing, so it is not found.
    pub fn path_uuid(&self, name: &str) -> Result<Uuid, Error> {
        self.path_params.get(name).and_then(|raw| Uuid::parse_str(raw).ok()).ok_or(Error::NotFound)
    }
}

/// A query string's parameters (`application/x-www-form-urlencoded`), decoded.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_body_or_authorization() {
        let mut req = ApiRequest::new(Method::POST, "/x");
        req.body = br#"{"password":"hunter2-secret"}"#.to_vec();
        req.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer tok.en.value"));
        let shown = format!("{req:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("tok.en"));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        let mut req = ApiRequest::new(Method::GET, "/me");
        req.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(req.bearer_token().expect("token"), "abc");
        for bad in ["Bearer", "Basic abc", "abc", "Bearer  "] {
            req.headers.insert(header::AUTHORIZATION, HeaderValue::from_static(bad));
            assert!(req.bearer_token().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_target_splits_into_path_and_decoded_query() {
        let req = ApiRequest::new(Method::GET, "/admin/v1/users?email=jane%2Bx%40example.com&limit=2&limit=3");
        assert_eq!(req.path, "/admin/v1/users");
        assert_eq!(req.query_param("email"), Some("jane+x@example.com"));
        assert_eq!((req.query_param("limit"), req.query_count("limit")), (Some("2"), 2));
        assert!(ApiRequest::new(Method::GET, "/me").query.is_empty());
    }

    #[test]
    fn a_path_parameter_that_is_no_uuid_is_not_found() {
        let mut req = ApiRequest::new(Method::DELETE, "/sessions/x");
        req.path_params.insert("id".into(), "not-a-uuid".into());
        assert!(matches!(req.path_uuid("id"), Err(Error::NotFound)));
        let id = Uuid::new_v4();
        req.path_params.insert("id".into(), id.to_string());
        assert_eq!(req.path_uuid("id").expect("uuid"), id);
    }
}
