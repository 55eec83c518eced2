//! The API Gateway fixtures in `events/` (also usable with `sam local invoke -e`), replayed
//! through the Lambda conversion and the handlers.

use std::sync::Arc;

use bookshelf::edge::dispatch;
use bookshelf::routes::{Route, ROUTES};
use bookshelf_tests::oidc::TestIssuer;
use bookshelf_tests::{jwt_claims, workspace_root, Reply, TestApp};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;
use serde_json::{json, Value};

/// The fixture account's password (see events/register.json).
const FIXTURE_PASSWORD: &str = "Tr0ub4dor&3-horse-battery";

/// A fixture with its placeholders filled in: tokens, the fixture password, a session id.
fn event(name: &str, access_token: &str, refresh_token: &str) -> ApiGatewayProxyRequest {
    let text = std::fs::read_to_string(workspace_root().join("events").join(format!("{name}.json"))).unwrap();
    let (session_id, user_id) = if access_token.is_empty() {
        (String::new(), String::new())
    } else {
        let claims = jwt_claims(access_token);
        (claims["sid"].as_str().unwrap().to_owned(), claims["sub"].as_str().unwrap().to_owned())
    };
    let text = text
        .replace("REPLACE_WITH_ACCESS_TOKEN", access_token)
        .replace("REPLACE_WITH_REFRESH_TOKEN", refresh_token)
        .replace("REPLACE_WITH_PASSWORD", FIXTURE_PASSWORD)
        .replace("REPLACE_WITH_SESSION_ID", &session_id)
        .replace("REPLACE_WITH_USER_ID", &user_id);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{name}.json: {e}"))
}

fn route_of(function: &str) -> Route {
    ROUTES.iter().find(|r| r.function == function).map(|r| r.route).unwrap_or(Route::Fallback)
}

async fn replay(app: &TestApp, name: &str, access: &str, refresh: &str) -> Reply {
    let request = bookshelf::edge::lambda::from_lambda(event(name, access, refresh));
    let response = dispatch::respond(Arc::clone(&app.state), route_of(name), request).await;
    // Through the Lambda response conversion too, as the runtime would send it.
    let lambda = bookshelf::edge::lambda::into_lambda(response.clone());
    assert_eq!(lambda.status_code, i64::from(response.status.as_u16()));
    Reply::from(response)
}

#[tokio::test]
async fn the_core_fixtures_replay_through_their_functions() {
    let app = TestApp::new().await;
    let registered = replay(&app, "register", "", "").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let logged_in = replay(&app, "login", "", "").await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);
    let access = logged_in.str("access_token");

    assert_eq!(replay(&app, "get-me", &access, "").await.status, 200);
    assert_eq!(replay(&app, "verify", &access, "").await.status, 200);
    assert_eq!(replay(&app, "jwks", "", "").await.status, 200);
    let discovery = replay(&app, "openid-configuration", "", "").await;
    assert_eq!(discovery.status, 200, "{}", discovery.body);
    assert!(discovery.str("jwks_uri").ends_with("/v1/.well-known/jwks.json"), "under the stage: {}", discovery.body);
    assert_eq!(replay(&app, "fallback", "", "").await.status, 405);
    let refreshed = replay(&app, "refresh", "", &logged_in.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(replay(&app, "logout", &refreshed.str("access_token"), "").await.status, 204);
}

#[tokio::test]
async fn the_account_fixtures_replay_through_their_functions() {
    let app = TestApp::new().await;
    assert_eq!(replay(&app, "register", "", "").await.status, 201);
    let access = replay(&app, "login", "", "").await.str("access_token");
    let updated = replay(&app, "update-me", &access, "").await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["preferences"]["theme"], "dark");
    let listed = replay(&app, "list-sessions", &access, "").await;
    assert_eq!(listed.body["sessions"].as_array().unwrap().len(), 2, "register and login sessions");
    let other = replay(&app, "login", "", "").await.str("access_token");
    assert_eq!(replay(&app, "delete-session", &other, "").await.status, 204, "the path parameter reached the handler");
    let changed = replay(&app, "change-password", &access, "").await;
    assert_eq!(changed.status, 200, "{}", changed.body);
}

#[tokio::test]
async fn the_delete_me_fixture_deletes_the_fixture_account() {
    let app = TestApp::new().await;
    assert_eq!(replay(&app, "register", "", "").await.status, 201);
    let access = replay(&app, "login", "", "").await.str("access_token");
    assert_eq!(replay(&app, "delete-me", &access, "").await.status, 204);
    assert_eq!(replay(&app, "login", "", "").await.status, 401);
}

