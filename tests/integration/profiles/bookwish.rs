//! `bookwish`: a BookWish phone: guests by device, migration to a full account under the same
//! id, flat token bodies, rotating refresh tokens, and `{"error", "message"}` failures.

use std::collections::BTreeSet;
use std::time::Duration;

use bookshelf_tests::{raw_request, unique, with_authorization, Reply, TestApp};
use http::Method;
use serde_json::{json, Value};

use super::{all_at_once, claims, identity};

async fn app() -> TestApp {
    TestApp::with_profiles("bookwish", &[]).await
}

async fn signup(app: &TestApp) -> (String, String, Reply) {
    let (_, email, password) = identity();
    let reply = app.post("/auth/signup", json!({"email": email, "password": password, "displayName": "Wren"})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (email, password, reply)
}

fn error(code: &str, message: &str) -> Value {
    json!({"error": code, "message": message})
}

#[tokio::test]
async fn the_bookwish_guest_journey_keeps_one_user_id() {
    let app = app().await;
    let device = unique("device-");
    let first = app.post("/auth/guest", json!({"device_id": device})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let user = &first.body["user"];
    assert_eq!(
        (&user["displayName"], &user["isGuest"], &user["tier"]),
        (&json!("Guest User"), &json!(true), &json!("free"))
    );
    let keys: BTreeSet<&str> = first.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["user", "access_token", "refresh_token"]));
    let access = first.str("access_token");
    let extra = claims(&access);
    assert_eq!((&extra["userId"], &extra["isGuest"], &extra["tier"]), (&user["id"], &json!(true), &json!("free")));

    let returning = app.post("/auth/guest", json!({"deviceId": device})).await;
    assert_eq!(
        (returning.status, &returning.body["user"]["id"]),
        (200, &user["id"]),
        "the camelCase spelling works too"
    );

    let (_, email, password) = identity();
    let body = json!({"email": email, "password": password, "display_name": "Wren"});
    let migrated = app.call(Method::POST, "/auth/migrate-guest", Some(&access), Some(body)).await;
    assert_eq!(migrated.status, 200, "{}", migrated.body);
    assert_eq!((&migrated.body["user"]["id"], &migrated.body["user"]["isGuest"]), (&user["id"], &json!(false)));
    let again = app
        .call(
            Method::POST,
            "/auth/migrate-guest",
            Some(&migrated.str("access_token")),
            Some(json!({"email": email, "password": password, "display_name": "W"})),
        )
        .await;
    assert_eq!((again.status, &again.body), (400, &error("BadRequest", "User is not a guest account")));

    let login = app.post("/auth/login", json!({"email": email, "password": password})).await;
    assert_eq!((login.status, &login.body["user"]["id"]), (200, &user["id"]));
    let me = app.call(Method::GET, "/users/me", Some(&login.str("access_token")), None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let fields: BTreeSet<&str> = me.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        BTreeSet::from(["id", "email", "displayName", "isGuest", "tier", "username", "createdAt", "updatedAt"])
    );
}

#[tokio::test]
async fn the_tier_is_read_fresh_on_every_request() {
    let app = app().await;
    let (.., reply) = signup(&app).await;
    let access = reply.str("access_token");
    let user_id = claims(&access)["sub"].as_str().unwrap().to_owned();
    app.set_user_attribute(&user_id, "tier", "premium").await;
    let me = app.call(Method::GET, "/users/me", Some(&access), None).await;
    assert_eq!(me.body["tier"], "premium", "not the tier the token was minted with");
}

#[tokio::test]
async fn refresh_rotates_with_the_native_grace_and_reuse_rules() {
    let app = app().await;
    let (.., reply) = signup(&app).await;
    let refresh = reply.str("refresh_token");
    let rotated = app.post("/auth/refresh", json!({"refreshToken": refresh})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let keys: BTreeSet<&str> = rotated.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["access_token", "refresh_token"]));
    let successor = rotated.str("refresh_token");
    assert_ne!(successor, refresh);
    // A retry within the grace window gets the same successor.
    assert_eq!(app.post("/auth/refresh", json!({"refresh_token": refresh})).await.str("refresh_token"), successor);
    app.state.clock.advance(Duration::from_secs(11));
    let replay = app.post("/auth/refresh", json!({"refresh_token": refresh})).await;
    assert_eq!((replay.status, &replay.body), (401, &error("InvalidToken", "Token has been revoked")));
    let dead = app.post("/auth/refresh", json!({"refresh_token": successor})).await;
    assert_eq!((dead.status, &dead.body), (401, &error("InvalidToken", "Token is invalid or expired")));
}

