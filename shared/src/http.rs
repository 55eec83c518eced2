//! The plain request and response every handler sees, whatever carried them (API Gateway
//! event or the local server), and the edge checks on bodies: size, media type, JSON shape.

use std::collections::HashMap;

use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldErrors};

/// Bodies larger than this answer 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Vec::new(),
            path_params: HashMap::new(),
            source_ip: None,
            request_id: uuid::Uuid::new_v4().to_string(),
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
    pub fn bearer_token(&self) -> Result<&str, ApiError> {
        let value = self.header(header::AUTHORIZATION).ok_or(ApiError::InvalidToken)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::InvalidToken)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::InvalidToken);
        }
        Ok(token)
    }

    /// The body as a JSON object. An empty body counts as `{}` only when `empty_ok`.
    pub fn json_object(&self, empty_ok: bool) -> Result<JsonObject, ApiError> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if let Some(content_type) = self.header(header::CONTENT_TYPE) {
            if !is_json_media_type(content_type) {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return if empty_ok {
                Ok(JsonObject::default())
            } else {
                Err(ApiError::Malformed("The request body must be a JSON object."))
            };
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(JsonObject { map, errors: FieldErrors::new() }),
            Ok(_) => Err(ApiError::Malformed("The request body must be a JSON object.")),
            Err(_) => Err(ApiError::Malformed("The request body is not valid JSON.")),
        }
    }
}

/// `application/json` or any `+json` type, with or without parameters such as `charset`.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A request body being read field by field. Type mismatches are collected as validation
/// errors naming the field, so one answer lists every broken field.
#[derive(Debug, Default)]
pub struct JsonObject {
    map: Map<String, Value>,
    pub errors: FieldErrors,
}

impl JsonObject {
    fn wrong_type(&mut self, name: &str, expected: &str) {
        self.errors.entry(name.to_owned()).or_default().push(format!("Must be {expected}."));
    }

    /// An optional string field; `null` counts as absent.
    pub fn opt_str(&mut self, name: &str) -> Option<String> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.wrong_type(name, "a string");
                None
            }
        }
    }

    /// A string field of a partial update: absent, explicitly `null`, or a value.
    pub fn patch_str(&mut self, name: &str) -> Patch<String> {
        match self.map.remove(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::String(s)) => Patch::Value(s),
            Some(_) => {
                self.wrong_type(name, "a string or null");
                Patch::Absent
            }
        }
    }

    /// A field a partial update may set but never clear: a value goes through `parse`,
    /// `null` is refused with `if_null`; any failure is recorded under the field.
    pub fn patch_set_only<T>(
        &mut self,
        name: &str,
        if_null: &str,
        parse: impl FnOnce(String) -> Result<T, &'static str>,
    ) -> Option<T> {
        match self.patch_str(name) {
            Patch::Value(raw) => parse(raw).map_err(|message| self.error(name, message)).ok(),
            Patch::Null => {
                self.error(name, if_null);
                None
            }
            Patch::Absent => None,
        }
    }

    /// A required string field.
    pub fn req_str(&mut self, name: &str) -> Option<String> {
        let value = self.opt_str(name);
        if value.is_none() && !self.errors.contains_key(name) {
            self.require(name);
        }
        value
    }

    pub fn opt_bool(&mut self, name: &str) -> Option<bool> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(_) => {
                self.wrong_type(name, "true or false");
                None
            }
        }
    }

    pub fn opt_object(&mut self, name: &str) -> Option<Map<String, Value>> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.wrong_type(name, "a JSON object");
                None
            }
        }
    }

    /// Records that a required field is missing.
    pub fn require(&mut self, name: &str) {
        self.errors.entry(name.to_owned()).or_default().push("This field is required.".to_owned());
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.entry(name.to_owned()).or_default().push(message.into());
    }

    /// Ends reading: any collected error becomes one validation problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// One field of a partial update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    Absent,
    Null,
    Value(T),
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: &[u8], content_type: Option<&str>) -> ApiRequest {
        let mut req = ApiRequest::new(Method::POST, "/x");
        req.body = body.to_vec();
        if let Some(ct) = content_type {
            req.headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).expect("header"));
        }
        req
    }

    #[test]
    fn a_missing_content_type_is_read_as_json() {
        assert!(post(b"{}", None).json_object(false).is_ok());
    }

    #[test]
    fn json_with_charset_is_accepted_and_text_is_415() {
        assert!(post(b"{}", Some("application/json; charset=utf-8")).json_object(false).is_ok());
        let err = post(b"{}", Some("text/plain")).json_object(false).expect_err("415");
        assert_eq!(err.code(), "unsupported_media_type");
    }

    #[test]
    fn bodies_over_16_kib_are_413() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(post(&big, None).json_object(true).expect_err("413").code(), "payload_too_large");
    }

    #[test]
    fn non_objects_are_malformed() {
        for raw in [&b"[1]"[..], b"\"s\"", b"null", b"{bad", b"", b"{\"a\":1,}"] {
            assert_eq!(post(raw, None).json_object(false).expect_err("malformed").code(), "malformed_request");
        }
    }

    #[test]
    fn wrong_types_name_their_field() {
        let mut obj = post(br#"{"username": 5, "flag": "yes"}"#, None).json_object(false).expect("object");
        assert_eq!(obj.opt_str("username"), None);
        assert_eq!(obj.opt_bool("flag"), None);
        let ApiError::Validation(errors) = obj.finish().expect_err("errors") else { panic!("not validation") };
        assert!(errors.contains_key("username") && errors.contains_key("flag"));
    }

    #[test]
    fn debug_output_never_shows_the_body_or_authorization() {
        let mut req = post(br#"{"password":"hunter2-secret"}"#, None);
        req.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer tok.en.value"));
        let shown = format!("{req:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("tok.en"));
    }

    #[test]
    fn patch_fields_tell_absent_from_null() {
        let mut obj = post(br#"{"a": null, "b": "x"}"#, None).json_object(false).expect("object");
        assert_eq!(obj.patch_str("a"), Patch::Null);
        assert_eq!(obj.patch_str("b"), Patch::Value("x".into()));
        assert_eq!(obj.patch_str("c"), Patch::Absent);
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
}
