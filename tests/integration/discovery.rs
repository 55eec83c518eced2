//! `GET /.well-known/openid-configuration`: the discovery document OIDC verifiers (API
//! Gateway's JWT authorizers, libraries) start from, checked by one from the registry.

use bookshelf_tests::{http, serve_http, serve_http_on, workspace_root, TestApp};
use serde_json::Value;

#[tokio::test]
async fn the_document_leads_to_the_keys_under_the_url_the_caller_used() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    let doc = http(addr, "GET", "/.well-known/openid-configuration", &[], vec![]).await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert_eq!(doc.headers["cache-control"], "public, max-age=300");
    let body = &doc.body;
    assert_eq!(body["issuer"], app.state.config.jwt_issuer.as_str());
    assert_eq!(body["jwks_uri"], format!("http://{addr}/.well-known/jwks.json"));
    assert_eq!(body["token_endpoint"], format!("http://{addr}/api/v1/auth/login"));
    assert_eq!(body["id_token_signing_alg_values_supported"], serde_json::json!(["ES256"]));
    for field in ["response_types_supported", "subject_types_supported", "grant_types_supported", "claims_supported"] {
        assert!(body[field].as_array().is_some_and(|v| !v.is_empty()), "{field}");
    }
    let jwks = http(addr, "GET", "/.well-known/jwks.json", &[], vec![]).await;
    assert_eq!(jwks.status, 200);
}

/// Runs `scripts/oidc-verify.py` (PyJWT) against the server; (success, stdout, stderr).
async fn verify_with_pyjwt(issuer: &str, audience: &str, token: &str) -> (bool, String, String) {
    let python = workspace_root().join(".venv/bin/python3");
    assert!(python.exists(), "{} is missing: `make test` (or `make lint`) installs .venv", python.display());
    let output = tokio::process::Command::new(python)
        .arg(workspace_root().join("scripts/oidc-verify.py"))
        .args([issuer, audience, token])
        .output()
        .await
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[tokio::test]
async fn an_oidc_library_verifies_our_tokens_from_the_discovery_document_alone() {
    // The issuer is the service's own URL, as verifiers that discover it need.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let app = TestApp::with_env(&[("JWT_ISSUER", &issuer)]).await;
    serve_http_on(&app, listener);
    let account = app.register().await;

    let (ok, claims, stderr) = verify_with_pyjwt(&issuer, "bookshelf-apps", &account.access_token).await;
    assert!(ok, "{stderr}");
    let claims: Value = serde_json::from_str(&claims).unwrap();
    assert_eq!((claims["sub"].as_str(), claims["iss"].as_str()), (Some(account.id.as_str()), Some(issuer.as_str())));

    let (ok, _, stderr) = verify_with_pyjwt(&issuer, "another-audience", &account.access_token).await;
    assert!(!ok && stderr.contains("InvalidAudience"), "{stderr}");
    // One character in the middle of the signature (the last one may only carry padding bits).
    let at = account.access_token.len() - 20;
    let flipped = if &account.access_token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &account.access_token[..at], &account.access_token[at + 1..]);
    let (ok, _, stderr) = verify_with_pyjwt(&issuer, "bookshelf-apps", &tampered).await;
    assert!(!ok && stderr.contains("refused"), "{stderr}");
}
