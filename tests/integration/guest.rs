//! Guests by device id, their idle expiry, and upgrading them to full accounts.

use std::sync::Arc;
use std::time::Duration;

use bookshelf_tests::{jwt_claims, new_identity, strong_password, unique, Reply, TestApp};
use http::Method;
use serde_json::{json, Value};

fn device() -> String {
    format!("device-{}", uuid::Uuid::new_v4())
}

async fn guest(app: &TestApp, device_id: &str) -> Reply {
    app.post("/api/v1/auth/guest", json!({"device_id": device_id})).await
}

async fn upgrade(app: &TestApp, access_token: &str, body: Value) -> Reply {
    app.call(Method::POST, "/api/v1/auth/guest/upgrade", Some(access_token), Some(body)).await
}

#[tokio::test]
async fn a_new_device_gets_a_guest_and_the_same_device_gets_it_back_with_a_new_session() {
    let app = TestApp::new().await;
    let id = device();
    let first = guest(&app, &id).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let user = &first.body["user"];
    assert_eq!((user["is_guest"].as_bool(), user["display_name"].as_str()), (Some(true), Some("Guest User")));
    assert_eq!(
        (user["username"].clone(), user["email"].clone(), user["tier"].clone()),
        (Value::Null, Value::Null, json!("free"))
    );
    assert_eq!(jwt_claims(&first.str("access_token"))["guest"], true);

    let second = guest(&app, &id).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["user"]["id"], first.body["user"]["id"]);
    assert_ne!(jwt_claims(&second.str("access_token"))["sid"], jwt_claims(&first.str("access_token"))["sid"]);
    assert_eq!(app.me(&first.str("access_token")).await.status, 200);
    assert_ne!(guest(&app, &device()).await.body["user"]["id"], first.body["user"]["id"]);
}

