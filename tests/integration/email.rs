//! Email verification and password reset through the outbox: whole journeys, single use,
//! expiry before TTL deletion, newer tokens replacing older ones, no account enumeration.

use std::time::{Duration, Instant};

use bookshelf_tests::{strong_password, unique, Account, Reply, TestApp};
use http::{header, HeaderValue, Method};
use serde_json::json;

const BASE: &str = "https://books.example.com";

async fn app() -> TestApp {
    TestApp::with_env(&[("APP_BASE_URL", BASE)]).await
}

async fn request_verification(app: &TestApp, account: &Account) -> Reply {
    app.call(Method::POST, "/api/v1/auth/email/verification", Some(&account.access_token), Some(json!({}))).await
}

async fn forgot(app: &TestApp, email: &str) -> Reply {
    app.post("/api/v1/auth/password/forgot", json!({"email": email})).await
}

async fn reset(app: &TestApp, token: &str, new_password: &str) -> Reply {
    app.post("/api/v1/auth/password/reset", json!({"token": token, "new_password": new_password})).await
}

async fn verify(app: &TestApp, token: &str) -> Reply {
    app.post("/api/v1/auth/email/verify", json!({"token": token})).await
}

#[tokio::test]
async fn verification_journey_marks_the_email_verified_once() {
    let app = app().await;
    let account = app.register().await;
    assert_eq!(request_verification(&app, &account).await.status, 202);
    let mail = app.outbox(&account.email).pop().unwrap();
    assert_eq!(mail.to, account.email);
    assert!(!mail.subject.is_empty() && mail.sent_at.ends_with('Z'));
    assert!(mail.text.contains(&format!("{BASE}/verify-email?token=")));
    let token = mail.token("verify-email");
    assert_eq!(verify(&app, &token).await.status, 204);
    assert_eq!(app.me(&account.access_token).await.body["email_verified"], true);
    verify(&app, &token).await.assert_problem(401, "invalid_token");
    request_verification(&app, &account).await.assert_problem(409, "already_verified");
}

#[tokio::test]
async fn links_come_from_app_base_url_never_the_request_host() {
    let app = app().await;
    let account = app.register().await;
    let mut req = bookshelf_tests::request(
        Method::POST,
        "/api/v1/auth/email/verification",
        Some(&account.access_token),
        Some(json!({})),
    );
    req.headers.insert(header::HOST, HeaderValue::from_static("evil.example"));
    req.headers.insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
    assert_eq!(app.send(req).await.status, 202);
    let mail = app.outbox(&account.email).pop().unwrap();
    assert!(!mail.text.contains("evil.example"));
    assert!(mail.text.contains(BASE));
}

#[tokio::test]
async fn a_newer_verification_token_makes_the_older_useless() {
    let app = app().await;
    let account = app.register().await;
    let older = app.verification_token(&account).await;
    let newer = app.verification_token(&account).await;
    assert_ne!(older, newer);
    verify(&app, &older).await.assert_problem(401, "invalid_token");
    assert_eq!(verify(&app, &newer).await.status, 204);
}

