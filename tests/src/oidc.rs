//! An OpenID Connect issuer in the test process, minting ID tokens the way Google and Apple
//! do: RS256 with its own key, its JWKS served over HTTP on a free loopback port (with a
//! `Cache-Control` lifetime), and switches for the awkward cases — a rotated key, a JWKS
//! endpoint that fails or hangs, and a count of how often its keys were fetched.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{json, Value};

/// What the JWKS endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jwks {
    Serve,
    /// 503 on every fetch.
    Fail,
    /// Accepts the connection and never answers.
    Hang,
}

struct Key {
    kid: String,
    pair: KeyPair,
    /// Published in the JWKS (an unpublished key signs tokens the provider never issued).
    published: bool,
}

struct State {
    keys: Vec<Key>,
    mode: Jwks,
}

pub struct TestIssuer {
    pub issuer: String,
    pub jwks_url: String,
    state: Arc<Mutex<State>>,
    fetches: Arc<AtomicUsize>,
}

impl TestIssuer {
    /// An issuer named `issuer` (Google's or Apple's real issuer, so the service's defaults
    /// apply), serving its keys on a free port.
    pub async fn start(issuer: &str) -> TestIssuer {
        let state = Arc::new(Mutex::new(State { keys: vec![new_key("key-1", true)], mode: Jwks::Serve }));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (served, counted) = (Arc::clone(&state), Arc::clone(&fetches));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| {
                        let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
                        async move {
                            counted.fetch_add(1, Ordering::SeqCst);
                            let (mode, document) = {
                                let state = served.lock().unwrap();
                                (state.mode, jwks(&state.keys))
                            };
                            match mode {
                                Jwks::Serve => {}
                                Jwks::Fail => {
                                    let mut response = hyper::Response::new(Full::new(Bytes::from("unavailable")));
                                    *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                                    return Ok::<_, Infallible>(response);
                                }
                                Jwks::Hang => std::future::pending::<()>().await,
                            }
                            let mut response = hyper::Response::new(Full::new(Bytes::from(document.to_string())));
                            response.headers_mut().insert(
                                http::header::CACHE_CONTROL,
                                http::HeaderValue::from_static("public, max-age=21350, must-revalidate"),
                            );
                            Ok(response)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        TestIssuer { issuer: issuer.to_owned(), jwks_url: format!("http://127.0.0.1:{port}/keys"), state, fetches }
    }

    /// How often the JWKS was fetched so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn set_jwks(&self, mode: Jwks) {
        self.state.lock().unwrap().mode = mode;
    }

    /// Adds a key (published in the JWKS or not); tokens name it by `kid`.
    pub fn add_key(&self, kid: &str, published: bool) {
        self.state.lock().unwrap().keys.push(new_key(kid, published));
    }

    /// The public key of `kid` as a JWK (for tokens forged with it, e.g. HS256 keyed by it).
    pub fn public_jwk(&self, kid: &str) -> Value {
        let state = self.state.lock().unwrap();
        jwk(state.keys.iter().find(|k| k.kid == kid).unwrap())
    }

    /// Claims as the provider issues them for `audience` and `subject`, valid for an hour.
    pub fn claims(&self, audience: &str, subject: &str, email: Option<&str>, email_verified: Value) -> Value {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let mut claims = json!({"iss": self.issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + 3600});
        if let Some(email) = email {
            claims["email"] = json!(email);
            claims["email_verified"] = email_verified;
        }
        claims
    }

    /// An RS256 token of `claims` signed by `kid`, with `header` members merged in.
    pub fn mint_with(&self, kid: &str, header: Value, claims: &Value) -> String {
        let mut full = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        for (name, value) in header.as_object().unwrap() {
            full[name] = value.clone();
        }
        let signing_input = format!("{}.{}", B64.encode(full.to_string()), B64.encode(claims.to_string()));
        let state = self.state.lock().unwrap();
        let key = &state.keys.iter().find(|k| k.kid == kid).unwrap().pair;
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature).unwrap();
        format!("{signing_input}.{}", B64.encode(signature))
    }

    /// A token of `claims` signed by the issuer's first key.
    pub fn mint(&self, claims: &Value) -> String {
        self.mint_with("key-1", json!({}), claims)
    }
}

fn new_key(kid: &str, published: bool) -> Key {
    Key { kid: kid.to_owned(), pair: KeyPair::generate(KeySize::Rsa2048).unwrap(), published }
}

fn jwk(key: &Key) -> Value {
    let public = key.pair.public_key();
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": key.kid,
        "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
        "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
    })
}

fn jwks(keys: &[Key]) -> Value {
    json!({"keys": keys.iter().filter(|k| k.published).map(jwk).collect::<Vec<_>>()})
}

/// The nonce Apple's SDK puts in a token for the raw nonce the app keeps: SHA-256, hex.
pub fn apple_nonce(raw: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, raw.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An HS256 token of `claims` keyed by `secret` (the forgery that keys HMAC with a public key).
pub fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(tag.as_ref()))
}

/// An unsigned token (`alg: none`) of `claims`.
pub fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!("{}.{}.", B64.encode(header.to_string()), B64.encode(claims.to_string()))
}
