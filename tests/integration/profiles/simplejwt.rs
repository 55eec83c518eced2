//! `simplejwt`: a Django REST framework + simplejwt client under `/auth`, posting JSON or forms.

use std::collections::BTreeSet;
use std::time::Duration;

use bookshelf_tests::{raw_request, with_authorization, Reply, TestApp};
use http::Method;
use serde_json::{json, Value};

use super::{all_at_once, claims, identity, post_from};

const FORM: &str = "application/x-www-form-urlencoded";

async fn app() -> TestApp {
    TestApp::with_profiles("simplejwt", &[]).await
}

async fn form(app: &TestApp, path: &str, body: &str) -> Reply {
    app.send(raw_request(Method::POST, path, Some(FORM), body.as_bytes())).await
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Registers through the profile; (username, password, access, refresh).
async fn register(app: &TestApp) -> (String, String, String, String) {
    let (username, _, password) = identity();
    let reply = app.post("/auth/register", json!({"username": username, "password": password})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (username, password, reply.str("access"), reply.str("refresh"))
}

fn keys(body: &Value) -> BTreeSet<&str> {
    body.as_object().unwrap().keys().map(String::as_str).collect()
}

fn token_not_valid() -> Value {
    json!({"detail": "Token is invalid or expired", "code": "token_not_valid"})
}

#[tokio::test]
async fn the_simplejwt_journey_with_json_and_form_bodies() {
    let app = app().await;
    let (username, password, access, refresh) = register(&app).await;
    let form_login =
        form(&app, "/auth/token", &format!("username={}&password={}", encoded(&username), encoded(&password))).await;
    assert_eq!(form_login.status, 200, "{}", form_login.body);
    assert_eq!(keys(&form_login.body), BTreeSet::from(["access", "refresh"]));
    let json_login = app.post("/auth/token", json!({"username": username, "password": password})).await;
    assert_eq!(json_login.status, 200);
    let extra = claims(&access);
    assert_eq!((extra["token_type"].as_str(), extra["user_id"].as_str()), (Some("access"), extra["sub"].as_str()));

    let user = app.call(Method::GET, "/auth/getuser", Some(&access), None).await;
    assert_eq!((user.status, &user.body), (200, &json!({"username": username})));
    let verified = app.post("/auth/token/verify", json!({"token": access})).await;
    assert_eq!((verified.status, &verified.body), (200, &json!({})));

    // Rotation is off: the same refresh token comes back and keeps working.
    for _ in 0..2 {
        let refreshed = form(&app, "/auth/token/refresh", &format!("refresh={}", encoded(&refresh))).await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
        assert_eq!(refreshed.str("refresh"), refresh);
        assert_eq!(app.call(Method::GET, "/auth/getuser", Some(&refreshed.str("access")), None).await.status, 200);
    }
    let form_register =
        form(&app, "/auth/register", &format!("username=form_{}&password={}", &username[..20], encoded(&password)))
            .await;
    assert_eq!(form_register.status, 201, "{}", form_register.body);
}

#[tokio::test]
async fn field_errors_are_drfs() {
    let app = app().await;
    let (username, password, ..) = register(&app).await;
    let empty = app.post("/auth/token", json!({"username": ""})).await;
    assert_eq!(empty.status, 400);
    assert_eq!(
        empty.body,
        json!({"username": ["This field may not be blank."], "password": ["This field is required."]})
    );
    // The real register view names both fields, without a full stop, when either is missing.
    let missing = form(&app, "/auth/register", "username=someone").await;
    assert_eq!(
        (missing.status, &missing.body),
        (400, &json!({"username": ["This field is required"], "password": ["This field is required"]}))
    );
    let weak = app.post("/auth/register", json!({"username": "fresh_reader_1", "password": "password123"})).await;
    assert_eq!((weak.status, &weak.body), (400, &json!({"password": ["This password is too common."]})));
    let taken = app.post("/auth/register", json!({"username": username.to_uppercase(), "password": password})).await;
    assert_eq!((taken.status, &taken.body), (409, &json!({"detail": "User already exists"})));
    let no_refresh = app.post("/auth/token/refresh", json!({})).await;
    assert_eq!((no_refresh.status, &no_refresh.body), (400, &json!({"refresh": ["This field is required."]})));
}

#[tokio::test]
async fn token_errors_are_simplejwts_with_www_authenticate() {
    let app = app().await;
    let (username, _, access, refresh) = register(&app).await;
    let wrong = form(&app, "/auth/token", &format!("username={username}&password=Wrong-passw0rd")).await;
    assert_eq!(
        (wrong.status, &wrong.body),
        (401, &json!({"detail": "No active account found with the given credentials"}))
    );
    assert_eq!(wrong.headers["www-authenticate"], "Bearer realm=\"api\"");
    for (path, body) in [
        ("/auth/token/refresh", json!({"refresh": "not-a-refresh-token"})),
        ("/auth/token/verify", json!({"token": "not.a.token"})),
        // Refresh tokens are opaque here: /token/verify takes access tokens only.
        ("/auth/token/verify", json!({"token": refresh})),
    ] {
        let reply = app.post(path, body).await;
        assert_eq!((reply.status, &reply.body), (401, &token_not_valid()), "{path}");
        assert_eq!(reply.headers["www-authenticate"], "Bearer realm=\"api\"");
    }
    let no_header = app.send(raw_request(Method::GET, "/auth/getuser", None, b"")).await;
    assert_eq!(
        (no_header.status, &no_header.body),
        (401, &json!({"detail": "Authentication credentials were not provided."}))
    );
    let bare = app.send(with_authorization(raw_request(Method::GET, "/auth/getuser", None, b""), "Bearer")).await;
    assert_eq!(
        bare.body,
        json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"})
    );
    let invalid = app.call(Method::GET, "/auth/getuser", Some(&format!("{access}x")), None).await;
    assert_eq!(invalid.status, 401);
    assert_eq!(
        invalid.body,
        json!({"detail": "Given token not valid for any token type", "code": "token_not_valid",
               "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid or expired"}]})
    );
    assert_eq!(invalid.headers["www-authenticate"], "Bearer realm=\"api\"");
}

