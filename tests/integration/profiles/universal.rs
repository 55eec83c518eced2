//! `universal-bookshelf`: a Laravel + jwt-auth client under `/api`: one JWT per session,
//! exchanged (even when expired) for the next one within 14 days of the session's start.

use std::time::Duration;

use bookshelf_tests::{raw_request, TestApp};
use http::Method;
use serde_json::{json, Value};

use super::{all_at_once, claims, identity, post_from};

async fn app() -> TestApp {
    TestApp::with_profiles("universal-bookshelf", &[]).await
}

/// Signs up through the profile; (email, password, token, the whole reply body).
async fn signup(app: &TestApp) -> (String, String, String, Value) {
    let (_, email, password) = identity();
    let body = json!({"name": "Ada Reader", "email": email, "password": password, "password_confirmation": password});
    let reply = app.post("/api/signup", body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let token = reply.body["authorization"]["token"].as_str().unwrap().to_owned();
    (email, password, token, reply.body)
}

async fn profile(app: &TestApp, token: &str) -> u16 {
    app.call(Method::GET, "/api/user/profile", Some(token), None).await.status
}

async fn refresh(app: &TestApp, token: &str) -> bookshelf_tests::Reply {
    app.call(Method::POST, "/api/refresh", Some(token), None).await
}

fn is_laravel_time(value: &Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    text.len() == 27 && text.ends_with('Z') && text.as_bytes()[19] == b'.'
}

fn unauthenticated() -> Value {
    json!({"status": false, "message": "Unauthenticated."})
}

#[tokio::test]
async fn the_universal_bookshelf_journey_in_its_own_shapes() {
    let app = app().await;
    let (email, password, token, body) = signup(&app).await;
    assert_eq!(
        (body["status"].as_bool(), body["message"].as_str()),
        (Some(true), Some("User successfully registered"))
    );
    let user = &body["user"];
    assert_eq!(
        (user["name"].as_str(), user["email"].as_str(), user["role"].as_str()),
        (Some("Ada Reader"), Some(email.as_str()), Some("reader"))
    );
    assert!(
        user["email_verified_at"].is_null()
            && is_laravel_time(&user["created_at"])
            && is_laravel_time(&user["updated_at"]),
        "{user}"
    );
    assert_eq!(body["authorization"]["type"], "bearer");
    assert_eq!(claims(&token)["exp"].as_i64().unwrap() - claims(&token)["iat"].as_i64().unwrap(), 3600);

    let login = app.post("/api/login", json!({"email": email, "password": password})).await;
    assert_eq!((login.status, &login.body["message"]), (200, &json!("Login successful")));
    let fields: Vec<&str> = login.body["user"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["email", "id", "name", "role"]);

    let shown = app.call(Method::GET, "/api/user/profile", Some(&token), None).await;
    assert_eq!(
        (shown.status, &shown.body["status"], &shown.body["user"]["name"]),
        (200, &json!(true), &json!("Ada Reader"))
    );
    let renamed = app.call(Method::PUT, "/api/user/profile", Some(&token), Some(json!({"name": "Ada L."}))).await;
    assert_eq!(
        (renamed.status, &renamed.body["message"], &renamed.body["user"]["name"]),
        (200, &json!("Profile updated successfully"), &json!("Ada L."))
    );

    let sent = app.call(Method::POST, "/api/email/verification-notification", Some(&token), None).await;
    assert_eq!((sent.status, &sent.body), (200, &json!({"status": true, "message": "Verification link sent!"})));
    let link = app.outbox(&email).last().unwrap().token("verify-email");
    assert_eq!(app.post("/api/v1/auth/email/verify", json!({"token": link})).await.status, 204);
    let again = app.call(Method::POST, "/api/email/verification-notification", Some(&token), None).await;
    assert_eq!((again.status, &again.body), (200, &json!({"status": true, "message": "Email already verified."})));
    let verified = app.call(Method::GET, "/api/user/profile", Some(&token), None).await;
    assert!(is_laravel_time(&verified.body["user"]["email_verified_at"]), "{}", verified.body);

    let out = app.call(Method::POST, "/api/logout", Some(&token), None).await;
    assert_eq!((out.status, &out.body), (200, &json!({"status": true, "message": "Successfully logged out"})));
    let after = app.call(Method::GET, "/api/user/profile", Some(&token), None).await;
    assert_eq!((after.status, &after.body), (401, &unauthenticated()));
    assert_eq!(refresh(&app, &token).await.status, 401, "a logged-out token cannot be exchanged either");
}

#[tokio::test]
async fn refresh_exchanges_the_token_and_the_presented_one_dies_everywhere() {
    let app = app().await;
    let (_, _, token, _) = signup(&app).await;
    let refreshed = refresh(&app, &token).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.body["message"], "Token refreshed successfully");
    let next = refreshed.body["authorization"]["token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&next)["sid"], claims(&token)["sid"], "the same session goes on");
    assert_eq!(profile(&app, &next).await, 200);
    assert_eq!(profile(&app, &token).await, 401, "the exchanged token is dead");
    assert_eq!(app.call(Method::GET, "/api/v1/auth/me", Some(&token), None).await.status, 401, "on every route");
    assert_eq!(refresh(&app, &token).await.status, 401, "and cannot be exchanged again");
}

#[tokio::test]
async fn an_expired_token_is_exchanged_within_the_window_from_the_sessions_start() {
    let app = app().await;
    let (_, _, token, _) = signup(&app).await;
    app.state.clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(profile(&app, &token).await, 401, "expired");
    let refreshed = refresh(&app, &token).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let next = refreshed.body["authorization"]["token"].as_str().unwrap().to_owned();
    assert_eq!(profile(&app, &next).await, 200);
    // 14 days after the session began, the session is over whatever the client holds.
    app.state.clock.advance(Duration::from_secs(14 * 24 * 3600));
    let late = refresh(&app, &next).await;
    assert_eq!((late.status, &late.body), (401, &unauthenticated()));
}

#[tokio::test]
async fn concurrent_exchanges_of_one_token_have_exactly_one_winner() {
    let app = app().await;
    let (_, _, token, _) = signup(&app).await;
    let replies =
        all_at_once(&app, 8, || bookshelf_tests::request(Method::POST, "/api/refresh", Some(&token), None)).await;
    let winners: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1, "{replies:?}");
    assert!(replies.iter().filter(|r| r.status != 200).all(|r| r.status == 401 && r.body == unauthenticated()));
    let next = winners[0].body["authorization"]["token"].as_str().unwrap();
    assert_eq!(profile(&app, next).await, 200);
}

