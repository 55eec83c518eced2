//! The profile fixtures in `events/` (`<profile>-<function>.json`), replayed as their function
//! would serve them: the function picks the route of an enabled profile from the event's
//! method and resource (`bookshelf::edge::lambda::pick`), then answers in that profile's format.

use std::sync::Arc;

use bookshelf::edge::lambda::{from_lambda, into_lambda, pick, respond};
use bookshelf::profile::Profile;
use bookshelf::routes::{Handler, Route, ROUTES};
use bookshelf_tests::{workspace_root, Reply, TestApp};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;

/// The fixture account's password (as in the native fixtures).
const FIXTURE_PASSWORD: &str = "Tr0ub4dor&3-horse-battery";

fn event(name: &str, access_token: &str, refresh_token: &str) -> ApiGatewayProxyRequest {
    let text = std::fs::read_to_string(workspace_root().join("events").join(format!("{name}.json"))).unwrap();
    // A form body carries the password percent-encoded, as a browser or DRF client sends it.
    let password = match text.contains("x-www-form-urlencoded") {
        true => FIXTURE_PASSWORD.replace('&', "%26"),
        false => FIXTURE_PASSWORD.to_owned(),
    };
    let text = text
        .replace("REPLACE_WITH_ACCESS_TOKEN", access_token)
        .replace("REPLACE_WITH_REFRESH_TOKEN", refresh_token)
        .replace("REPLACE_WITH_PASSWORD", &password);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{name}.json: {e}"))
}

/// What a function's `main` names: every route of the function, with its entry.
fn function_routes(function: &str) -> Vec<(Route, Handler)> {
    ROUTES.iter().filter(|r| r.function == function).map(|r| (r.route, r.route.handler())).collect()
}

async fn replay(app: &TestApp, profile: Profile, function: &str, access: &str, refresh: &str) -> Reply {
    let event = event(&format!("{}-{function}", profile.name()), access, refresh);
    let routes = function_routes(function);
    let (route, handler) = pick(&routes, &event, app.state.config.profiles);
    assert_eq!(route.profile(), profile, "{function}: the event went to {route:?}");
    let response = respond(Arc::clone(&app.state), route, handler, from_lambda(event)).await;
    let lambda = into_lambda(response.clone());
    assert_eq!(lambda.status_code, i64::from(response.status.as_u16()));
    Reply::from(response)
}

async fn app(profile: Profile) -> TestApp {
    TestApp::with_env(&[("API_PROFILES", profile.name())]).await
}

#[test]
fn every_profile_route_has_a_fixture() {
    for spec in ROUTES.iter().filter(|r| r.profile != Profile::Bookshelf) {
        let name = format!("{}-{}.json", spec.profile.name(), spec.function);
        assert!(workspace_root().join("events").join(&name).is_file(), "events/{name}");
    }
}