#[tokio::test]
async fn concurrent_refreshes_make_exactly_one_successor() {
    let app = app().await;
    let (.., reply) = signup(&app).await;
    let refresh = reply.str("refresh_token");
    let replies = all_at_once(&app, 8, || {
        bookshelf_tests::request(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": refresh})))
    })
    .await;
    let successors: BTreeSet<String> =
        replies.iter().filter(|r| r.status == 200).map(|r| r.str("refresh_token")).collect();
    assert_eq!(successors.len(), 1, "{replies:?}");
}

#[tokio::test]
async fn logout_ends_the_session_of_its_refresh_token() {
    let app = app().await;
    let (.., reply) = signup(&app).await;
    let (access, refresh) = (reply.str("access_token"), reply.str("refresh_token"));
    let out = app.call(Method::POST, "/auth/logout", Some(&access), Some(json!({"refresh_token": refresh}))).await;
    assert_eq!((out.status, &out.body), (200, &json!({"success": true})));
    assert_eq!(app.post("/auth/refresh", json!({"refresh_token": refresh})).await.status, 401);
    let me = app.call(Method::GET, "/users/me", Some(&access), None).await;
    assert_eq!((me.status, &me.body), (401, &error("Unauthorized", "Invalid or expired token")));
}

#[tokio::test]
async fn its_error_table() {
    let app = app().await;
    let (email, password, _) = signup(&app).await;
    let missing = app.post("/auth/signup", json!({"email": "x@example.com"})).await;
    assert_eq!(
        (missing.status, &missing.body["error"], &missing.body["message"]),
        (400, &json!("ValidationError"), &json!("Validation failed"))
    );
    let paths: BTreeSet<&str> =
        missing.body["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, BTreeSet::from(["display_name", "password"]));
    let long_name = app
        .post("/auth/signup", json!({"email": "y@example.com", "password": password, "displayName": "n".repeat(101)}))
        .await;
    assert_eq!((long_name.status, &long_name.body["details"][0]["path"]), (400, &json!("display_name")));
    let taken = app
        .post("/auth/signup", json!({"email": email.to_uppercase(), "password": password, "display_name": "Dup"}))
        .await;
    assert_eq!((taken.status, &taken.body), (409, &error("EmailConflict", "Email already registered")));
    let wrong = app.post("/auth/login", json!({"email": email, "password": "Wrong-passw0rd"})).await;
    assert_eq!((wrong.status, &wrong.body), (401, &error("InvalidCredentials", "Email or password incorrect")));

    let guest = app.post("/auth/guest", json!({"device_id": unique("device-")})).await.str("access_token");
    let body = json!({"email": email, "password": password, "display_name": "Dup"});
    let in_use = app.call(Method::POST, "/auth/migrate-guest", Some(&guest), Some(body)).await;
    assert_eq!((in_use.status, &in_use.body), (409, &error("EmailConflict", "Email already in use")));
    let short_device = app.post("/auth/guest", json!({"device_id": "abc"})).await;
    assert_eq!((short_device.status, &short_device.body["details"][0]["path"]), (400, &json!("device_id")));
    let bad_refresh = app.post("/auth/refresh", json!({"refresh_token": "nope"})).await;
    assert_eq!((bad_refresh.status, &bad_refresh.body), (401, &error("InvalidToken", "Token is invalid or expired")));
    let no_header = app.send(raw_request(Method::GET, "/users/me", None, b"")).await;
    assert_eq!(
        (no_header.status, &no_header.body),
        (401, &error("Unauthorized", "Missing or invalid authorization header"))
    );
    let basic = app.send(with_authorization(raw_request(Method::GET, "/users/me", None, b""), "Basic abc")).await;
    assert_eq!(basic.body, error("Unauthorized", "Missing or invalid authorization header"));
    let not_json = app.send(raw_request(Method::POST, "/auth/login", Some("application/json"), b"nope")).await;
    assert_eq!((not_json.status, &not_json.body["error"]), (400, &json!("BadRequest")));
}
