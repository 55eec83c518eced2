//! Sign in with Google and Apple by ID token, against in-process issuers that mint tokens the
//! way the real providers do (`bookshelf_tests::oidc`): complete verification, identities as
//! unique claims, linking only between verified addresses, guests upgraded by a link, and the
//! provider's keys fetched sparingly.

use std::sync::Arc;
use std::time::Duration;

use bookshelf_tests::oidc::{apple_nonce, hs256, unsigned, Jwks, TestIssuer};
use bookshelf_tests::{jwt_claims, request, unique, Account, Reply, TestApp};
use http::Method;
use serde_json::{json, Value};

const GOOGLE_CLIENT: &str = "1234-bookwish.apps.googleusercontent.com";
const APPLE_BUNDLE: &str = "com.example.bookwish";
const APPLE_SERVICES: &str = "com.example.bookwish.web";

struct Providers {
    app: TestApp,
    google: TestIssuer,
    apple: TestIssuer,
}

async fn providers() -> Providers {
    providers_with(&[]).await
}

async fn providers_with(extra: &[(&str, &str)]) -> Providers {
    let google = TestIssuer::start("https://accounts.google.com").await;
    let apple = TestIssuer::start("https://appleid.apple.com").await;
    let mut env = vec![
        ("SOCIAL_GOOGLE_CLIENT_IDS", GOOGLE_CLIENT.to_owned()),
        ("SOCIAL_GOOGLE_JWKS_URL", google.jwks_url.clone()),
        ("SOCIAL_APPLE_CLIENT_IDS", format!("{APPLE_BUNDLE},{APPLE_SERVICES}")),
        ("SOCIAL_APPLE_JWKS_URL", apple.jwks_url.clone()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Providers { app: TestApp::with_env(&env).await, google, apple }
}

impl Providers {
    /// A Google token for `subject` with a verified `email`.
    fn google_token(&self, subject: &str, email: Option<&str>) -> String {
        self.google.mint(&self.google.claims(GOOGLE_CLIENT, subject, email, json!(true)))
    }

    /// An Apple token for `subject` carrying the SHA-256 of `nonce`, as Apple's SDK makes it
    /// (`email_verified` as the string Apple sends).
    fn apple_token(&self, subject: &str, email: Option<&str>, nonce: &str) -> String {
        let mut claims = self.apple.claims(APPLE_BUNDLE, subject, email, json!("true"));
        claims["nonce"] = json!(apple_nonce(nonce));
        claims["is_private_email"] = json!("true");
        self.apple.mint(&claims)
    }

    async fn sign_in(&self, provider: &str, body: Value) -> Reply {
        self.app.post(&format!("/api/v1/auth/social/{provider}"), body).await
    }

    async fn identities(&self, access_token: &str) -> Value {
        let reply = self.app.call(Method::GET, "/api/v1/auth/identities", Some(access_token), None).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["identities"].clone()
    }
}

/// Links a Google identity to the caller's account, proving `password` where it has one.
async fn link(p: &Providers, access_token: &str, id_token: String, password: Option<&str>) -> Reply {
    let body = json!({"id_token": id_token, "current_password": password});
    p.app.call(Method::POST, "/api/v1/auth/identities/google", Some(access_token), Some(body)).await
}

async fn unlink(p: &Providers, access_token: &str, provider: &str) -> Reply {
    let path = format!("/api/v1/auth/identities/{provider}");
    p.app.call(Method::DELETE, &path, Some(access_token), None).await
}

fn email() -> String {
    format!("{}@example.com", unique("social_"))
}

fn providers_of(identities: &Value) -> Vec<&str> {
    identities.as_array().unwrap().iter().map(|i| i["provider"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn google_and_apple_tokens_sign_in_and_the_second_time_find_the_same_user() {
    let p = providers().await;
    let address = email();
    let first =
        p.sign_in("google", json!({"id_token": p.google_token("g-1", Some(&address)), "display_name": "Ada"})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let user = &first.body["user"];
    assert_eq!((user["email"].as_str(), user["email_verified"].as_bool()), (Some(address.as_str()), Some(true)));
    assert_eq!((user["display_name"].as_str(), user["username"].clone()), (Some("Ada"), Value::Null));
    let again = p.sign_in("google", json!({"id_token": p.google_token("g-1", Some(&address))})).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["user"]["id"], user["id"]);
    assert_eq!(providers_of(&p.identities(&again.str("access_token")).await), ["google"]);

    // Apple: the services id is an audience too; the name comes from the app, never the token.
    let relay = format!("{}@privaterelay.appleid.com", unique("r"));
    let body = json!({"id_token": p.apple_token("001234.abcdef", Some(&relay), "raw-nonce-1"), "nonce": "raw-nonce-1",
                      "first_name": "Grace", "last_name": "Hopper", "display_name": "Grace"});
    let apple = p.sign_in("apple", body).await;
    assert_eq!(apple.status, 201, "{}", apple.body);
    assert_eq!(apple.body["user"]["first_name"], "Grace");
    let mut claims = p.apple.claims(APPLE_SERVICES, "001234.abcdef", None, Value::Null);
    claims["nonce"] = json!(apple_nonce("raw-nonce-2"));
    let web = p.sign_in("apple", json!({"id_token": p.apple.mint(&claims), "nonce": "raw-nonce-2"})).await;
    assert_eq!((web.status, &web.body["user"]["id"]), (200, &apple.body["user"]["id"]), "{}", web.body);
    // A password login is no way into an account that has none.
    let login = p.app.post("/api/v1/auth/login", json!({"email": address, "password": "anything-at-all-1"})).await;
    login.assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn a_token_the_provider_did_not_issue_for_us_is_refused() {
    let p = providers().await;
    let good = p.google.claims(GOOGLE_CLIENT, "g-2", Some("forged@example.com"), json!(true));
    let with = |name: &str, value: Value| {
        let mut claims = good.clone();
        claims[name] = value;
        claims
    };
    let now = good["iat"].as_i64().unwrap();
    let public_jwk = p.google.public_jwk("key-1");
    p.google.add_key("unpublished", false);
    let cases = [
        ("wrong audience", p.google.mint(&with("aud", json!("someone-elses-client")))),
        ("wrong issuer", p.google.mint(&with("iss", json!("https://accounts.evil.example")))),
        ("expired", p.google.mint(&with("exp", json!(now - 60)))),
        ("issued in the future", p.google.mint(&with("iat", json!(now + 600)))),
        ("no subject", p.google.mint(&with("sub", json!("")))),
        ("alg none", unsigned("key-1", &good)),
        ("HS256 keyed by the public key", hs256("key-1", public_jwk.to_string().as_bytes(), &good)),
        ("HS256 keyed by the modulus", hs256("key-1", public_jwk["n"].as_str().unwrap().as_bytes(), &good)),
        ("signed by a key the provider never published", p.google.mint_with("unpublished", json!({}), &good)),
        ("a jku pointing elsewhere", p.google.mint_with("key-1", json!({"jku": "https://evil.example/keys"}), &good)),
        ("not a JWT", "not.a.jwt".to_owned()),
    ];
    for (case, token) in cases {
        let reply = p.sign_in("google", json!({"id_token": token})).await;
        assert_eq!((reply.status, reply.code()), (401, "invalid_token"), "{case}: {}", reply.body);
    }
    let tampered = {
        let token = p.google_token("g-2", None);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = base64_claims(&with("sub", json!("someone-else")));
        parts.join(".")
    };
    p.sign_in("google", json!({"id_token": tampered})).await.assert_problem(401, "invalid_token");
    p.sign_in("google", json!({})).await.assert_problem(400, "validation_error");
    p.sign_in("github", json!({"id_token": p.google_token("g-2", None)})).await.assert_problem(404, "not_found");
}

fn base64_claims(claims: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
}

#[tokio::test]
async fn a_provider_without_client_ids_is_not_served() {
    let app = TestApp::new().await;
    let reply = app.post("/api/v1/auth/social/google", json!({"id_token": "x.y.z"})).await;
    reply.assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_unknown_key_is_refetched_once_and_never_more_than_once_a_minute() {
    let p = providers().await;
    let first = p.sign_in("google", json!({"id_token": p.google_token("g-3", None)})).await;
    assert_eq!((first.status, p.google.fetches()), (201, 1), "{}", first.body);
    // Cached: no fetch for a known key.
    assert_eq!(p.sign_in("google", json!({"id_token": p.google_token("g-3", None)})).await.status, 200);
    assert_eq!(p.google.fetches(), 1);

    // The provider rotates to a new key: within a minute of the last fetch, not fetched again.
    p.google.add_key("key-2", true);
    let claims = p.google.claims(GOOGLE_CLIENT, "g-3", None, Value::Null);
    let rotated = p.google.mint_with("key-2", json!({}), &claims);
    p.sign_in("google", json!({"id_token": rotated})).await.assert_problem(401, "invalid_token");
    assert_eq!(p.google.fetches(), 1);
    p.app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(p.sign_in("google", json!({"id_token": rotated})).await.status, 200);
    assert_eq!(p.google.fetches(), 2, "one refetch for the unknown kid");

    // A kid the provider never publishes: one refetch, then 401, and no more fetches.
    p.app.state.clock.advance(Duration::from_secs(61));
    p.google.add_key("never", false);
    let forged = p.google.mint_with("never", json!({}), &claims);
    for _ in 0..5 {
        p.sign_in("google", json!({"id_token": forged})).await.assert_problem(401, "invalid_token");
    }
    assert_eq!(p.google.fetches(), 3);
}

#[tokio::test]
async fn nonces_are_checked_as_each_provider_carries_them() {
    let p = providers().await;
    // Apple requires one and carries its SHA-256.
    let token = p.apple_token("apple-nonce", None, "n-1");
    p.sign_in("apple", json!({"id_token": token})).await.assert_problem(401, "invalid_token");
    p.sign_in("apple", json!({"id_token": token, "nonce": "n-2"})).await.assert_problem(401, "invalid_token");
    let raw_in_token = {
        let mut claims = p.apple.claims(APPLE_BUNDLE, "apple-nonce", None, Value::Null);
        claims["nonce"] = json!("n-1");
        p.apple.mint(&claims)
    };
    p.sign_in("apple", json!({"id_token": raw_in_token, "nonce": "n-1"})).await.assert_problem(401, "invalid_token");
    assert_eq!(p.sign_in("apple", json!({"id_token": token, "nonce": "n-1"})).await.status, 201);

    // Google carries it as sent; optional unless configured, but checked whenever sent.
    let mut claims = p.google.claims(GOOGLE_CLIENT, "google-nonce", None, Value::Null);
    claims["nonce"] = json!("g-n");
    let token = p.google.mint(&claims);
    p.sign_in("google", json!({"id_token": token, "nonce": "other"})).await.assert_problem(401, "invalid_token");
    assert_eq!(p.sign_in("google", json!({"id_token": token, "nonce": "g-n"})).await.status, 201);
    assert_eq!(p.sign_in("google", json!({"id_token": p.google_token("google-nonce", None)})).await.status, 200);
    let strict = providers_with(&[("SOCIAL_GOOGLE_REQUIRE_NONCE", "true")]).await;
    let reply = strict.sign_in("google", json!({"id_token": strict.google_token("g-strict", None)})).await;
    reply.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn an_email_links_only_when_the_provider_and_the_account_both_verified_it() {
    let p = providers().await;
    let account = p.app.register().await;
    let user_id = uuid::Uuid::parse_str(&account.id).unwrap();

    // Unverified at the provider: never linked to the account, nothing stored.
    let unverified = p.google.mint(&p.google.claims(GOOGLE_CLIENT, "g-takeover", Some(&account.email), json!(false)));
    p.sign_in("google", json!({"id_token": unverified})).await.assert_problem(409, "account_exists");
    // Verified at the provider, but the account never verified its address: no link either.
    let verified = p.google_token("g-takeover", Some(&account.email));
    p.sign_in("google", json!({"id_token": verified})).await.assert_problem(409, "account_exists");
    let user = p.app.state.store.get_user(user_id).await.unwrap().unwrap();
    assert!(user.identities.is_empty(), "nothing linked");
    let claim = bookshelf::store::keys::identity_claim("google", "g-takeover");
    assert_eq!(p.app.state.store.claim_owner(claim).await.unwrap(), None, "no identity claimed");

    // Both verified: the identity joins the account.
    let token = p.app.verification_token(&account).await;
    assert_eq!(p.app.post("/api/v1/auth/email/verify", json!({"token": token})).await.status, 204);
    let linked = p.sign_in("google", json!({"id_token": verified})).await;
    assert_eq!(
        (linked.status, linked.body["user"]["id"].as_str()),
        (200, Some(account.id.as_str())),
        "{}",
        linked.body
    );
    assert_eq!(providers_of(&p.identities(&linked.str("access_token")).await), ["password", "google"]);
    // An unverified address of nobody's makes a user without an email.
    let stranger = p.google.mint(&p.google.claims(GOOGLE_CLIENT, "g-new", Some(&email()), json!(false)));
    let created = p.sign_in("google", json!({"id_token": stranger})).await;
    assert_eq!((created.status, created.body["user"]["email"].clone()), (201, Value::Null), "{}", created.body);
}

#[tokio::test]
async fn linking_adds_an_identity_and_a_guests_link_upgrades_it_under_the_same_id() {
    let p = providers().await;
    let account = p.app.register().await;
    // Proving the password: a stolen access token alone cannot add a way in.
    link(&p, &account.access_token, p.google_token("g-link", None), None).await.assert_problem(400, "validation_error");
    link(&p, &account.access_token, p.google_token("g-link", None), Some("Not-the-password-1"))
        .await
        .assert_problem(401, "invalid_credentials");
    let pw = Some(account.password.as_str());
    let reply = link(&p, &account.access_token, p.google_token("g-link", None), pw).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(providers_of(&reply.body["identities"]), ["password", "google"]);
    // Idempotent for the same identity; another account cannot take it.
    assert_eq!(link(&p, &account.access_token, p.google_token("g-link", None), pw).await.status, 200);
    let other = p.app.register().await;
    let other_pw = Some(other.password.as_str());
    link(&p, &other.access_token, p.google_token("g-link", None), other_pw).await.assert_problem(409, "identity_taken");
    // One identity per provider and account.
    link(&p, &account.access_token, p.google_token("g-link-2", None), pw).await.assert_problem(409, "identity_taken");
    let signed_in = p.sign_in("google", json!({"id_token": p.google_token("g-link", None)})).await;
    assert_eq!(signed_in.body["user"]["id"].as_str(), Some(account.id.as_str()));

    // A guest's link: same user id, a full account now, its session kept and refreshing.
    let guest = p.app.post("/api/v1/auth/guest", json!({"device_id": unique("device-")})).await;
    let guest_token = guest.str("access_token");
    let address = email();
    let reply = link(&p, &guest_token, p.google_token("g-guest", Some(&address)), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let me = p.app.me(&guest_token).await;
    assert_eq!(me.body["id"], guest.body["user"]["id"]);
    assert_eq!((me.body["is_guest"].as_bool(), me.body["email"].as_str()), (Some(false), Some(address.as_str())));
    let refreshed = p.app.refresh(&guest.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(jwt_claims(&refreshed.str("access_token"))["guest"], false);
    let back = p.sign_in("google", json!({"id_token": p.google_token("g-guest", Some(&address))})).await;
    assert_eq!((back.status, &back.body["user"]["id"]), (200, &guest.body["user"]["id"]));
}

#[tokio::test]
async fn the_last_way_in_cannot_be_unlinked() {
    let p = providers().await;
    let created = p.sign_in("google", json!({"id_token": p.google_token("g-last", None)})).await;
    let token = created.str("access_token");
    unlink(&p, &token, "google").await.assert_problem(409, "last_identity");
    unlink(&p, &token, "apple").await.assert_problem(404, "not_found");
    let apple = p.apple_token("a-last", None, "n");
    let body = json!({"id_token": apple, "nonce": "n"});
    let linked = p.app.call(Method::POST, "/api/v1/auth/identities/apple", Some(&token), Some(body)).await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(unlink(&p, &token, "google").await.status, 204);
    assert_eq!(providers_of(&p.identities(&token).await), ["apple"]);
    unlink(&p, &token, "apple").await.assert_problem(409, "last_identity");
    // The unlinked identity is free again: it signs in as a new user.
    let again = p.sign_in("google", json!({"id_token": p.google_token("g-last", None)})).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.body["user"]["id"], created.body["user"]["id"]);
}

#[tokio::test]
async fn an_account_without_a_password_deletes_itself_and_frees_its_identity() {
    let p = providers().await;
    let created = p.sign_in("google", json!({"id_token": p.google_token("g-gone", Some(&email()))})).await;
    let token = created.str("access_token");
    let deleted = p.app.call(Method::DELETE, "/api/v1/auth/me", Some(&token), Some(json!({}))).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let claim = bookshelf::store::keys::identity_claim("google", "g-gone");
    assert_eq!(p.app.state.store.claim_owner(claim).await.unwrap(), None, "the identity is free");
    let again = p.sign_in("google", json!({"id_token": p.google_token("g-gone", None)})).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.body["user"]["id"], created.body["user"]["id"]);
}

#[tokio::test]
async fn a_provider_whose_keys_cannot_be_fetched_is_503_and_blocks_no_other_route() {
    let p = Arc::new(providers().await);
    let account: Account = p.app.register().await;
    p.google.set_jwks(Jwks::Fail);
    // Within the minute after a failed fetch there is no new fetch, and the answer stays an
    // outage (503), never a refused token.
    for _ in 0..2 {
        let reply = p.sign_in("google", json!({"id_token": p.google_token("g-down", None)})).await;
        reply.assert_problem(503, "service_unavailable");
    }
    assert_eq!(p.google.fetches(), 1);

    p.app.state.clock.advance(Duration::from_secs(61));
    p.google.set_jwks(Jwks::Hang);
    let hanging = {
        let p = Arc::clone(&p);
        tokio::spawn(async move { p.sign_in("google", json!({"id_token": p.google_token("g-down", None)})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Other routes, and the other provider, answer while that fetch waits.
    assert_eq!(p.app.me(&account.access_token).await.status, 200);
    let apple = p.sign_in("apple", json!({"id_token": p.apple_token("a-up", None, "n"), "nonce": "n"})).await;
    assert_eq!(apple.status, 201, "{}", apple.body);
    assert!(!hanging.is_finished(), "the Google fetch is still waiting");
    hanging.await.unwrap().assert_problem(503, "service_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_first_sign_ins_with_one_identity_make_one_user() {
    let p = Arc::new(providers().await);
    let address = email();
    let token = p.google_token("g-race", Some(&address));
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let (p, token) = (Arc::clone(&p), token.clone());
            tokio::spawn(async move { p.sign_in("google", json!({"id_token": token})).await })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for attempt in attempts {
        let reply = attempt.await.unwrap();
        assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
        created += usize::from(reply.status == 201);
        ids.insert(reply.body["user"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!((created, ids.len()), (1, 1));
}

#[tokio::test]
async fn a_disabled_account_is_refused_social_sign_in() {
    let p = providers().await;
    let created = p.sign_in("google", json!({"id_token": p.google_token("g-off", None)})).await;
    let id = created.body["user"]["id"].as_str().unwrap().to_owned();
    let mut req = request(Method::PATCH, &format!("/admin/v1/users/{id}"), None, Some(json!({"disabled": true})));
    req.caller = Some("arn:aws:iam::123456789012:role/backend".to_owned());
    assert_eq!(p.app.send(req).await.status, 200);
    p.sign_in("google", json!({"id_token": p.google_token("g-off", None)}))
        .await
        .assert_problem(403, "account_disabled");
}

#[tokio::test]
async fn bookwish_signs_in_with_google_in_its_own_shape() {
    let google = TestIssuer::start("https://accounts.google.com").await;
    let app = TestApp::with_profiles(
        "bookshelf,bookwish",
        &[("SOCIAL_GOOGLE_CLIENT_IDS", GOOGLE_CLIENT), ("SOCIAL_GOOGLE_JWKS_URL", &google.jwks_url)],
    )
    .await;
    let address = email();
    let token = google.mint(&google.claims(GOOGLE_CLIENT, "g-bw", Some(&address), json!(true)));
    let reply = app.post("/auth/social/google", json!({"idToken": token, "displayName": "Eli"})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["user"]["displayName"], "Eli");
    assert_eq!(reply.body["user"]["email"], address.as_str());
    assert!(reply.body["access_token"].is_string() && reply.body["refresh_token"].is_string());
    let bad = app.post("/auth/social/google", json!({})).await;
    assert_eq!((bad.status, bad.body["error"].as_str()), (400, Some("ValidationError")), "{}", bad.body);
}
