use bookshelf_tests::{jwt_claims, new_identity, strong_password, unique, TestApp};
use serde_json::json;

#[tokio::test]
async fn register_returns_201_with_tokens_and_the_new_user() {
    let app = TestApp::new().await;
    let identity = new_identity();
    let reply = app.post("/api/v1/auth/register", identity.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let user = &reply.body["user"];
    assert_eq!(user["username"], identity["username"]);
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["is_guest"], false);
    assert_eq!(user["display_name"], identity["username"]);
    assert_eq!(user["preferences"], json!({}));
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert_eq!(reply.body["refresh_expires_in"], 604_800);
    assert!(!reply.body.to_string().contains(identity["password"].as_str().unwrap()));
    assert!(!reply.body.to_string().contains("argon2"));
    let claims = jwt_claims(&reply.str("access_token"));
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["guest"], false);
    assert_eq!(claims["role"], "reader");
}

#[tokio::test]
async fn register_with_a_taken_username_is_409_whatever_its_case_or_width() {
    let app = TestApp::new().await;
    let first = app.register_with(json!({"username": unique("Wide")})).await;
    let fullwidth: String = first
        .username
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c })
        .collect();
    for name in [first.username.clone(), first.username.to_uppercase(), fullwidth] {
        let reply = app.post("/api/v1/auth/register", json!({"username": name, "password": strong_password()})).await;
        let body = reply.assert_problem(409, "username_taken");
        assert_eq!(body["detail"], "Username already exists.");
    }
}

#[tokio::test]
async fn register_with_a_taken_email_is_409_ignoring_case() {
    let app = TestApp::new().await;
    let first = app.register().await;
    let reply = app
        .post("/api/v1/auth/register", json!({"email": first.email.to_uppercase(), "password": strong_password()}))
        .await;
    reply.assert_problem(409, "email_taken");
}

#[tokio::test]
async fn a_failed_registration_leaves_no_claim_behind() {
    let app = TestApp::new().await;
    let first = app.register().await;
    // Fresh username, taken email: the transaction fails whole, so the username stays free.
    let name = unique("fresh_");
    let reply = app
        .post("/api/v1/auth/register", json!({"username": name, "email": first.email, "password": strong_password()}))
        .await;
    reply.assert_problem(409, "email_taken");
    let again = app.post("/api/v1/auth/register", json!({"username": name, "password": strong_password()})).await;
    assert_eq!(again.status, 201, "{}", again.body);
}

#[tokio::test]
async fn register_validation_names_every_failing_field() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "x", "email": "not-an-email", "password": "password", "display_name": ""}),
        )
        .await;
    let body = reply.assert_problem(400, "validation_error");
    for field in ["username", "email", "password", "display_name"] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    assert_eq!(body["errors"]["email"][0], "Provide a valid email address.");
    assert_eq!(body["errors"]["password"][0], "This password is too common.");
}

#[tokio::test]
async fn register_rejects_passwords_like_the_username_without_echoing_them() {
    let app = TestApp::new().await;
    let mut identity = new_identity();
    let password = format!("{}1", identity["username"].as_str().unwrap());
    identity["password"] = json!(password);
    let reply = app.post("/api/v1/auth/register", identity).await;
    let body = reply.assert_problem(400, "validation_error");
    assert!(body["errors"]["password"][0].as_str().unwrap().contains("username"));
    assert!(!body.to_string().contains(&password));
}

#[tokio::test]
async fn register_ignores_server_owned_fields() {
    let app = TestApp::new().await;
    let mut body = new_identity();
    body["role"] = json!("admin");
    body["tier"] = json!("premium");
    body["is_guest"] = json!(true);
    body["email_verified"] = json!(true);
    body["id"] = json!("00000000-0000-0000-0000-000000000001");
    let reply = app.post("/api/v1/auth/register", body).await;
    assert_eq!(reply.status, 201);
    let user = &reply.body["user"];
    assert_eq!((user["role"].as_str(), user["tier"].as_str()), (Some("reader"), Some("free")));
    assert_eq!((user["is_guest"].as_bool(), user["email_verified"].as_bool()), (Some(false), Some(false)));
    assert_ne!(user["id"], "00000000-0000-0000-0000-000000000001");
}

#[tokio::test]
async fn register_with_email_only_defaults_the_display_name_to_the_local_part() {
    let app = TestApp::new().await;
    let email = format!("{}@example.com", unique("solo_"));
    let reply = app.post("/api/v1/auth/register", json!({"email": email, "password": strong_password()})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["user"]["username"], serde_json::Value::Null);
    assert_eq!(reply.body["user"]["display_name"], email.split('@').next().unwrap());
}

#[tokio::test]
async fn register_password_confirmation_must_match() {
    let app = TestApp::new().await;
    let mut body = new_identity();
    body["password_confirmation"] = json!("something-else-entirely-42!");
    let reply = app.post("/api/v1/auth/register", body).await;
    assert!(reply.assert_problem(400, "validation_error")["errors"]["password_confirmation"].is_array());
}

#[tokio::test]
async fn a_long_random_password_containing_a_word_of_the_email_is_accepted() {
    let app = TestApp::new().await;
    let local = format!("garden.{}", unique("bloom").to_lowercase());
    let email = format!("{local}@example.com");
    // 29 characters: 16 random ones, then a six-letter word of the address's local part.
    let password = "q7!Vx#2LmP9&zR4k-garden-roses";
    let reply = app.post("/api/v1/auth/register", json!({"email": email, "password": password})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let similar = app
        .post("/api/v1/auth/register", json!({"email": format!("x{email}"), "password": format!("x{email}!")}))
        .await;
    assert_eq!(similar.status, 400, "{}", similar.body);
    assert!(similar.body["errors"]["password"][0].as_str().unwrap().contains("email"), "{}", similar.body);
}

#[tokio::test]
async fn a_username_whose_key_would_not_fit_a_database_key_is_refused_not_a_500() {
    let app = TestApp::new().await;
    // 150 characters that NFKC expands eighteen-fold each (about 5 KB of key).
    let username = "\u{FDFA}".repeat(150);
    let email = format!("{}@example.com", bookshelf_tests::unique("wide_"));
    let reply = app
        .post(
            "/api/v1/auth/register",
            json!({"username": username, "email": email, "password": bookshelf_tests::strong_password()}),
        )
        .await;
    reply.assert_problem(400, "validation_error");
    let login = app.login(&username, "whatever-password").await;
    login.assert_problem(401, "invalid_credentials");
}
