//! Request bodies: the edge checks (size, media type, JSON object) and reading fields one by
//! one, so a single answer lists every broken field.

use http::header;
use serde_json::{Map, Value};

use super::request::ApiRequest;
use crate::domain::Password;
use crate::error::{Error, FieldErrors};
use crate::password::{check_strength, UserAttributes};

/// Bodies larger than this answer 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

impl ApiRequest {
    /// The body as a JSON object. An empty body counts as `{}` only when `empty_ok`.
    pub fn json_object(&self, empty_ok: bool) -> Result<JsonObject, Error> {
        if let Some(content_type) = self.header(header::CONTENT_TYPE) {
            if !is_json_media_type(content_type) && self.body.len() <= MAX_BODY_BYTES {
                return Err(Error::UnsupportedMediaType);
            }
        }
        self.json_object_of_any_type(empty_ok)
    }

    /// [`Self::json_object`] whatever the `Content-Type` says (a profile whose server read
    /// every body as JSON).
    pub fn json_object_of_any_type(&self, empty_ok: bool) -> Result<JsonObject, Error> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(Error::PayloadTooLarge);
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return if empty_ok {
                Ok(JsonObject::default())
            } else {
                Err(Error::Malformed("The request body must be a JSON object."))
            };
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(JsonObject { map, errors: FieldErrors::new() }),
            Ok(_) => Err(Error::Malformed("The request body must be a JSON object.")),
            Err(_) => Err(Error::Malformed("The request body is not valid JSON.")),
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
        self.error(name, format!("Must be {expected}."));
    }

    /// An optional field of the JSON type `pick` takes; `null` counts as absent, any other
    /// type is recorded as `Must be {expected}.`
    fn optional<T>(&mut self, name: &str, expected: &str, pick: impl FnOnce(Value) -> Option<T>) -> Option<T> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(value) => pick(value).or_else(|| {
                self.wrong_type(name, expected);
                None
            }),
        }
    }

    /// An optional string field; `null` counts as absent.
    pub fn opt_str(&mut self, name: &str) -> Option<String> {
        self.optional(name, "a string", |v| match v {
            Value::String(s) => Some(s),
            _ => None,
        })
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

    /// An optional string field held to `rule` (a name's length, say): a breach is recorded
    /// under the field, and the value is still handed back, as the other rules (a password's
    /// similarity to it) read what the client sent.
    pub fn opt_checked(&mut self, name: &str, rule: fn(&str) -> Result<(), &'static str>) -> Option<String> {
        let value = self.opt_str(name);
        if let Some(Err(message)) = value.as_deref().map(rule) {
            self.error(name, message);
        }
        value
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
        self.optional(name, "true or false", |v| v.as_bool())
    }

    pub fn opt_object(&mut self, name: &str) -> Option<Map<String, Value>> {
        self.optional(name, "a JSON object", |v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
    }

    /// Reads a new password field: the length rule, then the strength rules against `user`.
    /// Failures are recorded under `field`; the password comes back when it parsed, so callers
    /// can also compare it (e.g. with a confirmation).
    pub fn new_password(&mut self, field: &str, raw: Option<String>, user: UserAttributes<'_>) -> Option<Password> {
        match Password::parse(raw?) {
            Ok(password) => {
                if let Err(reason) = check_strength(&password, user) {
                    self.error(field, reason);
                }
                Some(password)
            }
            Err(message) => {
                self.error(field, message);
                None
            }
        }
    }

    /// Records that a required field is missing.
    pub fn require(&mut self, name: &str) {
        self.error(name, "This field is required.");
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.entry(name.to_owned()).or_default().push(message.into());
    }

    /// Records every field not read yet as unknown (bodies where a misspelt field must not
    /// pass silently for an absent one: the back office's).
    pub fn refuse_unread(&mut self) {
        let unread: Vec<String> = self.map.keys().cloned().collect();
        for name in unread {
            self.error(&name, "Unknown field.");
        }
    }

    /// The fields not read yet (a profile's body, before it is rewritten into the native one).
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }

    /// Ends reading: any collected error becomes one validation problem.
    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
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

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, Method};

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
        let Error::Validation(errors) = obj.finish().expect_err("errors") else { panic!("not validation") };
        assert!(errors.contains_key("username") && errors.contains_key("flag"));
    }

    #[test]
    fn patch_fields_tell_absent_from_null() {
        let mut obj = post(br#"{"a": null, "b": "x"}"#, None).json_object(false).expect("object");
        assert_eq!(obj.patch_str("a"), Patch::Null);
        assert_eq!(obj.patch_str("b"), Patch::Value("x".into()));
        assert_eq!(obj.patch_str("c"), Patch::Absent);
    }
}
