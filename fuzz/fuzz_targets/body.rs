//! Request bodies: the edge checks (size, media type, JSON object) and then every field
//! reader and domain rule a handler applies. Anything may be refused; nothing may panic.

#![no_main]

use bookshelf::domain::{check_display_name, check_real_name, Email, Password, Username};
use bookshelf::password::UserAttributes;
use bookshelf::web::{body::JsonObject, request::ApiRequest};
use http::{header, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

const MEDIA_TYPES: [&str; 4] =
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json", "text/plain"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let mut req = ApiRequest::new(Method::POST, "/api/v1/auth/register");
    req.body = body.to_vec();
    if selector & 0b100 == 0 {
        let media = MEDIA_TYPES[usize::from(selector) % MEDIA_TYPES.len()];
        req.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    }
    let Ok(mut object) = req.json_object(selector & 0b1000 != 0) else { return };
    read_fields(&mut object);
    let _ = object.finish();
});

/// What register, login, PATCH /me, guest and reset read, in the same ways.
fn read_fields(body: &mut JsonObject) {
    let username = body.opt_str("username");
    if let Some(name) = &username {
        if let Ok(parsed) = Username::parse(name) {
            let _ = parsed.key();
        }
    }
    let email = body.opt_str("email");
    if let Some(address) = &email {
        if let Ok(parsed) = Email::parse(address) {
            let _ = (parsed.key(), parsed.local_part());
        }
    }
    let display_name = body.patch_set_only("display_name", "May not be null.", |v| check_display_name(&v).map(|()| v));
    let first_name = body.opt_str("first_name");
    if let Some(name) = &first_name {
        let _ = check_real_name(name);
    }
    let _ = body.patch_str("last_name");
    let _ = body.opt_object("preferences");
    let _ = body.opt_bool("all_sessions");
    let _ = body.req_str("device_id");
    if let Some(raw) = body.opt_str("current_password") {
        let _ = Password::parse(raw);
    }
    let raw = body.opt_str("password");
    let user = UserAttributes {
        username: username.as_deref(),
        email: email.as_deref(),
        first_name: first_name.as_deref(),
        last_name: None,
        display_name: display_name.as_deref(),
    };
    let _ = body.new_password("password", raw, user);
}
