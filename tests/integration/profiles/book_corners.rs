//! `book-corners`: a Book Corners client (django-ninja + ninja-jwt) under `/api/v1/auth`.

use std::collections::BTreeSet;

use bookshelf_tests::{raw_request, with_authorization, TestApp};
use http::Method;
use serde_json::{json, Value};

use super::{all_at_once, claims, identity, json_request, post_from};

const BASE: &str = "/api/v1/auth";

async fn app() -> TestApp {
    TestApp::with_profiles("book-corners", &[]).await
}

fn keys(body: &Value) -> BTreeSet<&str> {
    body.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Registers through the profile; (username, email, password, access, refresh).
async fn register(app: &TestApp) -> (String, String, String, String, String) {
    let (username, email, password) = identity();
    let reply = app
        .post(&format!("{BASE}/register"), json!({"username": username, "email": email, "password": password}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(keys(&reply.body), BTreeSet::from(["access", "refresh"]));
    (username, email, password, reply.str("access"), reply.str("refresh"))
}

#[tokio::test]
async fn the_book_corners_journey_in_its_own_shapes() {
    let app = app().await;
    let (username, email, password, access, _) = register(&app).await;

    let by_name = app.post(&format!("{BASE}/login"), json!({"username": username, "password": password})).await;
    assert_eq!((by_name.status, keys(&by_name.body)), (200, BTreeSet::from(["access", "refresh"])));
    // The email works in `username` too, in any case and with stray spaces.
    let by_email = app
        .post(
            &format!("{BASE}/login"),
            json!({"username": format!("  {}  ", email.to_uppercase()), "password": password}),
        )
        .await;
    assert_eq!(by_email.status, 200, "{}", by_email.body);

    let me = app.call(Method::GET, &format!("{BASE}/me"), Some(&access), None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(keys(&me.body), BTreeSet::from(["id", "username", "email", "is_social_only", "is_staff"]));
    assert_eq!(
        (me.body["username"].as_str(), me.body["email"].as_str()),
        (Some(username.as_str()), Some(email.as_str()))
    );
    assert_eq!((me.body["is_social_only"].as_bool(), me.body["is_staff"].as_bool()), (Some(false), Some(false)));
    assert_eq!(me.body["id"], claims(&access)["sub"], "a user without a legacy id shows the UUID");
    // ninja-jwt's claims ride along with the native ones.
    assert_eq!(claims(&access)["token_type"], "access");
}

#[tokio::test]
async fn refresh_does_not_rotate_the_refresh_token() {
    let app = app().await;
    let (.., refresh) = register(&app).await;
    for _ in 0..3 {
        let reply = app.post(&format!("{BASE}/refresh"), json!({"refresh": refresh})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(keys(&reply.body), BTreeSet::from(["access"]), "the client keeps its refresh token");
        let me = app.call(Method::GET, &format!("{BASE}/me"), Some(&reply.str("access")), None).await;
        assert_eq!(me.status, 200);
    }
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_all_succeed_without_rotation() {
    let app = app().await;
    let (.., refresh) = register(&app).await;
    let replies = all_at_once(&app, 8, || {
        json_request(Method::POST, &format!("{BASE}/refresh"), None, &json!({"refresh": refresh}))
    })
    .await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let again = app.post(&format!("{BASE}/refresh"), json!({"refresh": refresh})).await;
    assert_eq!(again.status, 200, "the one refresh token is still good");
}

#[tokio::test]
async fn with_rotation_on_a_refresh_answers_the_successor_and_one_wins_a_race() {
    let app = TestApp::with_profiles("book-corners", &[("PROFILE_BOOK_CORNERS_ROTATE_REFRESH", "true")]).await;
    let (.., refresh) = register(&app).await;
    let replies = all_at_once(&app, 8, || {
        json_request(Method::POST, &format!("{BASE}/refresh"), None, &json!({"refresh": refresh}))
    })
    .await;
    let successors: BTreeSet<String> = replies.iter().filter(|r| r.status == 200).map(|r| r.str("refresh")).collect();
    assert_eq!(successors.len(), 1, "exactly one successor: {replies:?}");
    assert!(!successors.contains(&refresh));
}

#[tokio::test]
async fn register_errors_follow_book_corners() {
    let app = app().await;
    let (username, email, password, ..) = register(&app).await;
    let path = format!("{BASE}/register");
    let (other, other_email, _) = identity();
    let cases = [
        (
            json!({"username": username.to_uppercase(), "email": other_email, "password": password}),
            "Username already exists.",
        ),
        (json!({"username": other, "email": email.to_uppercase(), "password": password}), "Email already exists."),
        (json!({"username": other, "email": "not-an-address", "password": password}), "Provide a valid email address."),
        (json!({"username": other, "email": other_email, "password": "password123"}), "This password is too common."),
    ];
    for (body, message) in cases {
        let reply = app.post(&path, body).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body, json!({"message": message, "details": null}));
    }
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_pydantics_422() {
    let app = app().await;
    let (username, email, password) = identity();
    let missing = app.post(&format!("{BASE}/register"), json!({"username": username, "password": password})).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(missing.body["message"], "Validation error.");
    assert_eq!(
        missing.body["details"]["errors"],
        json!([{"type": "missing", "loc": ["body", "payload", "email"], "msg": "Field required"}])
    );
    let short =
        app.post(&format!("{BASE}/register"), json!({"username": "ab", "email": email, "password": "short"})).await;
    let errors = &short.body["details"]["errors"];
    assert_eq!(short.status, 422);
    assert!(errors.as_array().unwrap().contains(&json!({"type": "string_too_short", "loc": ["body", "payload", "username"], "msg": "String should have at least 3 characters"})), "{errors}");
    assert!(errors.as_array().unwrap().contains(&json!({"type": "string_too_short", "loc": ["body", "payload", "password"], "msg": "String should have at least 8 characters"})), "{errors}");
    let refresh = app.post(&format!("{BASE}/refresh"), json!({"refresh": "too-short"})).await;
    assert_eq!((refresh.status, &refresh.body["details"]["errors"][0]["loc"][2]), (422, &json!("refresh")));
    let login = app.post(&format!("{BASE}/login"), json!({"username": 5, "password": "x"})).await;
    assert_eq!((login.status, &login.body["details"]["errors"][0]["type"]), (422, &json!("string_type")));

    let not_json =
        app.send(raw_request(Method::POST, &format!("{BASE}/login"), Some("application/json"), b"{oops")).await;
    assert_eq!(
        (not_json.status, &not_json.body),
        (400, &json!({"message": "Cannot parse request body", "details": null}))
    );
}

#[tokio::test]
async fn wrong_credentials_and_bad_tokens_are_401_in_its_shape() {
    let app = app().await;
    let (username, ..) = register(&app).await;
    for body in [
        json!({"username": username, "password": "Wrong-password-1"}),
        json!({"username": "nobody_here", "password": "Wrong-password-1"}),
    ] {
        let reply = app.post(&format!("{BASE}/login"), body).await;
        assert_eq!((reply.status, &reply.body), (401, &json!({"message": "Invalid credentials.", "details": null})));
    }
    let bad_refresh = app.post(&format!("{BASE}/refresh"), json!({"refresh": "x".repeat(40)})).await;
    assert_eq!((bad_refresh.status, &bad_refresh.body["message"]), (401, &json!("Invalid or expired refresh token.")));
    let me = format!("{BASE}/me");
    for header in [None, Some("Basic abc"), Some("Bearer not.a.token")] {
        let mut req = raw_request(Method::GET, &me, None, b"");
        if let Some(value) = header {
            req = with_authorization(req, value);
        }
        let reply = app.send(req).await;
        assert_eq!(
            (reply.status, &reply.body),
            (401, &json!({"message": "Unauthorized", "details": null})),
            "{header:?}"
        );
    }
}

#[tokio::test]
async fn login_over_the_limit_is_429_with_retry_after_in_its_shape() {
    let app = TestApp::with_profiles("book-corners", &[("RATE_LIMIT_LOGIN_PER_MINUTE", "2")]).await;
    let body = json!({"username": "someone", "password": "Wrong-password-1"});
    for _ in 0..2 {
        assert_eq!(post_from(&app, "192.0.2.10", &format!("{BASE}/login"), &body).await.status, 401);
    }
    let limited = post_from(&app, "192.0.2.10", &format!("{BASE}/login"), &body).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body, json!({"message": "Too many login attempts. Please try again later.", "details": null}));
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn an_imported_user_shows_its_numeric_legacy_id() {
    let app = app().await;
    let (username, _, password, access, _) = register(&app).await;
    let user_id = claims(&access)["sub"].as_str().unwrap().to_owned();
    app.set_user_attribute(&user_id, "legacy_id", "4711").await;
    let me = app.call(Method::GET, &format!("{BASE}/me"), Some(&access), None).await;
    assert_eq!(me.body["id"], 4711, "{}", me.body);
    let login = app.post(&format!("{BASE}/login"), json!({"username": username, "password": password})).await;
    assert_eq!(claims(&login.str("access"))["user_id"], 4711);
}

#[tokio::test]
async fn staff_roles_read_as_is_staff() {
    let app = app().await;
    let (.., access, _) = register(&app).await;
    let user_id = claims(&access)["sub"].as_str().unwrap().to_owned();
    app.set_user_attribute(&user_id, "role", "admin").await;
    let me = app.call(Method::GET, &format!("{BASE}/me"), Some(&access), None).await;
    assert_eq!(me.body["is_staff"], true);
}