#[tokio::test]
async fn with_a_grace_period_concurrent_exchanges_all_get_the_winners_token() {
    let app =
        TestApp::with_profiles("universal-bookshelf", &[("PROFILE_UNIVERSAL_BOOKSHELF_REFRESH_GRACE_SECONDS", "30")])
            .await;
    let (_, _, token, _) = signup(&app).await;
    let replies =
        all_at_once(&app, 6, || bookshelf_tests::request(Method::POST, "/api/refresh", Some(&token), None)).await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| claims(r.body["authorization"]["token"].as_str().unwrap())["jti"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one live token id for the session");
    app.state.clock.advance(Duration::from_secs(31));
    assert_eq!(refresh(&app, &token).await.status, 401, "the grace is over");
}

#[tokio::test]
async fn signup_validation_is_laravels() {
    let app = app().await;
    let (email, ..) = signup(&app).await;
    let empty = app.post("/api/signup", json!({})).await;
    assert_eq!(empty.status, 422);
    assert_eq!(
        empty.body,
        json!({"status": false, "message": "Validation error", "errors": {
            "name": ["The name field is required."], "email": ["The email field is required."],
            "password": ["The password field is required."]}})
    );
    let (_, other_email, password) = identity();
    let mismatch =
        json!({"name": "B", "email": other_email, "password": password, "password_confirmation": "different-Passw0rd"});
    let reply = app.post("/api/signup", mismatch).await;
    assert_eq!(
        (reply.status, &reply.body["errors"]["password"]),
        (422, &json!(["The password confirmation does not match."]))
    );
    let taken =
        json!({"name": "B", "email": email.to_uppercase(), "password": password, "password_confirmation": password});
    let reply = app.post("/api/signup", taken).await;
    assert_eq!((reply.status, &reply.body["errors"]), (422, &json!({"email": ["The email has already been taken."]})));
    let admin = json!({"name": "B", "email": other_email, "password": password, "password_confirmation": password, "role": "admin"});
    let reply = app.post("/api/signup", admin).await;
    assert_eq!((reply.status, &reply.body["errors"]), (422, &json!({"role": ["The selected role is invalid."]})));
    let too_long =
        json!({"name": "n".repeat(101), "email": other_email, "password": password, "password_confirmation": password});
    let reply = app.post("/api/signup", too_long).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.body["errors"]["name"].is_array(),
        "the native display_name rule is reported on `name`: {}",
        reply.body
    );
}

#[tokio::test]
async fn a_role_from_the_allow_list_is_taken_at_sign_up_only_here() {
    let app = TestApp::with_profiles(
        "universal-bookshelf",
        &[("SELF_ASSIGNABLE_ROLES", "reader,author"), ("ROLES", "reader,author,admin")],
    )
    .await;
    let (_, email, password) = identity();
    let body = json!({"name": "Writer", "email": email, "password": password, "password_confirmation": password, "role": "author"});
    let reply = app.post("/api/signup", body).await;
    assert_eq!((reply.status, &reply.body["user"]["role"]), (201, &json!("author")), "{}", reply.body);
    assert_eq!(claims(reply.body["authorization"]["token"].as_str().unwrap())["role"], "author");
    // The native route never takes a role from a client (api.md).
    let (username, email, password) = identity();
    let native = app
        .post(
            "/api/v1/auth/register",
            json!({"username": username, "email": email, "password": password, "role": "author"}),
        )
        .await;
    assert_eq!((native.status, &native.body["user"]["role"]), (201, &json!("reader")));
}

