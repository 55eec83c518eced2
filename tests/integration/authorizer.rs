//! The Lambda authorizer of an app's own API, through API Gateway's `REQUEST` authorizer events
//! (`events/authorizer*.json`) and through the local server's `/app/…` routes: the token, then
//! its session and user on every call, so revocation bites on the very next one.

use std::time::Duration;

use bookshelf::edge::authorizer::{authorize, AuthorizerResponse, Refused, Refused::Unauthorized};
use bookshelf::edge::example_app;
use bookshelf_tests::{http, jwt_claims, serve_http, workspace_root, Account, TestApp};
use http::Method;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayProxyRequest};
use serde_json::{json, Value};

use crate::attacks::{with, Forger};

const WHOLE_API: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/*/*/*";

async fn app() -> TestApp {
    TestApp::with_env(&[("AUTHORIZER_OPTIONAL_ROUTES", "GET /app/public")]).await
}

/// A fixture as API Gateway sends it, with `authorization` as the header (none: removed).
fn event(name: &str, authorization: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let text = std::fs::read_to_string(workspace_root().join("events").join(format!("{name}.json"))).unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    for map in ["headers", "multiValueHeaders"] {
        let headers = event[map].as_object_mut().unwrap();
        headers.retain(|name, _| !name.eq_ignore_ascii_case("authorization"));
        if let Some(value) = authorization {
            let value = if map == "headers" { json!(value) } else { json!([value]) };
            headers.insert("Authorization".to_owned(), value);
        }
    }
    serde_json::from_value(event).unwrap()
}

pub(crate) async fn decide(app: &TestApp, token: &str) -> Result<AuthorizerResponse, Refused> {
    authorize(&app.state, &event("authorizer", Some(&format!("Bearer {token}")))).await
}

fn allowed(decision: &Result<AuthorizerResponse, Refused>) -> &AuthorizerResponse {
    let response = decision.as_ref().expect("allowed");
    assert!(response.allows(), "{response:?}");
    response
}

#[tokio::test]
async fn a_valid_token_is_allowed_on_the_whole_api_with_a_fresh_context() {
    let app = app().await;
    let account = app.register().await;
    let decision = decide(&app, &account.access_token).await;
    let response = allowed(&decision);
    let statement = &response.policy_document.statement[0];
    assert_eq!((statement.action, statement.resource.as_str()), ("execute-api:Invoke", WHOLE_API));
    assert_eq!(response.principal_id, account.id);
    let claims = jwt_claims(&account.access_token);
    assert_eq!(
        Value::Object(response.context.clone()),
        json!({"auth": "user", "sub": account.id, "sid": claims["sid"], "role": "reader", "tier": "free",
               "guest": false, "email_verified": false})
    );
    // The tier comes from the database on every call, not from the token.
    app.set_user_attribute(&account.id, "tier", "premium").await;
    let decision = decide(&app, &account.access_token).await;
    assert_eq!(allowed(&decision).context["tier"], "premium");
}

#[tokio::test]
async fn forged_expired_and_confused_tokens_are_refused_with_unauthorized() {
    let app = app().await;
    let account = app.register().await;
    let forger = Forger::new();
    let claims = jwt_claims(&account.access_token);
    let cases = [
        ("alg none", Forger::unsigned(&with(&forger.header(), "alg", json!("none")), &claims, "")),
        (
            "another audience, genuinely signed",
            forger.es256(&forger.header(), &with(&claims, "aud", json!("another-app"))),
        ),
        ("tampered payload", {
            let parts: Vec<&str> = account.access_token.split('.').collect();
            let forged = forger.es256(&forger.header(), &with(&claims, "role", json!("admin")));
            format!("{}.{}.{}", parts[0], forged.split('.').nth(1).unwrap(), parts[2])
        }),
        ("a refresh token used as an access token", account.refresh_token.clone()),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (name, token) in cases {
        assert_eq!(decide(&app, &token).await, Err(Unauthorized), "{name}");
    }
    for header in [None, Some("Basic dXNlcjpwYXNz"), Some("Bearer")] {
        assert_eq!(authorize(&app.state, &event("authorizer", header)).await, Err(Unauthorized), "{header:?}");
    }
    app.state.clock.advance(Duration::from_secs(15 * 60 + 6));
    assert_eq!(decide(&app, &account.access_token).await, Err(Unauthorized), "expired");
}

#[tokio::test]
async fn logout_password_change_and_deletion_are_refused_on_the_next_call() {
    let app = app().await;
    let account = app.register().await;
    allowed(&decide(&app, &account.access_token).await);
    let out = app.call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), Some(json!({}))).await;
    assert_eq!(out.status, 204);
    assert_eq!(decide(&app, &account.access_token).await, Err(Unauthorized), "logged out");

    let account = app.register().await;
    let body = json!({"current_password": account.password, "new_password": "Another-long-passphrase-3"});
    let changed = app.call(Method::POST, "/api/v1/auth/password", Some(&account.access_token), Some(body)).await;
    assert_eq!(changed.status, 200);
    assert_eq!(decide(&app, &account.access_token).await, Err(Unauthorized), "password changed");
    allowed(&decide(&app, changed.body["access_token"].as_str().unwrap()).await);

    let account: Account = app.register().await;
    let gone = app
        .call(
            Method::DELETE,
            "/api/v1/auth/me",
            Some(&account.access_token),
            Some(json!({"password": account.password})),
        )
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(decide(&app, &account.access_token).await, Err(Unauthorized), "deleted");
}

