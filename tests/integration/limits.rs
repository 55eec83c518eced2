//! Rate limits: per IP in one-minute windows, per login identifier with back-off, the local
//! usage-plan throttle. Time moves through the injected clock, never by sleeping.

use std::sync::Arc;
use std::time::Duration;

use bookshelf_tests::{
    http, new_identity, request, serve_http, serve_http_with_plan, strong_password, unique, Reply, TestApp,
};
use http::{header, Method};
use serde_json::{json, Value};

fn from_ip(ip: &str, path: &str, body: Value) -> bookshelf::web::request::ApiRequest {
    let mut req = request(Method::POST, path, None, Some(body));
    req.source_ip = Some(ip.to_owned());
    req
}

fn assert_rate_limited(reply: &Reply, detail: Option<&str>) -> u64 {
    reply.assert_problem(429, "rate_limited");
    let header: u64 = reply.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(header > 0);
    assert_eq!(reply.body["retry_after"], header);
    if let Some(detail) = detail {
        assert_eq!(reply.body["detail"], detail);
    }
    header
}

/// Moves the app's clock to the start of a fresh one-minute window, so a test's requests all
/// land in one window however slowly the machine runs them.
fn at_window_start(app: &TestApp) {
    let into_window = app.state.clock.now_ms().rem_euclid(60_000) as u64;
    app.state.clock.advance(Duration::from_millis(60_000 - into_window + 1));
}

async fn wrong_login(app: &TestApp, username: &str) -> Reply {
    app.login(username, &strong_password()).await
}

#[tokio::test]
async fn register_over_5_per_minute_from_one_ip_is_429_with_retry_after() {
    let app = TestApp::new().await;
    at_window_start(&app);
    for _ in 0..5 {
        assert_eq!(app.send(from_ip("203.0.113.5", "/api/v1/auth/register", new_identity())).await.status, 201);
    }
    let limited = app.send(from_ip("203.0.113.5", "/api/v1/auth/register", new_identity())).await;
    let retry_after = assert_rate_limited(&limited, Some("Too many registration attempts. Please try again later."));
    assert!(retry_after <= 60);
    // Another address is not affected, and the window ends.
    assert_eq!(app.send(from_ip("203.0.113.6", "/api/v1/auth/register", new_identity())).await.status, 201);
    app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(app.send(from_ip("203.0.113.5", "/api/v1/auth/register", new_identity())).await.status, 201);
}

#[tokio::test]
async fn login_over_10_per_minute_from_one_ip_is_429() {
    let app = TestApp::new().await;
    at_window_start(&app);
    for _ in 0..10 {
        let body = json!({"username": unique("nobody_"), "password": strong_password()});
        assert_eq!(app.send(from_ip("203.0.113.7", "/api/v1/auth/login", body)).await.status, 401);
    }
    let body = json!({"username": unique("nobody_"), "password": strong_password()});
    let limited = app.send(from_ip("203.0.113.7", "/api/v1/auth/login", body)).await;
    assert_rate_limited(&limited, Some("Too many login attempts. Please try again later."));
}

#[tokio::test]
async fn each_limit_is_configuration() {
    let app = TestApp::with_env(&[("RATE_LIMIT_REFRESH_PER_MINUTE", "2"), ("RATE_LIMIT_GUEST_PER_MINUTE", "1")]).await;
    at_window_start(&app);
    for _ in 0..2 {
        let reply = app.send(from_ip("203.0.113.8", "/api/v1/auth/refresh", json!({"refresh_token": "x"}))).await;
        assert_eq!(reply.status, 401);
    }
    let limited = app.send(from_ip("203.0.113.8", "/api/v1/auth/refresh", json!({"refresh_token": "x"}))).await;
    assert_rate_limited(&limited, Some("Too many refresh attempts. Please try again later."));
    let guest = |id: &str| from_ip("203.0.113.9", "/api/v1/auth/guest", json!({"device_id": id}));
    assert_eq!(app.send(guest(&unique("device-"))).await.status, 201);
    assert_rate_limited(&app.send(guest(&unique("device-"))).await, None);
}

