use bookshelf_tests::{jwt_claims, strong_password, unique, TestApp};
use serde_json::json;

#[tokio::test]
async fn login_by_username_or_any_case_of_email_starts_a_new_session() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let by_name = app.login(&account.username, &account.password).await;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    let by_email = app
        .post("/api/v1/auth/login", json!({"email": account.email.to_uppercase(), "password": account.password}))
        .await;
    assert_eq!(by_email.status, 200, "{}", by_email.body);
    let sids: Vec<_> = [&account.access_token, &by_name.str("access_token"), &by_email.str("access_token")]
        .iter()
        .map(|t| jwt_claims(t)["sid"].clone())
        .collect();
    assert!(sids[0] != sids[1] && sids[1] != sids[2] && sids[0] != sids[2]);
    assert_eq!(by_name.body["user"]["id"], account.id.as_str());
}

#[tokio::test]
async fn login_with_unknown_user_looks_like_wrong_password() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let wrong = app.login(&account.username, &strong_password()).await;
    let unknown = app.login(&unique("nobody_"), &strong_password()).await;
    for reply in [&wrong, &unknown] {
        assert_eq!(reply.assert_problem(401, "invalid_credentials")["detail"], "Invalid credentials.");
    }
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(strip(&wrong.body), strip(&unknown.body));
    assert_eq!(wrong.headers.get("www-authenticate"), unknown.headers.get("www-authenticate"));
}

#[tokio::test]
async fn login_with_an_oversized_identifier_is_just_invalid_credentials() {
    let app = TestApp::new().await;
    let reply = app.login(&"u".repeat(5000), &strong_password()).await;
    reply.assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn login_password_is_never_truncated_or_case_folded() {
    let app = TestApp::new().await;
    let password = format!("{}{}", strong_password(), "Long-tail-".repeat(9));
    let account = app.register_with(json!({"password": password})).await;
    let truncated = format!("{}{}", &password[..72], "different-ending");
    app.login(&account.username, &truncated).await.assert_problem(401, "invalid_credentials");
    let swapped: String = password
        .chars()
        .map(|c| if c.is_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect();
    app.login(&account.username, &swapped).await.assert_problem(401, "invalid_credentials");
    assert_eq!(app.login(&account.username, &password).await.status, 200);
}

#[tokio::test]
async fn login_needs_a_password_and_an_identifier() {
    let app = TestApp::new().await;
    app.post("/api/v1/auth/login", json!({"username": "someone"})).await.assert_problem(400, "validation_error");
    app.post("/api/v1/auth/login", json!({"password": strong_password()}))
        .await
        .assert_problem(400, "validation_error");
}