#[tokio::test]
async fn an_optional_route_lets_an_anonymous_caller_through_but_never_a_bad_header() {
    let app = app().await;
    let anonymous = authorize(&app.state, &event("authorizer-anonymous", None)).await;
    let response = allowed(&anonymous);
    assert_eq!(Value::Object(response.context.clone()), json!({"auth": "anonymous"}));
    assert_eq!(response.policy_document.statement[0].resource, WHOLE_API);
    for bad in ["Bearer not.a.token", "Basic abc", "Bearer"] {
        assert_eq!(authorize(&app.state, &event("authorizer-anonymous", Some(bad))).await, Err(Unauthorized), "{bad}");
    }
    let account = app.register().await;
    let known =
        authorize(&app.state, &event("authorizer-anonymous", Some(&format!("Bearer {}", account.access_token)))).await;
    assert_eq!(allowed(&known).context["auth"], "user");
    // A route not listed as optional never answers anonymous.
    assert_eq!(authorize(&app.state, &event("authorizer", None)).await, Err(Unauthorized));
}

#[tokio::test]
async fn twenty_concurrent_calls_with_one_token_get_one_answer() {
    let app = app().await;
    let account = app.register().await;
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let state = std::sync::Arc::clone(&app.state);
            let event = event("authorizer", Some(&format!("Bearer {}", account.access_token)));
            tokio::spawn(async move { authorize(&state, &event).await })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    allowed(&answers[0]);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_503_never_a_cached_deny_or_a_guess() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = TestApp::with_env(&[("DYNAMODB_ENDPOINT", &format!("http://{closed}"))]).await;
    let token = {
        let live = TestApp::new().await;
        live.register().await.access_token
    };
    // Signed by the same keys: only the database stands between the token and an answer.
    assert_eq!(decide(&app, &token).await, Err(Refused::Unavailable));
}

#[test]
fn the_example_app_echoes_the_context_api_gateway_passed_it() {
    let text = std::fs::read_to_string(workspace_root().join("events/example-app.json")).unwrap();
    let request: ApiGatewayProxyRequest = serde_json::from_str(&text).unwrap();
    let response = example_app::respond(request);
    assert_eq!(response.status_code, 200);
    let body: Value = match response.body {
        Some(lambda_http::aws_lambda_events::encodings::Body::Text(text)) => serde_json::from_str(&text).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(body["route"], "GET /app/whoami");
    assert_eq!(body["authorizer"]["auth"], "user");
    assert!(body["authorizer"].get("principalId").is_none() && body["authorizer"].get("integrationLatency").is_none());
}

#[tokio::test]
async fn the_local_server_serves_the_example_api_behind_the_same_authorizer() {
    let app = app().await;
    let addr = serve_http(&app).await;
    let account = app.register().await;
    let bearer = format!("Bearer {}", account.access_token);
    let whoami = http(addr, "GET", "/app/whoami", &[("authorization", &bearer)], vec![]).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(whoami.body["route"], "GET /app/whoami");
    // As a REST API passes them: every context value a string.
    let expected = json!({"auth": "user", "sub": account.id, "sid": jwt_claims(&account.access_token)["sid"],
                          "role": "reader", "tier": "free", "guest": "false", "email_verified": "false"});
    assert_eq!(whoami.body["authorizer"], expected);

    let no_header = http(addr, "GET", "/app/whoami", &[], vec![]).await;
    assert_eq!((no_header.status, &no_header.body), (401, &json!({"message": "Unauthorized"})));
    let bad = http(addr, "GET", "/app/public", &[("authorization", "Bearer nope")], vec![]).await;
    assert_eq!((bad.status, &bad.body), (401, &json!({"message": "Unauthorized"})));
    let public = http(addr, "GET", "/app/public", &[], vec![]).await;
    assert_eq!((public.status, &public.body["authorizer"]), (200, &json!({"auth": "anonymous"})));
    let missing = http(addr, "GET", "/app/nothing-here", &[], vec![]).await;
    assert_eq!((missing.status, &missing.body), (404, &json!({"message": "Not Found"})));

    let out = app.call(Method::POST, "/api/v1/auth/logout", Some(&account.access_token), Some(json!({}))).await;
    assert_eq!(out.status, 204);
    let after = http(addr, "GET", "/app/whoami", &[("authorization", &bearer)], vec![]).await;
    assert_eq!(after.status, 401, "refused on the very next call");
}