#[tokio::test]
async fn refresh_and_verify_count_only_refused_tokens_against_the_ip() {
    let app = TestApp::with_env(&[("RATE_LIMIT_REFRESH_PER_MINUTE", "2"), ("RATE_LIMIT_VERIFY_PER_MINUTE", "2")]).await;
    at_window_start(&app);
    let account = app.register().await;
    let mut refresh_token = account.refresh_token.clone();
    for _ in 0..3 {
        let reply =
            app.send(from_ip("203.0.113.10", "/api/v1/auth/refresh", json!({"refresh_token": refresh_token}))).await;
        assert_eq!(reply.status, 200, "a valid token is proof of possession, not a guess");
        refresh_token = reply.str("refresh_token");
        let verified =
            app.send(from_ip("203.0.113.10", "/api/v1/auth/verify", json!({"token": account.access_token}))).await;
        assert_eq!(verified.status, 200);
    }
    for (path, body, detail) in [
        (
            "/api/v1/auth/refresh",
            json!({"refresh_token": "guess"}),
            "Too many refresh attempts. Please try again later.",
        ),
        ("/api/v1/auth/verify", json!({"token": "not.a.token"}), "Too many verify attempts. Please try again later."),
    ] {
        for _ in 0..2 {
            assert_eq!(app.send(from_ip("203.0.113.10", path, body.clone())).await.status, 401);
        }
        assert_rate_limited(&app.send(from_ip("203.0.113.10", path, body)).await, Some(detail));
    }
}

#[tokio::test]
async fn limits_can_be_switched_off_for_local_experiments() {
    let app = TestApp::with_env(&[("RATE_LIMITS_ENABLED", "false")]).await;
    for _ in 0..8 {
        assert_eq!(app.send(from_ip("203.0.113.10", "/api/v1/auth/register", new_identity())).await.status, 201);
    }
    let account = app.register().await;
    for _ in 0..7 {
        wrong_login(&app, &account.username).await.assert_problem(401, "invalid_credentials");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_burst_never_gets_past_the_limit() {
    let app = Arc::new(TestApp::new().await);
    at_window_start(&app);
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let app = Arc::clone(&app);
            tokio::spawn(
                async move { app.send(from_ip("203.0.113.11", "/api/v1/auth/register", new_identity())).await },
            )
        })
        .collect();
    let mut through = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            429 => {}
            201 => through += 1,
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(through, 5);
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_does_not_escape_the_limit() {
    let app = TestApp::new().await;
    at_window_start(&app);
    let addr = serve_http(&app).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = serde_json::to_vec(&new_identity()).unwrap();
        let spoof = format!("198.51.100.{}", i + 1);
        let headers =
            [("x-api-key", "test-key"), ("content-type", "application/json"), ("x-forwarded-for", spoof.as_str())];
        statuses.push(http(addr, "POST", "/api/v1/auth/register", &headers, body).await.status);
    }
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 429]);
}

