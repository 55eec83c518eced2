//! Many concurrent requests, exactly one winner.

use bookshelf_tests::{strong_password, unique, TestApp};
use serde_json::json;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_registrations_of_one_email_create_exactly_one_account() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let email = format!("{}@example.com", unique("race_"));
    let attempts = (0..50).map(|i| {
        let app = std::sync::Arc::clone(&app);
        let body = json!({"username": unique(&format!("racer{i}_")), "email": email, "password": strong_password()});
        tokio::spawn(async move { app.post("/api/v1/auth/register", body).await })
    });
    let mut created = 0;
    for attempt in attempts {
        let reply = attempt.await.unwrap();
        match reply.status {
            201 => created += 1,
            _ => {
                reply.assert_problem(409, "email_taken");
            }
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_of_one_token_give_one_successor_and_one_live_token() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let account = app.register().await;
    let attempts = (0..20).map(|_| {
        let app = std::sync::Arc::clone(&app);
        let token = account.refresh_token.clone();
        tokio::spawn(async move { app.refresh(&token).await })
    });
    let mut successors = std::collections::HashSet::new();
    for attempt in attempts {
        let reply = attempt.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        successors.insert(reply.str("refresh_token"));
    }
    assert_eq!(successors.len(), 1, "every racer got the same successor");

    // Exactly one live refresh token: the session holds one current hash, and it is the
    // successor's; the parent now only works as a grace-window replay.
    let user_id = Uuid::parse_str(&account.id).unwrap();
    let sessions = app.state.store.sessions_of(user_id).await.unwrap();
    assert_eq!(sessions.len(), 1);
    let successor = successors.into_iter().next().unwrap();
    let decoded = bookshelf::tokens::RefreshToken::decode(&successor).unwrap();
    assert_eq!(sessions[0].current_hash, decoded.hash());
    assert_eq!(app.refresh(&successor).await.status, 200);
    app.refresh(&account.refresh_token).await.assert_problem(401, "refresh_token_reused");
}
