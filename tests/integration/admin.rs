//! The back office's API (`/admin/v1`): each route, and each effect a change has on the rest of
//! the service — `/me`, the profiles' user views, the authorizer, the next token, and every
//! way in for a disabled account.

use std::collections::HashSet;
use std::sync::Arc;

use bookshelf::clock::UnixMs;
use bookshelf::store::{NewImport, StoreError, UserRecord};
use bookshelf_tests::{http, jwt_claims, request, serve_http, unique, Account, LogCapture, Reply, TestApp};
use http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::authorizer::decide;

/// An IAM role of an app's backend, as API Gateway names the signer of an `AWS_IAM` request.
const BACKEND: &str = "arn:aws:iam::123456789012:role/bookwish-backend";

/// A request API Gateway let through after checking its SigV4 signature.
fn signed(method: Method, path: &str, body: Option<Value>) -> bookshelf::web::request::ApiRequest {
    let mut req = request(method, path, None, body);
    req.caller = Some(BACKEND.to_owned());
    req
}

async fn admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Reply {
    app.send(signed(method, path, body)).await
}

async fn get_user(app: &TestApp, id: &str) -> Reply {
    admin(app, Method::GET, &format!("/admin/v1/users/{id}"), None).await
}

async fn patch(app: &TestApp, id: &str, body: Value) -> Reply {
    admin(app, Method::PATCH, &format!("/admin/v1/users/{id}"), Some(body)).await
}

fn ok(reply: Reply) -> Reply {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

/// A user stored as the importer stores one (no password hashing: fast enough for hundreds).
async fn imported(app: &TestApp, legacy_id: &str, created_at: UnixMs) -> UserRecord {
    let name = unique("imported");
    let user = NewImport {
        legacy_id: legacy_id.to_owned(),
        legacy_source: Some("corners".to_owned()),
        username: Some((name.clone(), name.to_lowercase())),
        email: None,
        email_verified: false,
        display_name: Some(name),
        first_name: None,
        last_name: None,
        role: "reader".to_owned(),
        tier: "free".to_owned(),
        preferences: "{}".to_owned(),
        password_hash: None,
        created_at,
    };
    let record = UserRecord::imported(Uuid::now_v7(), user, app.state.clock.now());
    app.state.store.import_user(&record).await.unwrap();
    record
}

#[tokio::test]
async fn admin_routes_refuse_a_request_no_gateway_authenticated() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let unsigned = app.call(Method::GET, &format!("/admin/v1/users/{}", account.id), None, None).await;
    unsigned.assert_problem(403, "forbidden");
    // A user's own bearer token opens nothing either.
    let path = format!("/admin/v1/users/{}", account.id);
    let bearer = app.call(Method::PATCH, &path, Some(&account.access_token), Some(json!({"tier": "admin"}))).await;
    bearer.assert_problem(403, "forbidden");
    assert_eq!(ok(get_user(&app, &account.id).await).body["tier"], "free");
}

#[tokio::test]
async fn the_local_server_opens_admin_routes_with_the_admin_key_and_never_the_api_key() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let addr = serve_http(&app).await;
    let path = format!("/admin/v1/users/{}", account.id);
    for headers in [vec![], vec![("x-api-key", "test-key")], vec![("x-admin-key", "wrong")]] {
        let reply = http(addr, "GET", &path, &headers, vec![]).await;
        assert_eq!((reply.status, reply.body["code"].as_str()), (403, Some("forbidden")), "{headers:?}");
    }
    let reply = http(addr, "GET", &path, &[("x-admin-key", "local-admin-key")], vec![]).await;
    assert_eq!((reply.status, reply.body["id"].as_str()), (200, Some(account.id.as_str())), "{}", reply.body);
    let listed = http(addr, "GET", "/admin/v1/users?limit=1", &[("x-admin-key", "local-admin-key")], vec![]).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
}

