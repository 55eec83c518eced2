//! The HTTP edge, through the real local server: API key, routing, media types, sizes; and
//! the database being down.

use std::time::{Duration, Instant};

use bookshelf_tests::{http, new_identity, serve_http, TestApp};

const KEY: (&str, &str) = ("x-api-key", "test-key");
const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn keyed_routes_without_a_valid_key_are_403_before_the_body_is_read() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    http(addr, "POST", "/api/v1/auth/login", &[JSON], b"{not json".to_vec())
        .await
        .assert_problem(403, "invalid_api_key");
    http(addr, "GET", "/api/v1/auth/me", &[("x-api-key", "wrong")], vec![])
        .await
        .assert_problem(403, "invalid_api_key");
    assert_eq!(http(addr, "GET", "/.well-known/jwks.json", &[], vec![]).await.status, 200);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_or_without_a_key() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    for path in ["/api/v1/auth/does-not-exist", "/api/v1/auth/me/extra", "/api/v1/auth/v2/login", "/"] {
        http(addr, "GET", path, &[KEY], vec![]).await.assert_problem(404, "not_found");
        http(addr, "GET", path, &[], vec![]).await.assert_problem(404, "not_found");
    }
    http(addr, "GET", "/api/v1/auth/login", &[KEY], vec![]).await.assert_problem(405, "method_not_allowed");
    http(addr, "PUT", "/api/v1/auth/me", &[KEY], vec![]).await.assert_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn bodies_are_checked_for_size_media_type_and_shape() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    let big = format!(r#"{{"username":"x","password":"y","padding":"{}"}}"#, "p".repeat(17 * 1024));
    http(addr, "POST", "/api/v1/auth/login", &[KEY, JSON], big.into_bytes())
        .await
        .assert_problem(413, "payload_too_large");
    let text = br#"{"username":"x","password":"y"}"#.to_vec();
    http(addr, "POST", "/api/v1/auth/login", &[KEY, ("content-type", "text/plain")], text)
        .await
        .assert_problem(415, "unsupported_media_type");
    for raw in [&b"{not json"[..], b"", b"[1,2]", b"null"] {
        http(addr, "POST", "/api/v1/auth/login", &[KEY, JSON], raw.to_vec())
            .await
            .assert_problem(400, "malformed_request");
    }
    let identity = serde_json::to_vec(&new_identity()).unwrap();
    let created = http(
        addr,
        "POST",
        "/api/v1/auth/register",
        &[KEY, ("content-type", "application/json; charset=utf-8")],
        identity,
    )
    .await;
    assert_eq!(created.status, 201);
}

#[tokio::test]
async fn each_problem_carries_its_own_request_id() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    let a = http(addr, "GET", "/api/v1/auth/me", &[KEY], vec![]).await;
    let b = http(addr, "GET", "/api/v1/auth/me", &[KEY], vec![]).await;
    assert_ne!(a.body["request_id"], b.body["request_id"]);
}

#[tokio::test]
async fn an_unreachable_database_answers_503_within_seconds() {
    // A port nothing listens on: every call fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = TestApp::with_env(&[("DYNAMODB_ENDPOINT", &format!("http://{closed}"))]).await;
    let started = Instant::now();
    let reply = app.post("/api/v1/auth/register", new_identity()).await;
    reply.assert_problem(503, "service_unavailable");
    assert!(!reply.body.to_string().to_lowercase().contains("dynamo"));
    let login = app.login("someone", "whatever-password").await;
    login.assert_problem(503, "service_unavailable");
    // Generous bound: the point is "seconds, not a hung function".
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}