#[tokio::test]
async fn the_guest_fixtures_create_and_upgrade_a_guest() {
    let app = TestApp::new().await;
    let created = replay(&app, "guest", "", "").await;
    assert_eq!(created.status, 201, "{}", created.body);
    let upgraded = replay(&app, "guest-upgrade", &created.str("access_token"), "").await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.body);
    assert_eq!(upgraded.body["user"]["id"], created.body["user"]["id"]);
}

#[tokio::test]
async fn the_email_fixtures_replay_through_their_functions() {
    let app = TestApp::new().await;
    assert_eq!(replay(&app, "register", "", "").await.status, 201);
    let access = replay(&app, "login", "", "").await.str("access_token");
    assert_eq!(replay(&app, "request-verification", &access, "").await.status, 202);
    let token = app.outbox("fixture.reader@example.com").pop().unwrap().token("verify-email");
    let verify = event_with_token(&app, "verify-email", &token).await;
    assert_eq!(verify.status, 204, "{}", verify.body);
    assert_eq!(replay(&app, "forgot-password", "", "").await.status, 202);
    let token = app.outbox("fixture.reader@example.com").pop().unwrap().token("reset-password");
    assert_eq!(event_with_token(&app, "reset-password", &token).await.status, 204);
}

#[tokio::test]
async fn the_admin_fixtures_replay_as_iam_signed_requests_of_an_apps_backend() {
    let app = TestApp::new().await;
    assert_eq!(replay(&app, "register", "", "").await.status, 201);
    let access = replay(&app, "login", "", "").await.str("access_token");
    let user_id = jwt_claims(&access)["sub"].as_str().unwrap().to_owned();

    let found = replay(&app, "admin-list-users", "", "").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["users"][0]["id"], user_id.as_str(), "found by the email, normalised");
    let shown = replay(&app, "admin-get-user", &access, "").await;
    assert_eq!((shown.status, shown.body["session_count"].as_u64()), (200, Some(2)), "{}", shown.body);
    let updated = replay(&app, "admin-update-user", &access, "").await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        (updated.body["tier"].as_str(), updated.body["app_metadata"]["plan"].as_str()),
        (Some("premium"), Some("annual"))
    );
    assert_eq!(replay(&app, "admin-end-session", &access, "").await.status, 204, "both path parameters");
    assert_eq!(replay(&app, "get-me", &access, "").await.status, 401);
    assert_eq!(replay(&app, "admin-end-sessions", &access, "").await.status, 204);
    assert_eq!(replay(&app, "admin-delete-user", &access, "").await.status, 204);
    assert_eq!(replay(&app, "admin-get-user", &access, "").await.status, 404);

    // The caller is API Gateway's record of the signer, never a header.
    let mut event = event("admin-get-user", &access, "");
    assert!(event.request_context.identity.user_arn.take().is_some());
    let request = bookshelf::edge::lambda::from_lambda(event);
    let refused = Reply::from(dispatch::respond(Arc::clone(&app.state), Route::AdminGetUser, request).await);
    assert_eq!((refused.status, refused.body["code"].as_str()), (403, Some("forbidden")));
}

/// A fixture with each `(placeholder, value)` filled in, through its function.
async fn replay_filled(app: &TestApp, name: &str, fill: &[(&str, &str)]) -> Reply {
    let mut text = std::fs::read_to_string(workspace_root().join("events").join(format!("{name}.json"))).unwrap();
    for (placeholder, value) in fill {
        text = text.replace(placeholder, value);
    }
    let request = bookshelf::edge::lambda::from_lambda(serde_json::from_str(&text).unwrap());
    Reply::from(dispatch::respond(Arc::clone(&app.state), route_of(name), request).await)
}