#[tokio::test]
async fn a_user_is_shown_whole_without_its_hash_with_its_live_sessions_counted() {
    let app = TestApp::new().await;
    let account = app.register().await;
    ok(app.login(&account.username, &account.password).await);
    let shown = ok(get_user(&app, &account.id).await).body;
    assert_eq!(shown["username"], account.username.as_str());
    assert_eq!((shown["disabled"].clone(), shown["session_count"].clone()), (json!(false), json!(2)));
    assert_eq!((shown["legacy_id"].clone(), shown["has_password"].clone()), (Value::Null, json!(true)));
    assert_eq!(shown["app_metadata"], json!({}));
    let text = shown.to_string();
    assert!(!text.contains("argon2") && !text.contains("password_hash"), "{text}");

    get_user(&app, &Uuid::now_v7().to_string()).await.assert_problem(404, "not_found");
    get_user(&app, "not-a-uuid").await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn lookups_find_one_user_by_each_unique_name_normalised_like_login() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let device = unique("device-");
    let guest = app.post("/api/v1/auth/guest", json!({"device_id": device})).await;
    let guest_id = guest.body["user"]["id"].as_str().unwrap().to_owned();
    let old = imported(&app, "42", app.state.clock.now()).await;

    let find = |query: String| {
        let app = &app;
        async move { ok(admin(app, Method::GET, &format!("/admin/v1/users?{query}"), None).await).body }
    };
    let ids = |body: &Value| -> Vec<String> {
        body["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
    };
    let shouted = account.email.to_uppercase();
    assert_eq!(ids(&find(format!("email={}", urlencode(&shouted))).await), [account.id.as_str()]);
    assert_eq!(ids(&find(format!("username={}", account.username.to_uppercase())).await), [account.id.as_str()]);
    assert_eq!(ids(&find(format!("device_id={device}")).await), [guest_id]);
    let by_legacy = find("legacy_id=42&source=corners".to_owned()).await;
    assert_eq!(ids(&by_legacy), [old.id.to_string()]);
    assert_eq!(by_legacy["users"][0]["legacy_id"], "42");
    assert_eq!(by_legacy["next_cursor"], Value::Null);
    // Nobody by that name, or a name nobody could hold: an empty list, not an error.
    assert!(ids(&find("email=nobody%40example.com".to_owned()).await).is_empty());
    assert!(ids(&find(format!("username={}", "x".repeat(3000))).await).is_empty());
    assert!(ids(&find("legacy_id=42".to_owned()).await).is_empty(), "another source's 42");

    for bad in [
        "email=a%40b.c&username=ab",
        "email=a%40b.c&limit=5",
        "nickname=jane",
        "limit=0",
        "limit=101",
        "order=sideways",
        "created_since=yesterday",
        "cursor=bm9wZQ",
        "source=corners",
        "limit=1&limit=2",
        // Empty or impossible creation ranges (DynamoDB would refuse them).
        "created_since=2030-01-02T00:00:00Z&created_before=2030-01-01T00:00:00Z",
        "created_since=2030-01-01T00:00:00Z&created_before=2030-01-01T00:00:00Z",
        "created_before=1960-01-01T00:00:00Z",
    ] {
        let reply = admin(&app, Method::GET, &format!("/admin/v1/users?{bad}"), None).await;
        reply.assert_problem(400, "validation_error");
    }
}

fn urlencode(text: &str) -> String {
    text.replace('@', "%40").replace('+', "%2B")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paging_through_250_users_returns_each_once_newest_first() {
    let app = Arc::new(TestApp::new().await);
    let start = app.state.clock.now();
    let mut created = HashSet::new();
    // Ten at a time: DynamoDB Local, shared with the other tests, is no place for 250 at once.
    for chunk in 0..25 {
        let tasks: Vec<_> = (chunk * 10..chunk * 10 + 10)
            .map(|i| {
                let app = Arc::clone(&app);
                // Two users a millisecond: the cursor still tells them apart.
                let at = UnixMs::from_ms(start.as_ms() - 1_000_000 + i / 2);
                tokio::spawn(async move { imported(&app, &format!("user-{i}"), at).await })
            })
            .collect();
        for task in tasks {
            created.insert(task.await.unwrap().id.to_string());
        }
    }
    let mut seen = Vec::new();
    let mut times = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let query = match &cursor {
            Some(c) => format!("limit=30&cursor={c}"),
            None => "limit=30".to_owned(),
        };
        let page = ok(admin(&app, Method::GET, &format!("/admin/v1/users?{query}"), None).await).body;
        for user in page["users"].as_array().unwrap() {
            seen.push(user["id"].as_str().unwrap().to_owned());
            times.push(user["created_at"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250, "each user once");
    // A cursor of one range does not page another.
    let first = ok(admin(&app, Method::GET, "/admin/v1/users?limit=10", None).await).body;
    let cursor = first["next_cursor"].as_str().unwrap();
    let elsewhere = format!("/admin/v1/users?cursor={cursor}&created_since=2099-01-01T00:00:00Z");
    admin(&app, Method::GET, &elsewhere, None).await.assert_problem(400, "validation_error");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Oldest first within a creation range: [since, before).
    let since = bookshelf::clock::rfc3339(UnixMs::from_ms(start.as_ms() - 1_000_000 + 10));
    let before = bookshelf::clock::rfc3339(UnixMs::from_ms(start.as_ms() - 1_000_000 + 20));
    let query = format!("order=oldest&created_since={since}&created_before={before}&limit=100");
    let range = ok(admin(&app, Method::GET, &format!("/admin/v1/users?{query}"), None).await).body;
    let range_times: Vec<&str> =
        range["users"].as_array().unwrap().iter().map(|u| u["created_at"].as_str().unwrap()).collect();
    assert_eq!(range_times.len(), 20, "two users a millisecond, ten milliseconds");
    assert!(range_times.windows(2).all(|w| w[0] <= w[1]) && range_times[0] == since);
}

#[tokio::test]
async fn a_tier_change_reaches_me_the_profiles_the_authorizer_and_the_next_token_without_a_new_login() {
    let app = TestApp::with_profiles("bookshelf,bookwish", &[]).await;
    let account = app.register().await;
    let before = decide(&app, &account.access_token).await.unwrap();
    assert_eq!(before.context["tier"], "free");

    let changed = ok(patch(&app, &account.id, json!({"tier": "premium", "role": "staff"})).await).body;
    assert_eq!((changed["tier"].as_str(), changed["role"].as_str()), (Some("premium"), Some("staff")));

    let me = ok(app.me(&account.access_token).await).body;
    assert_eq!((me["tier"].as_str(), me["role"].as_str()), (Some("premium"), Some("staff")));
    let bookwish = app.call(Method::GET, "/users/me", Some(&account.access_token), None).await;
    assert_eq!(bookwish.body["tier"], "premium", "{}", bookwish.body);
    let after = decide(&app, &account.access_token).await.unwrap();
    assert_eq!((after.context["tier"].as_str(), after.context["role"].as_str()), (Some("premium"), Some("staff")));

    let refreshed = ok(app.refresh(&account.refresh_token).await);
    let claims = jwt_claims(&refreshed.str("access_token"));
    assert_eq!((claims["tier"].as_str(), claims["role"].as_str()), (Some("premium"), Some("staff")));
    let login = ok(app.login(&account.username, &account.password).await);
    assert_eq!(jwt_claims(&login.str("access_token"))["tier"], "premium");
}

#[tokio::test]
async fn a_change_takes_only_configured_values_and_known_fields() {
    let app = TestApp::with_env(&[("TIERS", "free,gold"), ("ROLES", "reader,librarian")]).await;
    let account = app.register().await;
    let big = json!({"notes": "x".repeat(4100)});
    for body in [
        json!({"tier": "premium"}),
        json!({"role": "admin"}),
        json!({"tier": 3}),
        json!({"disabled": "yes"}),
        json!({"app_metadata": [1, 2]}),
        json!({"app_metadata": big}),
        json!({"tеir": "gold"}),
        json!({"email": "new@example.com"}),
        json!({}),
    ] {
        patch(&app, &account.id, body.clone()).await.assert_problem(400, "validation_error");
    }
    let reply = admin(&app, Method::PATCH, &format!("/admin/v1/users/{}", account.id), None).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let changed = ok(patch(&app, &account.id, json!({"tier": "gold", "role": "librarian"})).await).body;
    assert_eq!((changed["tier"].as_str(), changed["role"].as_str()), (Some("gold"), Some("librarian")));
    patch(&app, &Uuid::now_v7().to_string(), json!({"tier": "gold"})).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn app_metadata_is_shown_to_its_user_who_can_never_change_it() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let metadata = json!({"stripe_customer": "cus_123", "seats": 3});
    ok(patch(&app, &account.id, json!({"app_metadata": metadata})).await);
    assert_eq!(ok(app.me(&account.access_token).await).body["app_metadata"], metadata);
    let attempt = json!({"app_metadata": {"seats": 300}, "display_name": "Mallory"});
    let updated = ok(app.call(Method::PATCH, "/api/v1/auth/me", Some(&account.access_token), Some(attempt)).await);
    assert_eq!(
        (updated.body["app_metadata"].clone(), updated.body["display_name"].clone()),
        (metadata, json!("Mallory"))
    );
}

/// Every way in for `account` is refused as disabled (its password, its refresh token) or as
/// a dead token (its access token, at every bearer route and the authorizer).
async fn assert_locked_out(app: &TestApp, account: &Account) {
    app.me(&account.access_token).await.assert_problem(401, "invalid_token");
    let sessions = app.call(Method::GET, "/api/v1/auth/sessions", Some(&account.access_token), None).await;
    sessions.assert_problem(401, "invalid_token");
    assert!(decide(app, &account.access_token).await.is_err(), "the authorizer refuses");
    app.refresh(&account.refresh_token).await.assert_problem(403, "account_disabled");
    app.login(&account.username, &account.password).await.assert_problem(403, "account_disabled");
}

#[tokio::test]
async fn disabling_ends_every_session_and_refuses_every_way_in_until_enabled() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let second = ok(app.login(&account.username, &account.password).await);
    let reset_token = {
        let forgot = app.post("/api/v1/auth/password/forgot", json!({"email": account.email})).await;
        assert_eq!(forgot.status, 202);
        app.reset_token(&account).await
    };

    let disabled = ok(patch(&app, &account.id, json!({"disabled": true})).await).body;
    assert_eq!((disabled["disabled"].clone(), disabled["session_count"].clone()), (json!(true), json!(0)));
    assert_locked_out(&app, &account).await;
    app.me(&second.str("access_token")).await.assert_problem(401, "invalid_token");
    // Only the password's owner learns the account is disabled.
    app.login(&account.username, "Wrong-password-123!").await.assert_problem(401, "invalid_credentials");
    let reset =
        app.post("/api/v1/auth/password/reset", json!({"token": reset_token, "new_password": "N3w-Passphrase-xyz!"}));
    reset.await.assert_problem(403, "account_disabled");

    let enabled = ok(patch(&app, &account.id, json!({"disabled": false})).await).body;
    assert_eq!(enabled["disabled"], false);
    let back = ok(app.login(&account.username, &account.password).await);
    ok(app.me(&back.str("access_token")).await);
}

#[tokio::test]
async fn only_a_token_the_session_handed_out_learns_the_account_is_disabled() {
    let app = TestApp::new().await;
    let account = app.register().await;
    ok(patch(&app, &account.id, json!({"disabled": true})).await);
    app.refresh(&account.refresh_token).await.assert_problem(403, "account_disabled");
    // A made-up token naming the user (refresh tokens carry the ids in clear): nothing told.
    let user_id = Uuid::parse_str(&account.id).unwrap();
    let sid = Uuid::parse_str(jwt_claims(&account.access_token)["sid"].as_str().unwrap()).unwrap();
    for session_id in [sid, Uuid::new_v4()] {
        let forged = bookshelf::tokens::RefreshToken::generate(user_id, session_id).unwrap().encode();
        app.refresh(&forged).await.assert_problem(401, "invalid_refresh_token");
    }
    // Enabled again, the sessions the disable ended are gone: their tokens are plainly invalid.
    ok(patch(&app, &account.id, json!({"disabled": false})).await);
    app.refresh(&account.refresh_token).await.assert_problem(401, "invalid_refresh_token");
    assert_eq!(ok(get_user(&app, &account.id).await).body["session_count"], 0);
}

#[tokio::test]
async fn a_returning_guest_read_before_a_tier_change_never_opens_a_session_with_the_old_tier() {
    let app = TestApp::new().await;
    let device = unique("device-");
    let guest = app.post("/api/v1/auth/guest", json!({"device_id": device})).await;
    let id = guest.body["user"]["id"].as_str().unwrap().to_owned();
    let user_id = Uuid::parse_str(&id).unwrap();
    let read_before = app.state.store.get_user(user_id).await.unwrap().unwrap();
    ok(patch(&app, &id, json!({"tier": "premium"})).await);
    let req = request(Method::POST, "/api/v1/auth/guest", None, None);
    let now = app.state.clock.now();
    let (session, _) = bookshelf::auth::session::open(&app.state, &read_before, &req, now).unwrap();
    let device_key = read_before.device_key.clone().unwrap();
    let expires = now.plus(std::time::Duration::from_secs(60));
    let touched = app.state.store.touch_guest(user_id, &device_key, expires, now, Some(&session)).await.unwrap();
    assert!(!touched, "the stale guest's session is refused");
    // The handler reads the guest again: the session carries the new tier.
    let back = app.post("/api/v1/auth/guest", json!({"device_id": device})).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(jwt_claims(&back.str("access_token"))["tier"], "premium");
}

#[tokio::test]
async fn a_disabled_guest_is_refused_on_its_device() {
    let app = TestApp::new().await;
    let device = unique("device-");
    let guest = app.post("/api/v1/auth/guest", json!({"device_id": device})).await;
    let id = guest.body["user"]["id"].as_str().unwrap().to_owned();
    ok(patch(&app, &id, json!({"disabled": true})).await);
    app.post("/api/v1/auth/guest", json!({"device_id": device})).await.assert_problem(403, "account_disabled");
    app.refresh(&guest.str("refresh_token")).await.assert_problem(403, "account_disabled");
}

#[tokio::test]
async fn a_disabled_account_is_answered_in_each_profiles_error_shape() {
    let app = TestApp::with_profiles("bookshelf,simplejwt,bookwish,universal-bookshelf", &[]).await;
    let account = app.register().await;
    ok(patch(&app, &account.id, json!({"disabled": true})).await);

    let simplejwt = app.post("/auth/token", json!({"username": account.username, "password": account.password})).await;
    assert_eq!(
        (simplejwt.status, simplejwt.body.clone()),
        (403, json!({"detail": "User is inactive", "code": "user_inactive"}))
    );
    let bookwish = app.post("/auth/login", json!({"email": account.email, "password": account.password})).await;
    assert_eq!((bookwish.status, bookwish.body["error"].as_str()), (403, Some("AccountDisabled")), "{}", bookwish.body);
    let universal = app.post("/api/login", json!({"email": account.email, "password": account.password})).await;
    assert_eq!((universal.status, universal.body["status"].clone()), (403, json!(false)), "{}", universal.body);
    assert_eq!(universal.body["message"], "This account is disabled.");

    // The two profiles that claim the native register and login, each in its own service.
    for profile in ["book-corners", "session-api"] {
        let app = TestApp::with_profiles(profile, &[]).await;
        let identity = bookshelf_tests::new_identity();
        let registered = app.post("/api/v1/auth/register", identity.clone()).await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        let lookup = format!("/admin/v1/users?username={}", identity["username"].as_str().unwrap());
        let id = ok(admin(&app, Method::GET, &lookup, None).await).body["users"][0]["id"].as_str().unwrap().to_owned();
        ok(patch(&app, &id, json!({"disabled": true})).await);
        let credentials =
            json!({"username": identity["username"], "email": identity["email"], "password": identity["password"]});
        let login = app.post("/api/v1/auth/login", credentials).await;
        let expected = match profile {
            "book-corners" => json!({"message": "This account is disabled.", "details": null}),
            _ => json!({"success": false, "error": "This account is disabled.", "code": "ACCOUNT_DISABLED"}),
        };
        assert_eq!((login.status, login.body), (403, expected), "{profile}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabling_while_refreshes_are_in_flight_leaves_no_token_alive() {
    let app = Arc::new(TestApp::new().await);
    let account = app.register().await;
    let refreshes: Vec<_> = (0..8)
        .map(|_| {
            let (app, token) = (Arc::clone(&app), account.refresh_token.clone());
            tokio::spawn(async move { app.refresh(&token).await })
        })
        .collect();
    ok(patch(&app, &account.id, json!({"disabled": true})).await);
    let mut replies = Vec::new();
    for refresh in refreshes {
        replies.push(refresh.await.unwrap());
    }
    for reply in replies.iter().filter(|r| r.status == 200) {
        app.me(&reply.str("access_token")).await.assert_problem(401, "invalid_token");
        let again = app.refresh(&reply.str("refresh_token")).await;
        again.assert_problem(403, "account_disabled");
    }
    for reply in replies.iter().filter(|r| r.status != 200) {
        assert!(matches!(reply.code(), "account_disabled" | "invalid_refresh_token"), "{}", reply.body);
    }
    assert_eq!(ok(get_user(&app, &account.id).await).body["session_count"], 0);
}

#[tokio::test]
async fn a_login_that_read_the_user_before_a_change_never_opens_a_session_of_the_old_user() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let user_id = Uuid::parse_str(&account.id).unwrap();
    let read_before = app.state.store.get_user(user_id).await.unwrap().unwrap();
    ok(patch(&app, &account.id, json!({"tier": "premium"})).await);
    let req = request(Method::POST, "/api/v1/auth/login", None, None);
    let now = app.state.clock.now();
    let (session, _) = bookshelf::auth::session::open(&app.state, &read_before, &req, now).unwrap();
    let outcome = app.state.store.open_login_session(&read_before, &session, None, None).await;
    assert!(matches!(outcome, Err(StoreError::Stale)), "{outcome:?}");
    // The login handler reads the user again and opens the session with the new tier.
    let login = ok(app.login(&account.username, &account.password).await);
    assert_eq!(jwt_claims(&login.str("access_token"))["tier"], "premium");
}

#[tokio::test]
async fn concurrent_changes_of_different_fields_all_land() {
    let app = TestApp::new().await;
    let account = app.register().await;
    for round in 0..3 {
        let metadata = json!({"round": round});
        let (a, b, c) = tokio::join!(
            patch(&app, &account.id, json!({"tier": if round % 2 == 0 { "premium" } else { "bookstore" }})),
            patch(&app, &account.id, json!({"role": if round % 2 == 0 { "staff" } else { "admin" }})),
            patch(&app, &account.id, json!({"app_metadata": metadata})),
        );
        let (a, b, c) = (ok(a), ok(b), ok(c));
        let shown = ok(get_user(&app, &account.id).await).body;
        assert_eq!(shown["tier"], a.body["tier"]);
        assert_eq!(shown["role"], b.body["role"]);
        assert_eq!(shown["app_metadata"], c.body["app_metadata"]);
        assert_eq!(shown["app_metadata"], metadata);
        assert_eq!(shown["tier"], if round % 2 == 0 { "premium" } else { "bookstore" });
        assert_eq!(shown["role"], if round % 2 == 0 { "staff" } else { "admin" });
    }
}

#[tokio::test]
async fn after_racing_changes_the_sessions_match_the_user_as_the_last_write_left_it() {
    let app = TestApp::new().await;
    let account = app.register().await;
    ok(app.login(&account.username, &account.password).await);
    let user_id = Uuid::parse_str(&account.id).unwrap();
    for round in 0..4 {
        // Each round starts enabled with two live sessions.
        ok(patch(&app, &account.id, json!({"disabled": false})).await);
        ok(app.login(&account.username, &account.password).await);
        ok(app.login(&account.username, &account.password).await);
        let (a, b) = tokio::join!(
            patch(&app, &account.id, json!({"tier": "premium", "disabled": round % 2 == 0})),
            patch(&app, &account.id, json!({"tier": "bookstore", "disabled": round % 2 == 1})),
        );
        ok(a);
        ok(b);
        let user = app.state.store.get_user(user_id).await.unwrap().unwrap();
        let sessions = app.state.store.sessions_of(user_id).await.unwrap();
        // A disable that landed in between ended the sessions for good, even if the last write
        // enabled the account again: what remains must match the user.
        for session in sessions {
            assert_eq!(session.ended_by_disable, user.disabled, "round {round}");
            if !user.disabled {
                assert_eq!(session.tier, user.tier, "round {round}");
            }
        }
    }
    // Tier changes alone: every live session carries the tier the user ends with.
    ok(patch(&app, &account.id, json!({"disabled": false})).await);
    ok(app.login(&account.username, &account.password).await);
    for round in 0..4 {
        let (a, b) = tokio::join!(
            patch(&app, &account.id, json!({"tier": "premium"})),
            patch(&app, &account.id, json!({"tier": "bookstore"})),
        );
        ok(a);
        ok(b);
        let user = app.state.store.get_user(user_id).await.unwrap().unwrap();
        let sessions = app.state.store.sessions_of(user_id).await.unwrap();
        assert!(!sessions.is_empty());
        assert!(sessions.iter().all(|s| s.tier == user.tier), "round {round}: {} vs sessions", user.tier);
    }
}

#[tokio::test]
async fn sessions_end_one_by_id_or_all_at_once() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let second = ok(app.login(&account.username, &account.password).await);
    let sid = jwt_claims(&second.str("access_token"))["sid"].as_str().unwrap().to_owned();
    let one = format!("/admin/v1/users/{}/sessions/{sid}", account.id);
    assert_eq!(admin(&app, Method::DELETE, &one, None).await.status, 204);
    app.assert_ended(&second.str("access_token"), &second.str("refresh_token")).await;
    ok(app.me(&account.access_token).await);
    admin(&app, Method::DELETE, &one, None).await.assert_problem(404, "not_found");
    let other_user = app.register().await;
    let foreign = format!(
        "/admin/v1/users/{}/sessions/{}",
        other_user.id,
        jwt_claims(&account.access_token)["sid"].as_str().unwrap()
    );
    admin(&app, Method::DELETE, &foreign, None).await.assert_problem(404, "not_found");

    let all = format!("/admin/v1/users/{}/sessions", account.id);
    assert_eq!(admin(&app, Method::DELETE, &all, None).await.status, 204);
    app.assert_ended(&account.access_token, &account.refresh_token).await;
    ok(app.me(&other_user.access_token).await);
    let missing = format!("/admin/v1/users/{}/sessions", Uuid::now_v7());
    admin(&app, Method::DELETE, &missing, None).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn deleting_a_user_removes_it_its_names_and_sessions_as_self_service_does() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let path = format!("/admin/v1/users/{}", account.id);
    assert_eq!(admin(&app, Method::DELETE, &path, None).await.status, 204);
    get_user(&app, &account.id).await.assert_problem(404, "not_found");
    app.assert_ended(&account.access_token, &account.refresh_token).await;
    let again = app
        .post(
            "/api/v1/auth/register",
            json!({"username": account.username, "email": account.email,
                                                         "password": account.password}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    admin(&app, Method::DELETE, &path, None).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn every_admin_action_writes_one_audit_event_naming_its_caller() {
    let logs = LogCapture::install();
    let app = TestApp::new().await;
    let account = app.register().await;
    let reply = app
        .send(signed(
            Method::PATCH,
            &format!("/admin/v1/users/{}", account.id),
            Some(json!({"tier": "premium", "disabled": true})),
        ))
        .await;
    ok(reply);
    let mut unsigned = request(Method::GET, &format!("/admin/v1/users/{}", account.id), None, None);
    unsigned.request_id = unique("unsigned-");
    let unsigned_id = unsigned.request_id.clone();
    app.send(unsigned).await.assert_problem(403, "forbidden");

    let events: Vec<Value> = logs.lines().into_iter().filter(|l| l["message"] == "admin").collect();
    let mine: Vec<&Value> = events.iter().filter(|l| l["user_id"] == account.id.as_str()).collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let fields = mine[0];
    assert_eq!(fields["caller"], BACKEND);
    assert_eq!(fields["action"], "update_user");
    assert_eq!(fields["fields"], "tier,disabled");
    assert_eq!(fields["outcome"], "success");
    let refused: Vec<&Value> = events.iter().filter(|l| l["request_id"] == unsigned_id.as_str()).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["outcome"], "forbidden");
}