#[tokio::test]
async fn with_rotation_on_one_concurrent_refresh_makes_the_successor() {
    let app = TestApp::with_profiles("simplejwt", &[("PROFILE_SIMPLEJWT_ROTATE_REFRESH", "true")]).await;
    let (.., refresh) = register(&app).await;
    let replies = all_at_once(&app, 8, || {
        bookshelf_tests::request(Method::POST, "/auth/token/refresh", None, Some(json!({"refresh": refresh})))
    })
    .await;
    let successors: BTreeSet<String> = replies.iter().filter(|r| r.status == 200).map(|r| r.str("refresh")).collect();
    assert_eq!(successors.len(), 1, "{replies:?}");
    assert!(!successors.contains(&refresh));
    // Once the grace window is over, the old token is a replay: the session is revoked.
    app.state.clock.advance(Duration::from_secs(11));
    assert_eq!(app.post("/auth/token/refresh", json!({"refresh": refresh})).await.body, token_not_valid());
    let successor = successors.into_iter().next().unwrap();
    assert_eq!(
        app.post("/auth/token/refresh", json!({"refresh": successor})).await.status,
        401,
        "the whole session died"
    );
}

#[tokio::test]
async fn access_tokens_live_their_own_setting() {
    let app = TestApp::with_profiles("simplejwt", &[("PROFILE_SIMPLEJWT_ACCESS_TTL_SECONDS", "300")]).await;
    let (.., access, _) = register(&app).await;
    assert_eq!(claims(&access)["exp"].as_i64().unwrap() - claims(&access)["iat"].as_i64().unwrap(), 300);
}

#[tokio::test]
async fn too_many_attempts_are_drfs_throttle_answer() {
    let app = TestApp::with_profiles("simplejwt", &[("RATE_LIMIT_REGISTER_PER_MINUTE", "1")]).await;
    let body = json!({"username": "", "password": ""});
    assert_eq!(post_from(&app, "192.0.2.77", "/auth/register", &body).await.status, 400);
    let limited = post_from(&app, "192.0.2.77", "/auth/register", &body).await;
    assert_eq!(limited.status, 429);
    let retry_after = limited.headers["retry-after"].to_str().unwrap().to_owned();
    assert_eq!(
        limited.body,
        json!({"detail": format!("Request was throttled. Expected available in {retry_after} seconds.")})
    );
}