#[tokio::test]
async fn device_ids_must_be_8_to_200_characters() {
    let app = TestApp::new().await;
    for bad in ["1234567".to_owned(), "d".repeat(201)] {
        guest(&app, &bad).await.assert_problem(400, "validation_error");
    }
    app.post("/api/v1/auth/guest", json!({})).await.assert_problem(400, "validation_error");
    assert_eq!(guest(&app, "12345678").await.status, 201);
    assert_eq!(guest(&app, &"d".repeat(200)).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_calls_for_one_device_create_exactly_one_guest() {
    let app = Arc::new(TestApp::new().await);
    let id = device();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (app, id) = (Arc::clone(&app), id.clone());
            tokio::spawn(async move { guest(&app, &id).await })
        })
        .collect();
    let mut created = 0;
    let mut users = std::collections::HashSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert!(reply.status == 201 || reply.status == 200, "{}", reply.body);
        created += usize::from(reply.status == 201);
        users.insert(reply.body["user"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!((created, users.len()), (1, 1));
}

#[tokio::test]
async fn an_idle_guest_expires_even_while_its_items_still_exist() {
    let app = TestApp::with_env(&[("GUEST_IDLE_SECONDS", "60")]).await;
    let id = device();
    let first = guest(&app, &id).await;
    app.state.clock.advance(Duration::from_secs(61));
    // TTL has not deleted anything (DynamoDB Local never does within a test): reads decide.
    let user_id = uuid::Uuid::parse_str(first.body["user"]["id"].as_str().unwrap()).unwrap();
    assert!(app.state.store.get_user(user_id).await.unwrap().is_some());
    app.assert_ended(&first.str("access_token"), &first.str("refresh_token")).await;
    let again = guest(&app, &id).await;
    assert_eq!(again.status, 201, "the device gets a new guest");
    assert_ne!(again.body["user"]["id"], first.body["user"]["id"]);
}

#[tokio::test]
async fn refreshing_pushes_the_guests_idle_expiry_forward() {
    let app = TestApp::with_env(&[("GUEST_IDLE_SECONDS", "60")]).await;
    let first = guest(&app, &device()).await;
    app.state.clock.advance(Duration::from_secs(40));
    let renewed = app.refresh(&first.str("refresh_token")).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    app.state.clock.advance(Duration::from_secs(40));
    // 80 s after creation, but only 40 s after the last refresh: still alive.
    assert_eq!(app.me(&renewed.str("access_token")).await.status, 200);
}

#[tokio::test]
async fn guests_cannot_change_a_password_or_their_username_but_can_edit_the_rest() {
    let app = TestApp::new().await;
    let g = guest(&app, &device()).await;
    let token = g.str("access_token");
    let body = json!({"current_password": strong_password(), "new_password": strong_password()});
    app.call(Method::POST, "/api/v1/auth/password", Some(&token), Some(body)).await.assert_problem(403, "forbidden");
    let rename = json!({"username": unique("g_"), "current_password": "x"});
    app.call(Method::PATCH, "/api/v1/auth/me", Some(&token), Some(rename)).await.assert_problem(403, "forbidden");
    let edit = app.call(Method::PATCH, "/api/v1/auth/me", Some(&token), Some(json!({"display_name": "Reader"}))).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
}

#[tokio::test]
async fn upgrade_keeps_the_user_id_sets_credentials_and_ends_the_guest_sessions() {
    let app = TestApp::new().await;
    let id = device();
    let g = guest(&app, &id).await;
    let identity = new_identity();
    let body = json!({"email": identity["email"], "password": identity["password"], "username": identity["username"]});
    let upgraded = upgrade(&app, &g.str("access_token"), body).await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.body);
    let user = &upgraded.body["user"];
    assert_eq!(user["id"], g.body["user"]["id"]);
    assert_eq!((user["is_guest"].as_bool(), user["email_verified"].as_bool()), (Some(false), Some(false)));
    assert_eq!(user["username"], identity["username"]);
    assert_eq!(jwt_claims(&upgraded.str("access_token"))["guest"], false);
    app.assert_ended(&g.str("access_token"), &g.str("refresh_token")).await;
    let login = app.login(identity["username"].as_str().unwrap(), identity["password"].as_str().unwrap()).await;
    assert_eq!(login.body["user"]["id"], g.body["user"]["id"]);
    // The device is free again: a later /guest from it makes a new guest.
    let fresh = guest(&app, &id).await;
    assert_eq!(fresh.status, 201);
    assert_ne!(fresh.body["user"]["id"], g.body["user"]["id"]);
}

#[tokio::test]
async fn upgrade_refuses_full_accounts_taken_names_and_weak_passwords() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let identity = new_identity();
    let body = json!({"email": identity["email"], "password": identity["password"]});
    upgrade(&app, &account.access_token, body.clone()).await.assert_problem(409, "not_guest");

    let g = guest(&app, &device()).await;
    let token = g.str("access_token");
    let taken_email = json!({"email": account.email.to_uppercase(), "password": strong_password()});
    upgrade(&app, &token, taken_email).await.assert_problem(409, "email_taken");
    let taken_name = json!({"email": identity["email"], "password": strong_password(), "username": account.username});
    upgrade(&app, &token, taken_name).await.assert_problem(409, "username_taken");
    upgrade(&app, &token, json!({"email": identity["email"], "password": "password"}))
        .await
        .assert_problem(400, "validation_error");
    upgrade(&app, &token, json!({"password": strong_password()})).await.assert_problem(400, "validation_error");
    assert_eq!(app.me(&token).await.body["is_guest"], true, "nothing changed");
    // The failed attempts left no claim behind.
    assert_eq!(upgrade(&app, &token, body).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_upgrades_of_one_guest_give_one_success() {
    let app = Arc::new(TestApp::new().await);
    let token = guest(&app, &device()).await.str("access_token");
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (app, token) = (Arc::clone(&app), token.clone());
            let identity = new_identity();
            let body = json!({"email": identity["email"], "password": identity["password"]});
            tokio::spawn(async move { upgrade(&app, &token, body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    statuses.sort();
    assert_eq!(statuses[0], 200);
    assert!(statuses[1] == 409 || statuses[1] == 401, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_guests_claiming_one_email_give_one_success() {
    let app = Arc::new(TestApp::new().await);
    let email = format!("{}@example.com", unique("shared_"));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let token = guest(&app, &device()).await.str("access_token");
        let app = Arc::clone(&app);
        let body = json!({"email": email, "password": strong_password()});
        tasks.push(tokio::spawn(async move { upgrade(&app, &token, body).await }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 409]);
}

#[tokio::test]
async fn deleting_a_guest_needs_no_password_and_frees_its_device() {
    let app = TestApp::new().await;
    let id = device();
    let g = guest(&app, &id).await;
    let deleted = app.call(Method::DELETE, "/api/v1/auth/me", Some(&g.str("access_token")), Some(json!({}))).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    app.me(&g.str("access_token")).await.assert_problem(401, "invalid_token");
    assert_eq!(guest(&app, &id).await.status, 201);
}
