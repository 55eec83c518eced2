//! What the profiles' formats share: reading a profile's request body into the native one
//! its handler reads, and the small pieces their answers have in common.

use http::{header, HeaderValue, StatusCode};
use serde_json::{Map, Value};

use crate::error::{Error, FieldErrors};
use crate::outcome::SignedIn;
use crate::state::AppState;
use crate::store::UserRecord;
use crate::web::request::ApiRequest;
use crate::web::response::ApiResponse;

/// How a profile's server read its bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// JSON, as the native format (`Content-Type` JSON or absent).
    Json,
    /// JSON or `application/x-www-form-urlencoded` (Django REST framework's parsers).
    JsonOrForm,
    /// JSON whatever the `Content-Type` says (django-ninja).
    AnyAsJson,
}

/// A profile's request body being read: its fields, and the errors found in its own terms.
#[derive(Debug, Default)]
pub struct Body {
    pub fields: Map<String, Value>,
    pub errors: FieldErrors,
}

impl Body {
    /// The body as a JSON object (an empty body as `{}`), as `accept` reads it. The edge checks
    /// of the native format apply: size, media type (unless any is taken), an object.
    pub fn read(req: &ApiRequest, accept: Accept) -> Result<Body, Error> {
        let is_form = req.header(header::CONTENT_TYPE).is_some_and(|ct| {
            ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        let fields = match accept {
            Accept::JsonOrForm if is_form => {
                if req.body.len() > crate::web::body::MAX_BODY_BYTES {
                    return Err(Error::PayloadTooLarge);
                }
                form_urlencoded::parse(&req.body)
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect()
            }
            Accept::Json | Accept::JsonOrForm => req.json_object(true)?.into_map(),
            Accept::AnyAsJson => req.json_object_of_any_type(true)?.into_map(),
        };
        Ok(Body { fields, errors: FieldErrors::new() })
    }

    /// Accepts `alias` as another spelling of `field` (`deviceId` for `device_id`).
    pub fn alias(mut self, field: &str, alias: &str) -> Self {
        if !self.fields.contains_key(field) {
            if let Some(value) = self.fields.remove(alias) {
                self.fields.insert(field.to_owned(), value);
            }
        } else {
            self.fields.remove(alias);
        }
        self
    }

    /// Moves the profile's `from` to the native `to`.
    pub fn rename(mut self, from: &str, to: &str) -> Self {
        self.fields.remove(to);
        if let Some(value) = self.fields.remove(from) {
            self.fields.insert(to.to_owned(), value);
        }
        self
    }

    /// The field as a string, if it is one.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// Whether the field holds a string that is not blank.
    pub fn filled(&self, field: &str) -> bool {
        self.str(field).is_some_and(|v| !v.trim().is_empty())
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_owned()).or_default().push(message.into());
    }

    /// Keeps only these fields: a profile's route changes no more than its app's did.
    pub fn keep(mut self, fields: &[&str]) -> Self {
        self.fields.retain(|name, _| fields.contains(&name.as_str()));
        self
    }

    /// The native request the handler reads (the body rewritten as JSON), or the errors found,
    /// as `wrap` makes them (`Error::Schema` or `Error::Validation`).
    pub fn native(self, req: &ApiRequest, wrap: fn(FieldErrors) -> Error) -> Result<ApiRequest, Error> {
        if !self.errors.is_empty() {
            return Err(wrap(self.errors));
        }
        let mut native = req.clone();
        native.body = Value::Object(self.fields).to_string().into_bytes();
        native.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(native)
    }
}

/// On a bearer route, the token is checked (signature and lifetime) before the body: the apps'
/// servers authenticated before they validated, so a caller without a good token hears 401
/// whatever it sent. The handler still checks the session and the user.
pub fn bearer_first(state: &AppState, req: &ApiRequest) -> Result<(), Error> {
    req.bearer_token().and_then(|token| crate::auth::bearer::verified_claims(state, token)).map(drop)
}

/// The decoder of bearer routes whose apps send no body (or one that means nothing): the
/// handler reads none.
pub fn without_body(_state: &AppState, req: &ApiRequest) -> Result<ApiRequest, Error> {
    let mut native = req.clone();
    native.body.clear();
    native.headers.remove(header::CONTENT_TYPE);
    Ok(native)
}

/// The id a profile shows: the app's own (`legacy_id`, a number where it was one) for an
/// imported user, the native UUID otherwise.
pub fn shown_id(user: &UserRecord) -> Value {
    match user.legacy_id.as_deref() {
        Some(legacy) => crate::domain::shown_legacy_id(legacy),
        None => Value::from(user.id.to_string()),
    }
}

/// A sign-in's status in every format: 201 when it made the account, 200 otherwise.
pub fn signed_in_status(outcome: &SignedIn) -> StatusCode {
    if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// A JSON answer; a rate-limit failure also says when to retry, in every profile.
pub fn answer(status: StatusCode, body: &Value, error: Option<&Error>) -> ApiResponse {
    let mut response = ApiResponse::json(status, body);
    if let Some(Error::RateLimited { retry_after, .. }) = error {
        response.headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
    }
    response
}

/// The status a failure has in every profile that does not say otherwise.
pub fn usual_status(error: &Error) -> StatusCode {
    use Error::*;
    match error {
        Validation(_) | Schema(_) | Malformed(_) | NotGuest => StatusCode::BAD_REQUEST,
        InvalidCredentials | InvalidToken | NoBearer(_) | InvalidIdToken | TokenExpired | InvalidRefreshToken
        | RefreshTokenReused => StatusCode::UNAUTHORIZED,
        AccountDisabled | Forbidden(_) | InvalidApiKey => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        UsernameTaken | EmailTaken | Conflict | AlreadyVerified | AccountExists | IdentityTaken | LastIdentity => {
            StatusCode::CONFLICT
        }
        RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The first message of a validation failure, in field order.
pub fn first_message(errors: &FieldErrors) -> &str {
    errors.values().flatten().next().map_or("Invalid input.", String::as_str)
}

/// The native text of a failure, for profiles whose seed documents give none of their own.
pub fn native_detail(error: &Error) -> &str {
    match error {
        Error::Validation(errors) | Error::Schema(errors) => first_message(errors),
        other => crate::wire::native::problem::detail(other),
    }
}
