//! `/me`, `/verify` and `/logout`: revocation takes effect at once.

use bookshelf_tests::{jwt_claims, TestApp};
use http::Method;
use serde_json::json;

#[tokio::test]
async fn me_returns_the_callers_user_fresh_from_the_database() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let me = app.me(&account.access_token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], account.id.as_str());
    assert!(me.body["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn bearer_failures_are_401_with_a_challenge() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let no_token = app.call(Method::GET, "/api/v1/auth/me", None, None).await;
    no_token.assert_problem(401, "invalid_token");
    assert_eq!(no_token.headers["www-authenticate"], r#"Bearer error="invalid_token""#);
    app.me(&account.refresh_token).await.assert_problem(401, "invalid_token");
    app.me("a.b.c").await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn verify_answers_the_claims_of_a_live_token() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let reply = app.post("/api/v1/auth/verify", json!({"token": account.access_token})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["active"], true);
    assert_eq!(reply.body["claims"], jwt_claims(&account.access_token));
}

#[tokio::test]
async fn an_expired_access_token_is_token_expired_and_refresh_recovers() {
    let app = TestApp::with_env(&[("ACCESS_TOKEN_TTL_SECONDS", "60")]).await;
    let account = app.register().await;
    app.state.clock.advance(std::time::Duration::from_secs(66));
    app.me(&account.access_token).await.assert_problem(401, "token_expired");
    app.post("/api/v1/auth/verify", json!({"token": account.access_token})).await.assert_problem(401, "token_expired");
    let renewed = app.refresh(&account.refresh_token).await;
    assert_eq!(app.me(&renewed.str("access_token")).await.status, 200);
}

#[tokio::test]
async fn logout_ends_this_session_at_once_and_only_this_one() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let out = app.call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), None).await;
    assert_eq!(out.status, 204);
    app.me(&account.access_token).await.assert_problem(401, "invalid_token");
    app.post("/api/v1/auth/verify", json!({"token": account.access_token})).await.assert_problem(401, "invalid_token");
    app.refresh(&account.refresh_token).await.assert_problem(401, "invalid_refresh_token");
    assert_eq!(app.me(&other.str("access_token")).await.status, 200);
    // Repeating it is harmless.
    let again = app.call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), None).await;
    assert_eq!(again.status, 204);
}

#[tokio::test]
async fn logout_all_sessions_ends_every_session_of_the_user_only() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let stranger = app.register().await;
    let out = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), Some(json!({"all_sessions": true})))
        .await;
    assert_eq!(out.status, 204, "{}", out.body);
    for (access, refresh) in
        [(&account.access_token, &account.refresh_token), (&other.str("access_token"), &other.str("refresh_token"))]
    {
        app.assert_ended(access, refresh).await;
    }
    assert_eq!(app.me(&stranger.access_token).await.status, 200);
}

#[tokio::test]
async fn logout_with_a_refresh_token_ends_that_session_but_never_another_users() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let stranger = app.register().await;
    let body = json!({"refresh_token": stranger.refresh_token});
    let refused = app.call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), Some(body)).await;
    refused.assert_problem(403, "forbidden");
    assert_eq!(app.refresh(&stranger.refresh_token).await.status, 200);

    let body = json!({"refresh_token": other.str("refresh_token")});
    for _ in 0..2 {
        let out = app.call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), Some(body.clone())).await;
        assert_eq!(out.status, 204);
    }
    app.me(&other.str("access_token")).await.assert_problem(401, "invalid_token");
    assert_eq!(app.me(&account.access_token).await.status, 200);
}