#[tokio::test]
async fn five_failures_lock_the_identifier_and_the_lock_doubles_until_a_success() {
    let app = TestApp::new().await;
    let account = app.register().await;
    for _ in 0..5 {
        wrong_login(&app, &account.username).await.assert_problem(401, "invalid_credentials");
    }
    let locked = wrong_login(&app, &account.username).await;
    assert_eq!(assert_rate_limited(&locked, Some("Too many login attempts. Please try again later.")), 30);
    // The right password during the lock still gets 429 and no token.
    let right = app.login(&account.username, &account.password).await;
    assert_rate_limited(&right, None);
    assert!(right.body.get("access_token").is_none());

    app.state.clock.advance(Duration::from_secs(31));
    wrong_login(&app, &account.username).await.assert_problem(401, "invalid_credentials");
    let relocked = wrong_login(&app, &account.username).await;
    let retry_after = assert_rate_limited(&relocked, None);
    assert!(retry_after > 30 && retry_after <= 60, "second lock is 60 s, got {retry_after}");

    app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(app.login(&account.username, &account.password).await.status, 200);
    // Success reset the count: the next failure is an ordinary 401.
    wrong_login(&app, &account.username).await.assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn the_back_off_starts_at_30_seconds_and_doubles_up_to_15_minutes() {
    let app = TestApp::new().await;
    let seconds: Vec<u64> =
        (4..=12).map(|n| bookshelf::rate::backoff(&app.state, n).map_or(0, |d| d.as_secs())).collect();
    assert_eq!(seconds, vec![0, 30, 60, 120, 240, 480, 900, 900, 900]);
    assert_eq!(bookshelf::rate::backoff(&app.state, 99).map(|d| d.as_secs()), Some(900));
}

#[tokio::test]
async fn unknown_identifiers_are_locked_exactly_like_known_ones() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let stranger = format!("{}@example.com", unique("nobody_"));
    for i in 0..5 {
        let shown = if i % 2 == 0 { stranger.clone() } else { stranger.to_uppercase() };
        let reply = app.post("/api/v1/auth/login", json!({"email": shown, "password": strong_password()})).await;
        reply.assert_problem(401, "invalid_credentials");
        wrong_login(&app, &account.username).await.assert_problem(401, "invalid_credentials");
    }
    let unknown = app.post("/api/v1/auth/login", json!({"email": stranger, "password": strong_password()})).await;
    let known = wrong_login(&app, &account.username).await;
    let strip = |r: &Reply| {
        let mut body = r.body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(strip(&unknown), strip(&known));
    assert_eq!(unknown.headers[header::RETRY_AFTER], known.headers[header::RETRY_AFTER]);
    // …and neither lock spills over to anyone else.
    let bystander = app.register().await;
    assert_eq!(app.login(&bystander.username, &bystander.password).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_no_more_tries_than_sequential_ones() {
    let app = Arc::new(TestApp::new().await);
    let account = app.register().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, name) = (Arc::clone(&app), account.username.clone());
            tokio::spawn(async move { wrong_login(&app, &name).await })
        })
        .collect();
    let mut checked = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            401 => checked += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords were checked");
}

#[tokio::test]
async fn many_failures_disable_password_login_until_a_reset() {
    let app =
        TestApp::with_env(&[("LOGIN_DISABLE_THRESHOLD", "7"), ("APP_BASE_URL", "https://books.example.com")]).await;
    let account = app.register().await;
    for round in 0..7 {
        wrong_login(&app, &account.username).await.assert_problem(401, "invalid_credentials");
        if round >= 4 {
            app.state.clock.advance(Duration::from_secs(901));
        }
    }
    app.state.clock.advance(Duration::from_secs(86_400));
    assert_rate_limited(&app.login(&account.username, &account.password).await, None);
    // The reset flow keeps working and lifts the disablement.
    assert_eq!(app.post("/api/v1/auth/password/forgot", json!({"email": account.email})).await.status, 202);
    let token = app.outbox(&account.email).pop().unwrap().token("reset-password");
    let new = strong_password();
    let reset = app.post("/api/v1/auth/password/reset", json!({"token": token, "new_password": new})).await;
    assert_eq!(reset.status, 204, "{}", reset.body);
    assert_eq!(app.login(&account.username, &new).await.status, 200);
}

#[tokio::test]
async fn the_local_server_throttles_each_api_key_like_the_usage_plan() {
    let app = TestApp::new().await;
    let addr = serve_http_with_plan(&app, 1, 2).await;
    let headers = [("x-api-key", "test-key")];
    for _ in 0..2 {
        assert_eq!(http(addr, "GET", "/api/v1/auth/me", &headers, vec![]).await.status, 401, "within the burst");
    }
    let limited = http(addr, "GET", "/api/v1/auth/me", &headers, vec![]).await;
    assert_rate_limited(&limited, Some("Too many requests. Please try again later."));
    // The key-less JWKS route is outside the plan.
    assert_eq!(http(addr, "GET", "/.well-known/jwks.json", &[], vec![]).await.status, 200);
}
