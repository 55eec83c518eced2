//! Account lifecycle: `PATCH /me`, `POST /password`, `DELETE /me`, `GET/DELETE /sessions`.

use std::sync::Arc;

use bookshelf_tests::{jwt_claims, strong_password, unique, Account, Reply, TestApp};
use http::Method;
use serde_json::{json, Value};

async fn patch(app: &TestApp, account: &Account, body: Value) -> Reply {
    app.call(Method::PATCH, "/api/v1/auth/me", Some(&account.access_token), Some(body)).await
}

async fn change_password(app: &TestApp, account: &Account, current: &str, new: &str) -> Reply {
    let body = json!({"current_password": current, "new_password": new});
    app.call(Method::POST, "/api/v1/auth/password", Some(&account.access_token), Some(body)).await
}

async fn delete_me(app: &TestApp, account: &Account, body: Value) -> Reply {
    app.call(Method::DELETE, "/api/v1/auth/me", Some(&account.access_token), Some(body)).await
}

async fn sessions(app: &TestApp, access_token: &str) -> Vec<Value> {
    let reply = app.call(Method::GET, "/api/v1/auth/sessions", Some(access_token), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["sessions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn update_sets_given_fields_clears_null_names_and_leaves_the_rest() {
    let app = TestApp::new().await;
    let account = app.register_with(json!({"first_name": "Ada", "last_name": "Lovelace"})).await;
    let reply = patch(&app, &account, json!({"display_name": "Countess", "last_name": null, "role": "admin"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["display_name"], "Countess");
    assert_eq!(reply.body["first_name"], "Ada");
    assert_eq!(reply.body["last_name"], Value::Null);
    assert_eq!(reply.body["role"], "reader");
    assert_eq!(app.me(&account.access_token).await.body, reply.body);
}

#[tokio::test]
async fn preferences_are_an_object_of_at_most_4_kib() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let prefs = json!({"theme": "dark", "shelf": {"sort": "author", "columns": 3}});
    assert_eq!(patch(&app, &account, json!({"preferences": prefs})).await.body["preferences"], prefs);
    let big = json!({"notes": "n".repeat(4100)});
    patch(&app, &account, json!({"preferences": big})).await.assert_problem(400, "validation_error");
    for not_object in [json!(["dark"]), json!("dark"), json!(42)] {
        patch(&app, &account, json!({"preferences": not_object})).await.assert_problem(400, "validation_error");
    }
    assert_eq!(app.me(&account.access_token).await.body["preferences"], prefs);
}

#[tokio::test]
async fn changing_the_username_needs_the_current_password_and_releases_the_old_name() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let new_name = unique("renamed_");
    let missing = patch(&app, &account, json!({"username": new_name})).await;
    assert!(missing.assert_problem(400, "validation_error")["errors"]["current_password"].is_array());
    let wrong = patch(&app, &account, json!({"username": new_name, "current_password": strong_password()})).await;
    wrong.assert_problem(401, "invalid_credentials");

    let renamed = patch(&app, &account, json!({"username": new_name, "current_password": account.password})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(app.login(&new_name, &account.password).await.status, 200);
    app.login(&account.username, &account.password).await.assert_problem(401, "invalid_credentials");
    app.register_with(json!({"username": account.username})).await;
}

#[tokio::test]
async fn changing_the_email_makes_it_unverified_and_a_taken_one_is_409() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.register().await;
    let taken =
        patch(&app, &account, json!({"email": other.email.to_uppercase(), "current_password": account.password})).await;
    taken.assert_problem(409, "email_taken");
    let email = format!("{}@example.com", unique("moved_"));
    let moved = patch(&app, &account, json!({"email": email, "current_password": account.password})).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["email_verified"], false);
    let login = app.post("/api/v1/auth/login", json!({"email": email, "password": account.password})).await;
    assert_eq!(login.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_email_changes_to_one_address_give_one_success() {
    let app = Arc::new(TestApp::new().await);
    let (a, b) = (app.register().await, app.register().await);
    let email = format!("{}@example.com", unique("contested_"));
    let tasks = [a, b].map(|account| {
        let app = Arc::clone(&app);
        let email = email.clone();
        tokio::spawn(async move {
            patch(&app, &account, json!({"email": email, "current_password": account.password})).await
        })
    });
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 409]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_renames_of_one_user_leave_exactly_the_final_name_claimed() {
    let app = Arc::new(TestApp::new().await);
    let account = app.register().await;
    let names: Vec<String> = (0..8).map(|i| unique(&format!("rename{i}_"))).collect();
    let tasks: Vec<_> = names
        .iter()
        .map(|name| {
            let (app, account) = (Arc::clone(&app), account.clone());
            let body = json!({"username": name, "current_password": account.password});
            tokio::spawn(async move { patch(&app, &account, body).await })
        })
        .collect();
    for task in tasks {
        let reply = task.await.unwrap();
        assert!(reply.status == 200 || reply.code() == "conflict", "{}", reply.body);
    }
    let final_name = app.me(&account.access_token).await.body["username"].as_str().unwrap().to_owned();
    assert_eq!(app.login(&final_name, &account.password).await.status, 200);
    // Every other name, and the original, is free again: no claim was left behind.
    for name in names.iter().chain([&account.username]).filter(|n| **n != final_name) {
        app.register_with(json!({"username": name})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_different_fields_both_survive() {
    let app = Arc::new(TestApp::new().await);
    let account = app.register().await;
    let tasks = [json!({"first_name": "Ada"}), json!({"preferences": {"theme": "dark"}})].map(|body| {
        let (app, account) = (Arc::clone(&app), account.clone());
        tokio::spawn(async move { patch(&app, &account, body).await })
    });
    for task in tasks {
        assert_eq!(task.await.unwrap().status, 200);
    }
    let me = app.me(&account.access_token).await.body;
    assert_eq!((me["first_name"].clone(), me["preferences"]["theme"].clone()), (json!("Ada"), json!("dark")));
}

#[tokio::test]
async fn change_password_ends_every_session_and_answers_a_new_one() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let new = strong_password();
    let reply = change_password(&app, &account, &account.password, &new).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.body.to_string().contains(&new));
    for (access, refresh) in [
        (account.access_token.clone(), account.refresh_token.clone()),
        (other.str("access_token"), other.str("refresh_token")),
    ] {
        app.assert_ended(&access, &refresh).await;
    }
    assert_eq!(app.me(&reply.str("access_token")).await.status, 200);
    app.login(&account.username, &account.password).await.assert_problem(401, "invalid_credentials");
    assert_eq!(app.login(&account.username, &new).await.status, 200);
}

#[tokio::test]
async fn change_password_with_a_wrong_current_or_a_weak_new_one_changes_nothing() {
    let app = TestApp::new().await;
    let account = app.register().await;
    change_password(&app, &account, &strong_password(), &strong_password())
        .await
        .assert_problem(401, "invalid_credentials");
    let weak = change_password(&app, &account, &account.password, "password").await;
    assert!(weak.assert_problem(400, "validation_error")["errors"]["new_password"].is_array());
    let similar = change_password(&app, &account, &account.password, &format!("{}1", account.username)).await;
    similar.assert_problem(400, "validation_error");
    assert_eq!(app.me(&account.access_token).await.status, 200);
    assert_eq!(app.login(&account.username, &account.password).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_password_racing_refreshes_leaves_no_old_token_alive() {
    let app = Arc::new(TestApp::new().await);
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let refreshes: Vec<_> = (0..6)
        .map(|i| {
            let app = Arc::clone(&app);
            let token = if i % 2 == 0 { account.refresh_token.clone() } else { other.str("refresh_token") };
            tokio::spawn(async move { app.refresh(&token).await })
        })
        .collect();
    let changed = change_password(&app, &account, &account.password, &strong_password()).await;
    assert_eq!(changed.status, 200);
    let mut old_tokens = vec![(account.access_token.clone(), account.refresh_token.clone())];
    old_tokens.push((other.str("access_token"), other.str("refresh_token")));
    for task in refreshes {
        let reply = task.await.unwrap();
        if reply.status == 200 {
            old_tokens.push((reply.str("access_token"), reply.str("refresh_token")));
        }
    }
    for (access, refresh) in old_tokens {
        app.me(&access).await.assert_problem(401, "invalid_token");
        assert_eq!(app.refresh(&refresh).await.status, 401);
    }
    assert_eq!(app.me(&changed.str("access_token")).await.status, 200);
}

#[tokio::test]
async fn delete_me_needs_the_password_then_frees_the_names_and_ends_every_session() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    assert!(delete_me(&app, &account, json!({})).await.assert_problem(400, "validation_error")["errors"]["password"]
        .is_array());
    delete_me(&app, &account, json!({"password": strong_password()})).await.assert_problem(401, "invalid_credentials");
    assert_eq!(app.me(&account.access_token).await.status, 200);

    assert_eq!(delete_me(&app, &account, json!({"password": account.password})).await.status, 204);
    for (access, refresh) in [
        (account.access_token.clone(), account.refresh_token.clone()),
        (other.str("access_token"), other.str("refresh_token")),
    ] {
        app.assert_ended(&access, &refresh).await;
    }
    app.login(&account.username, &account.password).await.assert_problem(401, "invalid_credentials");
    let again = app.register_with(json!({"username": account.username, "email": account.email})).await;
    assert_ne!(again.id, account.id);
}

#[tokio::test]
async fn sessions_lists_the_callers_live_sessions_and_marks_the_current_one() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let stranger = app.register().await;
    let listed = sessions(&app, &other.str("access_token")).await;
    let ids: Vec<&str> = listed.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&jwt_claims(&stranger.access_token)["sid"].as_str().unwrap()));
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], jwt_claims(&other.str("access_token"))["sid"]);
    for field in ["created_at", "last_used_at", "expires_at", "user_agent", "ip"] {
        assert!(current[0][field].is_string(), "{field}: {}", current[0]);
    }
    assert!(!serde_json::to_string(&listed).unwrap().contains(&account.refresh_token));
}

#[tokio::test]
async fn deleting_a_session_ends_it_and_another_users_id_is_just_not_found() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let other = app.login(&account.username, &account.password).await;
    let stranger = app.register().await;
    let end = |sid: Value| format!("/api/v1/auth/sessions/{}", sid.as_str().unwrap());

    let foreign = app
        .call(
            Method::DELETE,
            &end(jwt_claims(&stranger.access_token)["sid"].clone()),
            Some(&account.access_token),
            None,
        )
        .await;
    foreign.assert_problem(404, "not_found");
    assert_eq!(app.me(&stranger.access_token).await.status, 200);
    let garbage = app.call(Method::DELETE, "/api/v1/auth/sessions/not-a-uuid", Some(&account.access_token), None).await;
    garbage.assert_problem(404, "not_found");

    let sid = jwt_claims(&other.str("access_token"))["sid"].clone();
    assert_eq!(app.call(Method::DELETE, &end(sid.clone()), Some(&account.access_token), None).await.status, 204);
    app.assert_ended(&other.str("access_token"), &other.str("refresh_token")).await;
    app.call(Method::DELETE, &end(sid), Some(&account.access_token), None).await.assert_problem(404, "not_found");
}
