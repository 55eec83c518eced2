use std::time::Duration;

use bookshelf_tests::{jwt_claims, TestApp};
use serde_json::json;

#[tokio::test]
async fn refresh_rotates_both_tokens_in_the_same_session_without_user() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let reply = app.refresh(&account.refresh_token).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("user").is_none());
    assert_ne!(reply.str("refresh_token"), account.refresh_token);
    assert_eq!(jwt_claims(&reply.str("access_token"))["sid"], jwt_claims(&account.access_token)["sid"]);
    assert_eq!(app.me(&reply.str("access_token")).await.status, 200);
}

#[tokio::test]
async fn refresh_replay_within_grace_returns_the_same_successor() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let first = app.refresh(&account.refresh_token).await;
    app.state.clock.advance(Duration::from_secs(9));
    let replay = app.refresh(&account.refresh_token).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.str("refresh_token"), first.str("refresh_token"));
    // The successor still works afterwards: the session survived the retry.
    assert_eq!(app.refresh(&first.str("refresh_token")).await.status, 200);
}

#[tokio::test]
async fn refresh_replay_after_grace_is_reuse_and_revokes_the_session() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let successor = app.refresh(&account.refresh_token).await;
    app.state.clock.advance(Duration::from_secs(11));
    app.refresh(&account.refresh_token).await.assert_problem(401, "refresh_token_reused");
    app.refresh(&successor.str("refresh_token")).await.assert_problem(401, "invalid_refresh_token");
    app.me(&successor.str("access_token")).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn refresh_replay_of_a_grandparent_is_reuse_even_within_grace() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let second = app.refresh(&account.refresh_token).await;
    let third = app.refresh(&second.str("refresh_token")).await;
    app.refresh(&account.refresh_token).await.assert_problem(401, "refresh_token_reused");
    app.refresh(&third.str("refresh_token")).await.assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn refresh_reuse_leaves_other_sessions_alive() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    app.refresh(&account.refresh_token).await;
    app.state.clock.advance(Duration::from_secs(11));
    app.refresh(&account.refresh_token).await.assert_problem(401, "refresh_token_reused");
    assert_eq!(app.refresh(&other.str("refresh_token")).await.status, 200);
}

#[tokio::test]
async fn refresh_after_the_idle_lifetime_is_invalid_even_before_ttl_deletion() {
    let app = TestApp::new().await;
    let account = app.register().await;
    app.state.clock.advance(Duration::from_secs(604_800 + 1));
    app.refresh(&account.refresh_token).await.assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn refresh_never_outlives_the_absolute_session_lifetime() {
    let app = TestApp::with_env(&[("REFRESH_TOKEN_IDLE_SECONDS", "100"), ("SESSION_MAX_SECONDS", "150")]).await;
    let account = app.register().await;
    app.state.clock.advance(Duration::from_secs(90));
    let renewed = app.refresh(&account.refresh_token).await;
    assert_eq!(renewed.status, 200);
    let left = renewed.body["refresh_expires_in"].as_i64().unwrap();
    assert!((59..=60).contains(&left), "bounded by the absolute lifetime, got {left}");
    app.state.clock.advance(Duration::from_secs(61));
    app.refresh(&renewed.str("refresh_token")).await.assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn refresh_rejects_access_tokens_garbage_and_forged_secrets() {
    let app = TestApp::new().await;
    let account = app.register().await;
    for bad in [account.access_token.clone(), "not-a-real-refresh-token".into(), String::new()] {
        app.refresh(&bad).await.assert_problem(401, "invalid_refresh_token");
    }
    // Same session and generation, different secret: not a token this server issued.
    let mut forged = account.refresh_token.clone();
    forged.replace_range(80..84, if &forged[80..84] == "AAAA" { "BBBB" } else { "AAAA" });
    app.refresh(&forged).await.assert_problem(401, "invalid_refresh_token");
    assert_eq!(app.refresh(&account.refresh_token).await.status, 200, "the forgery did not revoke the session");
    app.post("/api/v1/auth/refresh", json!({})).await.assert_problem(400, "validation_error");
}

/// `/refresh` is one round trip because a failed conditional write hands back the item it
/// checked; this holds the database to that (the store falls back to a read if it ever stops).
#[tokio::test]
async fn a_failed_rotation_condition_returns_the_old_session_item() {
    use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
    let app = TestApp::new().await;
    let account = app.register().await;
    let token = bookshelf::tokens::RefreshToken::decode(&account.refresh_token).unwrap();
    let key = bookshelf::store::keys::session(token.user_id, token.session_id);
    let err = app
        .state
        .store
        .client()
        .update_item()
        .table_name(app.state.store.table())
        .key("pk", AttributeValue::S(key.pk))
        .key("sk", AttributeValue::S(key.sk))
        .update_expression("SET last_used_at = :n")
        .condition_expression("current_hash = :wrong")
        .expression_attribute_values(":n", AttributeValue::N("1".into()))
        .expression_attribute_values(":wrong", AttributeValue::S("nope".into()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    let failed = err.into_service_error();
    let aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) = failed else {
        panic!("expected a failed condition, got {failed:?}");
    };
    assert!(e.item.is_some_and(|item| item.contains_key("current_hash")));
}

#[tokio::test]
async fn with_the_grace_window_off_concurrent_refreshes_have_exactly_one_winner() {
    let app = TestApp::with_env(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let account = app.register().await;
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let app = TestApp { state: std::sync::Arc::clone(&app.state) };
            let token = account.refresh_token.clone();
            tokio::spawn(async move { app.refresh(&token).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
}
