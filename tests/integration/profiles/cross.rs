//! What every profile shares: one core. One user signs in through several profiles at once;
//! each profile's token works on every bearer route of every enabled profile, and a session
//! ended in one profile is dead in all.

use bookshelf_tests::TestApp;
use http::Method;
use serde_json::{json, Value};

use super::{claims, identity};

const FOUR: &str = "bookshelf,simplejwt,bookwish,universal-bookshelf";

/// The bearer routes of the four profiles that can be enabled together.
const BEARER_ROUTES: &[&str] = &["/api/v1/auth/me", "/auth/getuser", "/users/me", "/api/user/profile"];

struct Tokens {
    native: String,
    simplejwt: String,
    bookwish: String,
    universal: String,
}

async fn sign_in_everywhere(app: &TestApp) -> (String, String, Tokens) {
    let (username, email, password) = identity();
    let native =
        app.post("/api/v1/auth/register", json!({"username": username, "email": email, "password": password})).await;
    assert_eq!(native.status, 201, "{}", native.body);
    let simplejwt = app.post("/auth/token", json!({"username": username, "password": password})).await;
    let bookwish = app.post("/auth/login", json!({"email": email, "password": password})).await;
    let universal = app.post("/api/login", json!({"email": email, "password": password})).await;
    let tokens = Tokens {
        native: native.str("access_token"),
        simplejwt: simplejwt.str("access"),
        bookwish: bookwish.str("access_token"),
        universal: universal.body["authorization"]["token"].as_str().unwrap().to_owned(),
    };
    (username, password, tokens)
}

async fn status(app: &TestApp, path: &str, token: &str) -> u16 {
    app.call(Method::GET, path, Some(token), None).await.status
}

#[tokio::test]
async fn every_profiles_token_works_on_every_bearer_route_of_every_enabled_profile() {
    let app = TestApp::with_profiles(FOUR, &[]).await;
    let (_, _, tokens) = sign_in_everywhere(&app).await;
    let subject = claims(&tokens.native)["sub"].clone();
    for token in [&tokens.native, &tokens.simplejwt, &tokens.bookwish, &tokens.universal] {
        assert_eq!(claims(token)["sub"], subject, "one user, one id");
        for path in BEARER_ROUTES {
            assert_eq!(status(&app, path, token).await, 200, "{path}");
        }
    }
}

#[tokio::test]
async fn a_session_ended_in_one_profile_is_dead_in_all() {
    let app = TestApp::with_profiles(FOUR, &[]).await;
    let (_, _, tokens) = sign_in_everywhere(&app).await;
    // BookWish's logout without a refresh token ends the bearer's own session.
    assert_eq!(app.call(Method::POST, "/auth/logout", Some(&tokens.bookwish), Some(json!({}))).await.status, 200);
    assert_eq!(app.call(Method::POST, "/api/logout", Some(&tokens.universal), None).await.status, 200);
    for path in BEARER_ROUTES {
        assert_eq!(status(&app, path, &tokens.bookwish).await, 401, "{path}");
        assert_eq!(status(&app, path, &tokens.universal).await, 401, "{path}");
        assert_eq!(status(&app, path, &tokens.simplejwt).await, 200, "other sessions live on: {path}");
    }
    // The native logout of every session reaches the profiles' sessions too.
    let all =
        app.call(Method::POST, "/api/v1/auth/logout", Some(&tokens.native), Some(json!({"all_sessions": true}))).await;
    assert_eq!(all.status, 204, "{}", all.body);
    for path in BEARER_ROUTES {
        assert_eq!(status(&app, path, &tokens.simplejwt).await, 401, "{path}");
    }
}

#[tokio::test]
async fn a_native_password_change_ends_the_profiles_sessions() {
    let app = TestApp::with_profiles(FOUR, &[]).await;
    let (_, password, tokens) = sign_in_everywhere(&app).await;
    let body = json!({"current_password": password, "new_password": "Fresh-long-passphrase-7"});
    assert_eq!(app.call(Method::POST, "/api/v1/auth/password", Some(&tokens.native), Some(body)).await.status, 200);
    for token in [&tokens.simplejwt, &tokens.bookwish, &tokens.universal] {
        assert_eq!(status(&app, "/api/v1/auth/me", token).await, 401);
    }
    assert_eq!(app.call(Method::POST, "/api/refresh", Some(&tokens.universal), None).await.status, 401);
}