#[tokio::test]
async fn the_social_fixtures_sign_in_link_list_and_unlink() {
    let google = TestIssuer::start("https://accounts.google.com").await;
    let apple = TestIssuer::start("https://appleid.apple.com").await;
    let app = TestApp::with_env(&[
        ("SOCIAL_GOOGLE_CLIENT_IDS", "fixture-google-client"),
        ("SOCIAL_GOOGLE_JWKS_URL", &google.jwks_url),
        ("SOCIAL_APPLE_CLIENT_IDS", "com.example.fixture"),
        ("SOCIAL_APPLE_JWKS_URL", &apple.jwks_url),
    ])
    .await;
    let mut claims =
        google.claims("fixture-google-client", "fixture-g", Some("fixture.social@example.com"), json!(true));
    claims["nonce"] = json!("fixture-nonce");
    let token = google.mint(&claims);
    let fill = [("REPLACE_WITH_ID_TOKEN", token.as_str()), ("REPLACE_WITH_NONCE", "fixture-nonce")];
    let signed_in = replay_filled(&app, "social-sign-in", &fill).await;
    assert_eq!(signed_in.status, 201, "{}", signed_in.body);
    let access = signed_in.str("access_token");

    let mut claims = apple.claims("com.example.fixture", "fixture-a", None, Value::Null);
    let hashed = bookshelf_tests::oidc::apple_nonce("fixture-nonce");
    claims["nonce"] = json!(hashed);
    let token = apple.mint(&claims);
    let fill = [
        ("REPLACE_WITH_ACCESS_TOKEN", access.as_str()),
        ("REPLACE_WITH_ID_TOKEN", token.as_str()),
        ("REPLACE_WITH_NONCE", "fixture-nonce"),
    ];
    let linked = replay_filled(&app, "link-identity", &fill).await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    let listed = replay(&app, "list-identities", &access, "").await;
    assert_eq!(listed.body["identities"].as_array().map(Vec::len), Some(2), "{}", listed.body);
    assert_eq!(replay(&app, "unlink-identity", &access, "").await.status, 204);
}

/// Replays a fixture whose body carries a mailed token.
async fn event_with_token(app: &TestApp, name: &str, token: &str) -> Reply {
    let text = std::fs::read_to_string(workspace_root().join("events").join(format!("{name}.json"))).unwrap();
    let request = serde_json::from_str(&text.replace("REPLACE_WITH_MAILED_TOKEN", token)).unwrap();
    Reply::from(
        dispatch::respond(Arc::clone(&app.state), route_of(name), bookshelf::edge::lambda::from_lambda(request)).await,
    )
}

#[tokio::test]
async fn the_client_ip_is_the_gateways_source_ip_not_x_forwarded_for() {
    let app = TestApp::new().await;
    let request = bookshelf::edge::lambda::from_lambda(event("register", "", ""));
    assert!(request.headers.contains_key("x-forwarded-for"), "the fixture carries a spoofable header");
    assert_eq!(request.source_ip.as_deref(), Some("198.51.100.7"));
    let reply = Reply::from(dispatch::respond(Arc::clone(&app.state), Route::Register, request).await);
    let user_id = uuid::Uuid::parse_str(reply.body["user"]["id"].as_str().unwrap()).unwrap();
    let sessions = app.state.store.sessions_of(user_id).await.unwrap();
    assert_eq!(sessions[0].ip.as_deref(), Some("198.51.100.7"));
}

#[test]
fn every_function_has_a_fixture() {
    for spec in ROUTES {
        assert!(workspace_root().join("events").join(format!("{}.json", spec.function)).is_file(), "{}", spec.function);
    }
    assert!(workspace_root().join("events/fallback.json").is_file());
}

/// events/fallback.json sent from a browser at `origin` with `method`.
fn browser_event(method: &str, origin: &str) -> ApiGatewayProxyRequest {
    let text = std::fs::read_to_string(workspace_root().join("events/fallback.json")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
    event["httpMethod"] = method.into();
    event["headers"]["Origin"] = origin.into();
    event["multiValueHeaders"]["Origin"] = serde_json::json!([origin]);
    serde_json::from_value(event).unwrap()
}

#[tokio::test]
async fn the_fallback_function_answers_preflights_and_allowed_origins_may_read_answers() {
    let app = TestApp::with_env(&[("CORS_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let send = |method: &str, origin: &str| {
        let request = bookshelf::edge::lambda::from_lambda(browser_event(method, origin));
        bookshelf::edge::lambda::respond(Arc::clone(&app.state), Route::Fallback, Route::Fallback.handler(), request)
    };
    let preflight = send("OPTIONS", "https://app.example.com").await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.headers["access-control-allow-origin"], "https://app.example.com");
    assert!(preflight.headers["access-control-allow-headers"].to_str().unwrap().contains("x-api-key"));

    let wrong_method = send("GET", "https://app.example.com").await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.headers["access-control-allow-origin"], "https://app.example.com");

    let stranger = send("OPTIONS", "https://evil.example.net").await;
    assert!(stranger.headers.get("access-control-allow-origin").is_none());
    assert!(stranger.headers.get("access-control-allow-methods").is_none());
}
