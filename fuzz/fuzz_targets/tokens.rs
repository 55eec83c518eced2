//! Token parsing: refresh and one-time token decoding, the bearer header, and access-token
//! verification with a real TokenService. No input may panic, and none may verify: the
//! fuzzer cannot hold the signing key, so an accepted token would be a forgery.

#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use bookshelf::config::Config;
use bookshelf::signing_keys::KeySet;
use bookshelf::tokens::{OneTimeToken, Purpose, RefreshToken, TokenService};
use bookshelf::web::request::ApiRequest;
use http::{header, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

fn service() -> &'static TokenService {
    static SERVICE: OnceLock<TokenService> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let doc = bookshelf::signing_keys::generate_document().expect("keys");
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("fuzz".into()),
            "JWT_KEYS" => Some(doc.clone()),
            // A function outside Lambda needs a region (or a local DynamoDB endpoint).
            "AWS_REGION" => Some("eu-west-1".into()),
            _ => None,
        })
        .expect("config");
        let keys = KeySet::parse(&doc, config.jwt_algorithm).expect("key set");
        TokenService::new(&config, &keys)
    })
}

const NOW: i64 = 1_795_341_600;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(token) = RefreshToken::decode(&text) {
        assert_eq!(RefreshToken::decode(&token.encode()), Some(token.clone()));
        let _ = service().successor(&token).hash();
    }
    for purpose in [Purpose::VerifyEmail, Purpose::ResetPassword] {
        if let Some(token) = OneTimeToken::decode(&text, purpose) {
            assert_eq!(OneTimeToken::decode(&token.encode(), purpose), Some(token));
        }
    }
    let mut req = ApiRequest::new(Method::GET, "/api/v1/auth/me");
    if let Ok(value) = HeaderValue::from_bytes(data) {
        req.headers.insert(header::AUTHORIZATION, value);
        if let Ok(bearer) = req.bearer_token() {
            assert!(service().verify_access(bearer, NOW).is_err(), "a forged token verified");
        }
    }
    assert!(service().verify_access(&text, NOW).is_err(), "a forged token verified");
    // The same bytes as the JSON header and payload of a JWT, so the fuzzer reaches the
    // header and claim parsers without having to discover base64url first.
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (header_json, payload, signature) =
        (parts.next().unwrap_or(b""), parts.next().unwrap_or(b""), parts.next().unwrap_or(b""));
    let jwt = format!("{}.{}.{}", B64.encode(header_json), B64.encode(payload), B64.encode(signature));
    assert!(service().verify_access(&jwt, NOW).is_err(), "a forged token verified");
});