#[tokio::test]
async fn unknown_and_server_owned_fields_are_ignored() {
    let app = TestApp::with_profiles(FOUR, &[]).await;
    let (_, email, password) = identity();
    let body = json!({"email": email, "password": password, "display_name": "Wren", "tier": "premium",
                      "isGuest": true, "role": "admin", "favouriteBook": "Dune"});
    let reply = app.post("/auth/signup", body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!((&reply.body["user"]["tier"], &reply.body["user"]["isGuest"]), (&json!("free"), &json!(false)));
    assert_eq!(claims(&reply.str("access_token"))["role"], "reader");
}

#[tokio::test]
async fn a_profile_route_that_is_not_enabled_answers_404_like_any_unknown_path() {
    let app = TestApp::with_profiles("bookshelf,simplejwt", &[]).await;
    let reply = app.post("/auth/guest", json!({"device_id": "device-0001"})).await;
    reply.assert_problem(404, "not_found");
    let reply = app.post("/api/signup", json!({})).await;
    reply.assert_problem(404, "not_found");
}

#[tokio::test]
async fn the_native_routes_a_profile_does_not_claim_stay_native() {
    let app = TestApp::with_profiles("book-corners", &[]).await;
    let (username, email, password) = identity();
    let registered =
        app.post("/api/v1/auth/register", json!({"username": username, "email": email, "password": password})).await;
    let access = registered.str("access");
    let sessions = app.call(Method::GET, "/api/v1/auth/sessions", Some(&access), None).await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    assert!(sessions.body["sessions"].is_array(), "the native shape: {}", sessions.body);
    let out = app.call(Method::POST, "/api/v1/auth/logout", Some(&access), None).await;
    assert_eq!(out.status, 204, "Book Corners has no logout: the native one serves");
    let me = app.call(Method::GET, "/api/v1/auth/me", Some(&access), None).await;
    assert_eq!(me.body, json!({"message": "Unauthorized", "details": null}));
}

#[tokio::test]
async fn the_same_person_signing_up_through_two_profiles_is_one_account() {
    let app = TestApp::with_profiles(FOUR, &[]).await;
    let (_, email, password) = identity();
    let first = app.post("/auth/signup", json!({"email": email, "password": password, "display_name": "Wren"})).await;
    assert_eq!(first.status, 201);
    let second = app
        .post(
            "/api/signup",
            json!({"name": "Wren", "email": email, "password": password, "password_confirmation": password}),
        )
        .await;
    assert_eq!((second.status, &second.body["errors"]["email"]), (422, &json!(["The email has already been taken."])));
    let login: Value = app.post("/api/login", json!({"email": email, "password": password})).await.body;
    assert_eq!(login["user"]["id"], first.body["user"]["id"]);
}

#[tokio::test]
async fn every_profile_answers_a_spent_limit_with_its_429_and_retry_after() {
    use super::post_from;
    let (_, email, password) = identity();
    let cases = [
        (
            "book-corners",
            "/api/v1/auth/register",
            json!({"message": "Too many registration attempts. Please try again later.", "details": null}),
        ),
        (
            "session-api",
            "/api/v1/auth/register",
            json!({"success": false, "error": "Too many registration attempts. Please try again later.", "code": "RATE_LIMITED"}),
        ),
        ("universal-bookshelf", "/api/signup", json!({"status": false, "message": "Too Many Attempts."})),
        (
            "bookwish",
            "/auth/signup",
            json!({"error": "RateLimited", "message": "Too many registration attempts. Please try again later."}),
        ),
    ];
    for (profile, path, expected) in cases {
        let app = TestApp::with_profiles(
            profile,
            &[("RATE_LIMIT_REGISTER_PER_MINUTE", "1"), ("PROFILE_UNIVERSAL_BOOKSHELF_PER_MINUTE", "1")],
        )
        .await;
        // Invalid bodies count too: the window is per request, before any rule.
        let body = json!({"email": email, "password": password, "username": 5});
        let first = post_from(&app, "192.0.2.99", path, &body).await;
        assert_ne!(first.status, 429, "{profile}");
        let limited = post_from(&app, "192.0.2.99", path, &body).await;
        assert_eq!((limited.status, &limited.body), (429, &expected), "{profile}");
        assert!(limited.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1, "{profile}");
    }
}