#[tokio::test]
async fn login_and_tokens_are_refused_in_its_shape() {
    let app = app().await;
    let (email, ..) = signup(&app).await;
    let wrong = app.post("/api/login", json!({"email": email, "password": "Not-the-passw0rd"})).await;
    assert_eq!((wrong.status, &wrong.body), (401, &json!({"status": false, "message": "Invalid credentials"})));
    let missing = app.post("/api/login", json!({"email": email})).await;
    assert_eq!(
        (missing.status, &missing.body["errors"]),
        (422, &json!({"password": ["The password field is required."]}))
    );
    for token in [None, Some("garbage")] {
        let reply = app.call(Method::GET, "/api/user/profile", token, None).await;
        assert_eq!((reply.status, &reply.body), (401, &unauthenticated()));
    }
    let refresh_without = app.send(raw_request(Method::POST, "/api/refresh", None, b"")).await;
    assert_eq!((refresh_without.status, &refresh_without.body), (401, &unauthenticated()));
}

#[tokio::test]
async fn changing_the_password_keeps_the_callers_token_and_ends_every_other_session() {
    let app = app().await;
    let (email, password, token, _) = signup(&app).await;
    let other = app.post("/api/login", json!({"email": email, "password": password})).await;
    let other = other.body["authorization"]["token"].as_str().unwrap().to_owned();
    let path = "/api/user/change-password";
    let new = "Brand-new-passphrase-9";
    let wrong = json!({"current_password": "Not-it-at-all-1", "new_password": new, "new_password_confirmation": new});
    let reply = app.call(Method::PUT, path, Some(&token), Some(wrong)).await;
    assert_eq!(
        (reply.status, &reply.body["errors"]),
        (422, &json!({"current_password": ["The current password is incorrect."]}))
    );
    let mismatch =
        json!({"current_password": password, "new_password": new, "new_password_confirmation": "something-else-1"});
    let reply = app.call(Method::PUT, path, Some(&token), Some(mismatch)).await;
    assert_eq!(
        (reply.status, &reply.body["errors"]),
        (422, &json!({"new_password": ["The new password confirmation does not match."]}))
    );

    let body = json!({"current_password": password, "new_password": new, "new_password_confirmation": new});
    let changed = app.call(Method::PUT, path, Some(&token), Some(body)).await;
    assert_eq!(
        (changed.status, &changed.body),
        (200, &json!({"status": true, "message": "Password changed successfully"}))
    );
    assert_eq!(profile(&app, &token).await, 200, "the caller's token keeps working");
    assert_eq!(profile(&app, &other).await, 401, "every other session ended");
    assert_eq!(refresh(&app, &token).await.status, 200, "and the caller's session goes on");
    assert_eq!(app.post("/api/login", json!({"email": email, "password": password})).await.status, 401);
    assert_eq!(app.post("/api/login", json!({"email": email, "password": new})).await.status, 200);
}

#[tokio::test]
async fn changing_the_email_needs_no_password_here_and_tells_the_old_address() {
    let app = app().await;
    let (old, _, token, _) = signup(&app).await;
    let (taken, ..) = signup(&app).await;
    let reply = app.call(Method::PUT, "/api/user/profile", Some(&token), Some(json!({"email": taken}))).await;
    assert_eq!((reply.status, &reply.body["errors"]), (422, &json!({"email": ["The email has already been taken."]})));
    let (_, new, _) = identity();
    let reply = app.call(Method::PUT, "/api/user/profile", Some(&token), Some(json!({"email": new}))).await;
    assert_eq!((reply.status, &reply.body["user"]["email"]), (200, &json!(new)), "{}", reply.body);
    assert!(reply.body["user"]["email_verified_at"].is_null());
    let notice = app.outbox(&old).pop().expect("the old address is told");
    assert!(notice.subject.contains("email address was changed") && notice.text.contains(&new), "{}", notice.text);
}

#[tokio::test]
async fn signup_login_and_refresh_allow_five_a_minute_per_ip() {
    let app = app().await;
    let body = json!({"email": "someone@example.com", "password": "Wrong-passw0rd"});
    for _ in 0..5 {
        assert_eq!(post_from(&app, "192.0.2.44", "/api/login", &body).await.status, 401);
    }
    let limited = post_from(&app, "192.0.2.44", "/api/login", &body).await;
    assert_eq!((limited.status, &limited.body), (429, &json!({"status": false, "message": "Too Many Attempts."})));
    assert!(limited.headers.contains_key("retry-after"));
    // Its own window: the native login from the same address is not spent.
    let native =
        post_from(&app, "192.0.2.44", "/api/v1/auth/login", &json!({"username": "someone", "password": "x"})).await;
    assert_ne!(native.status, 429);
}