#[tokio::test]
async fn the_book_corners_fixtures_replay_through_their_functions() {
    let p = Profile::BookCorners;
    let app = app(p).await;
    let registered = replay(&app, p, "register", "", "").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let login = replay(&app, p, "login", "", "").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let me = replay(&app, p, "get-me", &login.str("access"), "").await;
    assert_eq!((me.status, me.body["username"].as_str()), (200, Some("fixture_bookcorners")), "{}", me.body);
    let refreshed = replay(&app, p, "refresh", "", &login.str("refresh")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

#[tokio::test]
async fn the_session_api_fixtures_replay_through_their_functions() {
    let p = Profile::SessionApi;
    let app = app(p).await;
    let registered = replay(&app, p, "register", "", "").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let login = replay(&app, p, "login", "", "").await;
    let token = login.body["data"]["session"]["token"].as_str().unwrap().to_owned();
    assert_eq!(replay(&app, p, "get-me", &token, "").await.status, 200);
    let updated = replay(&app, p, "update-me", &token, "").await;
    assert_eq!((updated.status, &updated.body["data"]["lastName"]), (200, &"Renamed".into()), "{}", updated.body);
    assert_eq!(replay(&app, p, "logout", &token, "").await.status, 200);
    assert_eq!(replay(&app, p, "get-me", &token, "").await.status, 401);
}

#[tokio::test]
async fn the_universal_bookshelf_fixtures_replay_through_their_functions() {
    let p = Profile::UniversalBookshelf;
    let app = app(p).await;
    let registered = replay(&app, p, "register", "", "").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let token = replay(&app, p, "login", "", "").await.body["authorization"]["token"].as_str().unwrap().to_owned();
    assert_eq!(replay(&app, p, "get-me", &token, "").await.status, 200);
    assert_eq!(replay(&app, p, "update-me", &token, "").await.status, 200);
    assert_eq!(replay(&app, p, "request-verification", &token, "").await.status, 200);
    let changed = replay(&app, p, "change-password", &token, "").await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let refreshed = replay(&app, p, "refresh", &token, "").await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let next = refreshed.body["authorization"]["token"].as_str().unwrap().to_owned();
    assert_eq!(replay(&app, p, "logout", &next, "").await.status, 200);
}

#[tokio::test]
async fn the_simplejwt_fixtures_replay_through_their_functions() {
    let p = Profile::Simplejwt;
    let app = app(p).await;
    let registered = replay(&app, p, "register", "", "").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let login = replay(&app, p, "login", "", "").await;
    assert_eq!(login.status, 200, "the form body's password arrived whole: {}", login.body);
    let access = login.str("access");
    assert_eq!(replay(&app, p, "get-me", &access, "").await.body["username"], "fixture_simplejwt");
    assert_eq!(replay(&app, p, "verify", &access, "").await.status, 200);
    assert_eq!(replay(&app, p, "refresh", "", &login.str("refresh")).await.status, 200);
}

#[tokio::test]
async fn the_bookwish_fixtures_replay_through_their_functions() {
    let p = Profile::Bookwish;
    let app = app(p).await;
    let guest = replay(&app, p, "guest", "", "").await;
    assert_eq!(guest.status, 201, "{}", guest.body);
    let migrated = replay(&app, p, "guest-upgrade", &guest.str("access_token"), "").await;
    assert_eq!((migrated.status, &migrated.body["user"]["id"]), (200, &guest.body["user"]["id"]), "{}", migrated.body);
    assert_eq!(replay(&app, p, "register", "", "").await.status, 201);
    let login = replay(&app, p, "login", "", "").await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(replay(&app, p, "get-me", &login.str("access_token"), "").await.status, 200);
    let refreshed = replay(&app, p, "refresh", "", &login.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let out = replay(&app, p, "logout", &refreshed.str("access_token"), &refreshed.str("refresh_token")).await;
    assert_eq!(out.status, 200, "{}", out.body);
}

#[tokio::test]
async fn the_bookwish_social_fixture_signs_in_with_apple() {
    let apple = bookshelf_tests::oidc::TestIssuer::start("https://appleid.apple.com").await;
    let env = [
        ("API_PROFILES", "bookwish"),
        ("SOCIAL_APPLE_CLIENT_IDS", "com.example.fixture"),
        ("SOCIAL_APPLE_JWKS_URL", &apple.jwks_url),
    ];
    let app = TestApp::with_env(&env).await;
    let mut claims = apple.claims("com.example.fixture", "fixture-bw", None, serde_json::Value::Null);
    let hashed = bookshelf_tests::oidc::apple_nonce("fixture-nonce");
    claims["nonce"] = serde_json::json!(hashed);
    let text = std::fs::read_to_string(workspace_root().join("events/bookwish-social-sign-in.json")).unwrap();
    let text =
        text.replace("REPLACE_WITH_ID_TOKEN", &apple.mint(&claims)).replace("REPLACE_WITH_NONCE", "fixture-nonce");
    let event: ApiGatewayProxyRequest = serde_json::from_str(&text).unwrap();
    let routes = function_routes("social-sign-in");
    let (route, handler) = pick(&routes, &event, app.state.config.profiles);
    assert_eq!(route, Route::BookwishSocial);
    let reply = Reply::from(respond(Arc::clone(&app.state), route, handler, from_lambda(event)).await);
    assert_eq!(
        (reply.status, reply.body["user"]["displayName"].as_str()),
        (201, Some("Fixture Reader")),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_profile_event_reaching_a_function_whose_profile_is_off_is_not_found() {
    let app = TestApp::new().await;
    let event = event("bookwish-guest", "", "");
    let routes = function_routes("guest");
    let (route, handler) = pick(&routes, &event, app.state.config.profiles);
    assert_eq!(route, Route::Fallback);
    let reply = Reply::from(respond(Arc::clone(&app.state), route, handler, from_lambda(event)).await);
    reply.assert_problem(404, "not_found");
}
