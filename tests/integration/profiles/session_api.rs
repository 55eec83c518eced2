//! `session-api`: a session-style client under `/api/v1/auth`: envelopes, one 12-hour bearer
//! token per session that logout, a password change or deleting the account kills at once.

use std::time::Duration;

use bookshelf_tests::{raw_request, TestApp};
use http::Method;
use serde_json::{json, Value};

use super::{claims, identity};

const BASE: &str = "/api/v1/auth";

async fn app() -> TestApp {
    TestApp::with_profiles("session-api", &[]).await
}

/// Registers through the profile; (email, password, token, the whole reply body).
async fn register(app: &TestApp) -> (String, String, String, Value) {
    let (username, email, password) = identity();
    let body =
        json!({"username": username, "email": email, "password": password, "firstName": "Ada", "lastName": "Byron"});
    let reply = app.post(&format!("{BASE}/register"), body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let token = reply.body["data"]["session"]["token"].as_str().unwrap().to_owned();
    (email, password, token, reply.body)
}

fn error(message: &str, code: &str) -> Value {
    json!({"success": false, "error": message, "code": code})
}

#[tokio::test]
async fn the_session_api_journey_in_its_own_shapes() {
    let app = app().await;
    let (email, password, token, registered) = register(&app).await;
    assert_eq!(registered["success"], true);
    let user = &registered["data"]["user"];
    let fields: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["createdAt", "email", "firstName", "id", "lastName", "username"]);
    assert_eq!((user["firstName"].as_str(), user["lastName"].as_str()), (Some("Ada"), Some("Byron")));
    // The token is a native access JWT whose `exp` is `expiresAt`, 12 hours out.
    let session = &registered["data"]["session"];
    let exp = claims(&token)["exp"].as_i64().unwrap();
    assert_eq!(exp - claims(&token)["iat"].as_i64().unwrap(), 12 * 3600);
    let expires_at = time::OffsetDateTime::parse(
        session["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires_at.unix_timestamp(), exp);

    let login = app.post(&format!("{BASE}/login"), json!({"email": email, "password": password})).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.body["data"]["user"]["createdAt"].is_string());

    let me = app.call(Method::GET, &format!("{BASE}/me"), Some(&token), None).await;
    assert_eq!((me.status, &me.body["data"]["preferences"]), (200, &json!({})), "{}", me.body);
    let patch = json!({"firstName": "Augusta", "preferences": {"theme": "dark"}, "email": "ignored@example.com"});
    let updated = app.call(Method::PATCH, &format!("{BASE}/me"), Some(&token), Some(patch)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["data"]["firstName"], "Augusta");
    assert_eq!(updated.body["data"]["preferences"], json!({"theme": "dark"}));
    assert_eq!(updated.body["data"]["email"], email.as_str(), "PATCH /me changes only its own three fields");

    let out = app.call(Method::POST, &format!("{BASE}/logout"), Some(&token), None).await;
    assert_eq!((out.status, &out.body), (200, &json!({"success": true, "message": "Logged out successfully"})));
    let after = app.call(Method::GET, &format!("{BASE}/me"), Some(&token), None).await;
    assert_eq!((after.status, &after.body), (401, &error("Authentication required", "AUTH_REQUIRED")));
    // The session (and its never-shown refresh token) is gone.
    let other_login = app.post(&format!("{BASE}/login"), json!({"email": email, "password": password})).await;
    assert_eq!(other_login.status, 200);
}

#[tokio::test]
async fn its_error_table() {
    let app = app().await;
    let (email, password, token, registered) = register(&app).await;
    let username = registered["data"]["user"]["username"].as_str().unwrap().to_owned();
    let (other, other_email, other_password) = identity();
    let register = format!("{BASE}/register");
    let cases = [
        (
            json!({"email": other_email, "password": other_password}),
            400,
            error("Username, email, and password are required", "VALIDATION_ERROR"),
        ),
        (
            json!({"username": other, "email": "nope", "password": other_password}),
            400,
            error("Provide a valid email address.", "VALIDATION_ERROR"),
        ),
        (
            json!({"username": other, "email": other_email, "password": "password123"}),
            400,
            error("This password is too common.", "VALIDATION_ERROR"),
        ),
        (
            json!({"username": username, "email": other_email, "password": other_password}),
            409,
            error("Username already exists.", "USER_EXISTS"),
        ),
        (
            json!({"username": other, "email": email.to_uppercase(), "password": other_password}),
            409,
            error("Email already exists.", "USER_EXISTS"),
        ),
    ];
    for (body, status, expected) in cases {
        let reply = app.post(&register, body).await;
        assert_eq!((reply.status, &reply.body), (status, &expected));
    }
    let login = format!("{BASE}/login");
    let missing = app.post(&login, json!({"email": email})).await;
    assert_eq!((missing.status, &missing.body), (400, &error("Email and password are required", "VALIDATION_ERROR")));
    let wrong = app.post(&login, json!({"email": email, "password": format!("{password}x")})).await;
    assert_eq!((wrong.status, &wrong.body), (401, &error("Invalid email or password", "INVALID_CREDENTIALS")));
    let bad_prefs =
        app.call(Method::PATCH, &format!("{BASE}/me"), Some(&token), Some(json!({"preferences": "dark"}))).await;
    assert_eq!((bad_prefs.status, &bad_prefs.body["code"]), (400, &json!("VALIDATION_ERROR")));
    let no_token = app.send(raw_request(Method::GET, &format!("{BASE}/me"), None, b"")).await;
    assert_eq!((no_token.status, &no_token.body), (401, &error("Authentication required", "AUTH_REQUIRED")));
    let not_json = app.send(raw_request(Method::POST, &login, Some("application/json"), b"[")).await;
    assert_eq!((not_json.status, &not_json.body["code"]), (400, &json!("VALIDATION_ERROR")));
}

#[tokio::test]
async fn the_token_dies_when_the_password_changes_or_the_account_is_deleted() {
    let app = app().await;
    let (_, password, token, _) = register(&app).await;
    // Another of the user's clients changes the password natively: this session ends.
    let changed = app
        .call(
            Method::POST,
            "/api/v1/auth/password",
            Some(&token),
            Some(json!({"current_password": password, "new_password": "An0ther-long-passphrase"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(app.call(Method::GET, &format!("{BASE}/me"), Some(&token), None).await.status, 401);

    let (_, password, token, _) = register(&app).await;
    let deleted = app.call(Method::DELETE, "/api/v1/auth/me", Some(&token), Some(json!({"password": password}))).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(app.call(Method::GET, &format!("{BASE}/me"), Some(&token), None).await.status, 401);
}

#[tokio::test]
async fn the_token_lifetime_is_its_own_setting_and_expiry_is_enforced() {
    let app = TestApp::with_profiles("session-api", &[("PROFILE_SESSION_API_TOKEN_TTL_SECONDS", "600")]).await;
    let (_, _, token, _) = register(&app).await;
    assert_eq!(claims(&token)["exp"].as_i64().unwrap() - claims(&token)["iat"].as_i64().unwrap(), 600);
    app.state.clock.advance(Duration::from_secs(600 + 6)); // past the 5 s leeway
    assert_eq!(app.call(Method::GET, &format!("{BASE}/me"), Some(&token), None).await.status, 401);
}

#[tokio::test]
async fn concurrent_logouts_end_the_session_once_and_a_dead_token_cannot_log_out() {
    let app = app().await;
    let (_, _, token, _) = register(&app).await;
    let replies = super::all_at_once(&app, 6, || {
        bookshelf_tests::request(Method::POST, &format!("{BASE}/logout"), Some(&token), None)
    })
    .await;
    assert!(replies.iter().any(|r| r.status == 200), "{replies:?}");
    assert!(replies.iter().all(|r| r.status == 200 || r.body == error("Authentication required", "AUTH_REQUIRED")));
    let again = app.call(Method::POST, &format!("{BASE}/logout"), Some(&token), None).await;
    assert_eq!((again.status, &again.body), (401, &error("Authentication required", "AUTH_REQUIRED")));
    assert_eq!(app.call(Method::GET, &format!("{BASE}/me"), Some(&token), None).await.status, 401);
}