#[tokio::test]
async fn verification_tokens_expire_after_24_hours_before_ttl_deletes_them() {
    let app = app().await;
    let account = app.register().await;
    let token = app.verification_token(&account).await;
    app.state.clock.advance(Duration::from_secs(24 * 3600 + 1));
    verify(&app, &token).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn changing_the_email_voids_a_pending_verification_link() {
    let app = app().await;
    let account = app.register().await;
    let token = app.verification_token(&account).await;
    let body = json!({"email": format!("{}@example.com", unique("moved_")), "current_password": account.password});
    assert_eq!(app.call(Method::PATCH, "/api/v1/auth/me", Some(&account.access_token), Some(body)).await.status, 200);
    verify(&app, &token).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn verify_email_refuses_other_kinds_of_token() {
    let app = app().await;
    let account = app.register().await;
    let reset = app.reset_token(&account).await;
    for token in [reset.as_str(), &account.access_token, &account.refresh_token, "not-a-real-token-xxxxxxxxxxxxxxxx"] {
        verify(&app, token).await.assert_problem(401, "invalid_token");
    }
    assert_eq!(app.me(&account.access_token).await.body["email_verified"], false);
    app.post("/api/v1/auth/email/verify", json!({})).await.assert_problem(400, "validation_error");
}

#[tokio::test]
async fn guests_and_username_only_accounts_cannot_ask_for_verification() {
    let app = app().await;
    let guest = app.post("/api/v1/auth/guest", json!({"device_id": unique("device-")})).await;
    let token = guest.str("access_token");
    let reply = app.call(Method::POST, "/api/v1/auth/email/verification", Some(&token), Some(json!({}))).await;
    reply.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn at_most_three_verification_mails_per_account_per_hour() {
    let app = app().await;
    let account = app.register().await;
    for _ in 0..3 {
        assert_eq!(request_verification(&app, &account).await.status, 202);
    }
    let capped = request_verification(&app, &account).await;
    capped.assert_problem(429, "rate_limited");
    let retry_after: u64 = capped.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert_eq!(capped.body["retry_after"], retry_after);
    assert!(retry_after > 0 && retry_after <= 3600);
    assert_eq!(app.outbox(&account.email).len(), 3);
    app.state.clock.advance(Duration::from_secs(3601));
    let fresh = app.login(&account.username, &account.password).await;
    let renewed = Account { access_token: fresh.str("access_token"), ..account };
    assert_eq!(request_verification(&app, &renewed).await.status, 202, "a new window opened");
}

#[tokio::test]
async fn forgot_answers_the_same_for_known_and_unknown_addresses_and_mails_only_the_known() {
    let app = app().await;
    let account = app.register().await;
    let stranger = format!("{}@example.com", unique("nobody_"));
    let started = Instant::now();
    let known = forgot(&app, &account.email.to_uppercase()).await;
    let known_took = started.elapsed();
    let started = Instant::now();
    let unknown = forgot(&app, &stranger).await;
    let unknown_took = started.elapsed();
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known.body, unknown.body);
    assert_eq!(known.headers[header::CONTENT_TYPE], unknown.headers[header::CONTENT_TYPE]);
    // Both paths are padded to the same floor (a lower bound, not a benchmark).
    let floor = bookshelf::handlers::email::FORGOT_MIN_DURATION;
    assert!(known_took >= floor && unknown_took >= floor);
    assert_eq!(app.outbox(&account.email).len(), 1);
    assert!(app.outbox(&stranger).is_empty());
    assert!(app.outbox(&account.email)[0].text.contains(&format!("{BASE}/reset-password?token=")));
}

#[tokio::test]
async fn forgot_mails_at_most_three_times_per_hour_but_always_answers_202() {
    let app = app().await;
    let account = app.register().await;
    for _ in 0..4 {
        assert_eq!(forgot(&app, &account.email).await.status, 202);
    }
    assert_eq!(app.outbox(&account.email).len(), 3);
}

#[tokio::test]
async fn reset_journey_replaces_the_password_and_ends_every_session() {
    let app = app().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let token = app.reset_token(&account).await;
    let new = strong_password();
    let reply = reset(&app, &token, &new).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(reply.body, serde_json::Value::Null, "no auto-login");
    for (access, refresh) in [
        (account.access_token.clone(), account.refresh_token.clone()),
        (other.str("access_token"), other.str("refresh_token")),
    ] {
        app.assert_ended(&access, &refresh).await;
    }
    app.login(&account.username, &account.password).await.assert_problem(401, "invalid_credentials");
    assert_eq!(app.login(&account.username, &new).await.status, 200);
    reset(&app, &token, &strong_password()).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn reset_checks_the_password_rules_and_keeps_the_token_for_another_try() {
    let app = app().await;
    let account = app.register().await;
    let token = app.reset_token(&account).await;
    let weak = reset(&app, &token, "password").await;
    assert!(weak.assert_problem(400, "validation_error")["errors"]["new_password"].is_array());
    let similar = reset(&app, &token, &format!("{}1", account.username)).await;
    similar.assert_problem(400, "validation_error");
    assert_eq!(app.login(&account.username, &account.password).await.status, 200);
    assert_eq!(reset(&app, &token, &strong_password()).await.status, 204);
}

#[tokio::test]
async fn reset_tokens_expire_after_30_minutes_and_newer_ones_replace_older() {
    let app = app().await;
    let account = app.register().await;
    let older = app.reset_token(&account).await;
    let newer = app.reset_token(&account).await;
    reset(&app, &older, &strong_password()).await.assert_problem(401, "invalid_token");
    app.state.clock.advance(Duration::from_secs(30 * 60 + 1));
    reset(&app, &newer, &strong_password()).await.assert_problem(401, "invalid_token");
    assert_eq!(app.login(&account.username, &account.password).await.status, 200);
}

#[tokio::test]
async fn reset_refuses_verification_tokens_and_garbage() {
    let app = app().await;
    let account = app.register().await;
    let verification = app.verification_token(&account).await;
    for token in [verification.as_str(), &account.access_token, "not-a-real-reset-token-xxxxxxxxxxxxxxxxx"] {
        reset(&app, token, &strong_password()).await.assert_problem(401, "invalid_token");
    }
    let missing = app.post("/api/v1/auth/password/reset", json!({"new_password": strong_password()})).await;
    missing.assert_problem(400, "validation_error");
    assert_eq!(app.login(&account.username, &account.password).await.status, 200);
}

#[tokio::test]
async fn a_failed_mail_still_answers_202_and_leaves_no_usable_token() {
    // The outbox "directory" is a file, so every send fails.
    let blocked = std::env::temp_dir().join(format!("not-a-dir-{}", uuid::Uuid::new_v4()));
    std::fs::write(&blocked, b"").unwrap();
    let app = TestApp::with_env(&[("MAIL_OUTBOX_DIR", blocked.to_str().unwrap())]).await;
    let account = app.register().await;
    assert_eq!(forgot(&app, &account.email).await.status, 202);
    let user_id = uuid::Uuid::parse_str(&account.id).unwrap();
    let pending = app.state.store.get_one_time(user_id, bookshelf::tokens::Purpose::ResetPassword).await.unwrap();
    let now = app.state.clock.now();
    assert!(pending.is_none_or(|p| p.expires_at <= now), "an unsent token was left usable");
}
