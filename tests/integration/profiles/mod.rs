//! Client profiles (`profiles.md`): each profile's tests act as that app's shipped client,
//! written from its seed document — the whole journey in its field names and shapes, its
//! error table, its refresh semantics, logout and revocation, and concurrent refreshes — and
//! `cross` holds what the profiles share (one core: sessions, revocation, selection).

mod book_corners;
mod bookwish;
mod cross;
mod session_api;
mod simplejwt;
mod universal;

use bookshelf_tests::{from_ip, raw_request, Reply, TestApp};
use http::Method;
use serde_json::Value;

/// A JSON POST from one client address (so per-IP windows count it together).
pub async fn post_from(app: &TestApp, ip: &str, path: &str, body: &Value) -> Reply {
    let req = raw_request(Method::POST, path, Some("application/json"), body.to_string().as_bytes());
    app.send(from_ip(req, ip)).await
}

/// The claims of a JWT, unverified (the service verified it; the test reads it).
pub fn claims(token: &str) -> Value {
    bookshelf_tests::jwt_claims(token)
}

/// A fresh identity: a username, its email address and a strong password.
pub fn identity() -> (String, String, String) {
    let username = bookshelf_tests::unique("app_reader_");
    let email = format!("{username}@example.com");
    (username, email, bookshelf_tests::strong_password())
}

/// Sends `n` copies of the request `make` builds, all at once, and waits for every reply.
pub async fn all_at_once(
    app: &TestApp,
    n: usize,
    make: impl Fn() -> bookshelf::web::request::ApiRequest,
) -> Vec<Reply> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let app = TestApp { state: std::sync::Arc::clone(&app.state) };
            let req = make();
            tokio::spawn(async move { app.send(req).await })
        })
        .collect();
    let mut replies = Vec::new();
    for handle in handles {
        replies.push(handle.await.unwrap());
    }
    replies
}

/// A JSON request as a client sends it (its own address, no key).
pub fn json_request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> bookshelf::web::request::ApiRequest {
    bookshelf_tests::request(method, path, token, Some(body.clone()))
}
