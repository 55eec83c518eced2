//! The log canary: every flow runs over HTTP through the local server with unique secret
//! values, and the captured logs (the production JSON format) must hold none of them, while
//! each auth outcome leaves exactly one structured event.

use std::collections::HashSet;
use std::net::SocketAddr;

use bookshelf::tokens::{OneTimeToken, Purpose, RefreshToken};
use bookshelf_tests::{
    http, jwt_claims, new_identity, serve_http, strong_password, unique, LogCapture, Reply, TestApp,
};
use serde_json::{json, Value};
use uuid::Uuid;

struct Client {
    addr: SocketAddr,
}

impl Client {
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("x-api-key", "test-key"), ("content-type", "application/json")];
        if let Some(value) = &bearer {
            headers.push(("authorization", value));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        http(self.addr, method, &format!("/api/v1/auth{path}"), &headers, body).await
    }

    async fn ok(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>, status: u16) -> Reply {
        let reply = self.call(method, path, token, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        reply
    }
}

/// What the logs must never contain: every secret of the run, and the stored forms of them.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: &str, value: impl Into<String>) {
        self.0.push((what.to_owned(), value.into()));
    }

    fn access(&mut self, token: &str) {
        self.add("access token", token);
        self.add("authorization header", format!("Bearer {token}"));
        self.add("access token signature", token.rsplit('.').next().unwrap());
    }

    fn refresh(&mut self, token: &str) {
        self.add("refresh token", token);
        self.add("refresh token hash", RefreshToken::decode(token).unwrap().hash());
    }

    fn tokens(&mut self, reply: &Reply) -> (String, String) {
        let (access, refresh) = (reply.str("access_token"), reply.str("refresh_token"));
        self.access(&access);
        self.refresh(&refresh);
        (access, refresh)
    }

    async fn password_hash(&mut self, app: &TestApp, user_id: &str) {
        let user = app.state.store.get_user(Uuid::parse_str(user_id).unwrap()).await.unwrap().unwrap();
        let hash = user.password_hash.unwrap();
        // The salt and digest, which identify the hash whatever prefix a log might cut.
        let tail = hash.rsplitn(3, '$').take(2).collect::<Vec<_>>().join("$");
        self.add("password hash", hash);
        self.add("password hash tail", tail);
    }
}

/// The `(event, outcome)` pairs logged for `user_id`, in order, with their request ids.
fn events_of(lines: &[Value], user_id: &str) -> Vec<(String, String, String)> {
    lines
        .iter()
        .filter(|l| l["message"] == "auth" && l["user_id"] == user_id)
        .map(|l| {
            let field = |name: &str| l[name].as_str().unwrap_or_else(|| panic!("no {name} in {l}")).to_owned();
            (field("event"), field("outcome"), field("request_id"))
        })
        .collect()
}

fn pairs(events: &[(String, String, String)]) -> Vec<(&str, &str)> {
    events.iter().map(|(e, o, _)| (e.as_str(), o.as_str())).collect()
}

/// The auth events of one request, found by the `request_id` its problem body names.
fn events_of_request<'a>(lines: &'a [Value], request_id: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["message"] == "auth" && l["request_id"] == request_id).collect()
}

#[tokio::test]
async fn no_flow_logs_a_secret_and_each_auth_outcome_logs_exactly_one_event() {
    let logs = LogCapture::install();
    let app = TestApp::new().await;
    let client = Client { addr: serve_http(&app).await };
    let mut secrets = Secrets::default();

    // Register, log in (and fail to), refresh, read, verify, edit.
    let identity = new_identity();
    let username = identity["username"].as_str().unwrap().to_owned();
    let email = identity["email"].as_str().unwrap().to_owned();
    let first_password = identity["password"].as_str().unwrap().to_owned();
    secrets.add("password", &first_password);
    let registered = client.ok("POST", "/register", None, Some(identity.clone()), 201).await;
    secrets.tokens(&registered);
    let user_id = registered.body["user"]["id"].as_str().unwrap().to_owned();
    secrets.password_hash(&app, &user_id).await;

    let login = |name: String, password: String| json!({"username": name, "password": password});
    let logged_in = client.ok("POST", "/login", None, Some(login(username.clone(), first_password.clone())), 200).await;
    let (_, refresh) = secrets.tokens(&logged_in);
    let wrong_password = strong_password();
    secrets.add("mistyped password", &wrong_password);
    let failed_login = client.call("POST", "/login", None, Some(login(username.clone(), wrong_password))).await;
    failed_login.assert_problem(401, "invalid_credentials");
    let refreshed = client.ok("POST", "/refresh", None, Some(json!({"refresh_token": refresh})), 200).await;
    let (access, _) = secrets.tokens(&refreshed);
    client.ok("GET", "/me", Some(&access), None, 200).await;
    client.ok("POST", "/verify", None, Some(json!({"token": access})), 200).await;
    let renamed = unique("canary_");
    let edit = json!({"display_name": "Canary", "username": renamed, "current_password": first_password});
    client.ok("PATCH", "/me", Some(&access), Some(edit), 200).await;
    client.ok("GET", "/sessions", Some(&access), None, 200).await;

    // Email verification, password change, forgot and reset.
    client.ok("POST", "/email/verification", Some(&access), Some(json!({})), 202).await;
    let verification = app.outbox(&email).last().unwrap().token("verify-email");
    secrets.add("verification token", &verification);
    secrets.add("verification token hash", OneTimeToken::decode(&verification, Purpose::VerifyEmail).unwrap().hash());
    client.ok("POST", "/email/verify", None, Some(json!({"token": verification})), 204).await;
    let second_password = strong_password();
    secrets.add("password", &second_password);
    let change = json!({"current_password": first_password, "new_password": second_password});
    let changed = client.ok("POST", "/password", Some(&access), Some(change), 200).await;
    secrets.tokens(&changed);
    secrets.password_hash(&app, &user_id).await;
    client.ok("POST", "/password/forgot", None, Some(json!({"email": email})), 202).await;
    let reset = app.outbox(&email).last().unwrap().token("reset-password");
    secrets.add("reset token", &reset);
    secrets.add("reset token hash", OneTimeToken::decode(&reset, Purpose::ResetPassword).unwrap().hash());
    let third_password = strong_password();
    secrets.add("password", &third_password);
    client
        .ok("POST", "/password/reset", None, Some(json!({"token": reset, "new_password": third_password})), 204)
        .await;
    secrets.password_hash(&app, &user_id).await;

    // Sessions: end one by id, one by refresh token, the current one, then delete the account.
    let mut log_in = async || {
        let reply = client.ok("POST", "/login", None, Some(login(renamed.clone(), third_password.clone())), 200).await;
        secrets.tokens(&reply)
    };
    let (first, first_refresh) = log_in().await;
    let (second, _) = log_in().await;
    let second_sid = jwt_claims(&second)["sid"].as_str().unwrap().to_owned();
    client.ok("DELETE", &format!("/sessions/{second_sid}"), Some(&first), None, 204).await;
    client.ok("POST", "/logout", Some(&first), Some(json!({"refresh_token": first_refresh})), 204).await;
    let (third, _) = log_in().await;
    client.ok("POST", "/logout", Some(&third), Some(json!({})), 204).await;
    let (last, _) = log_in().await;
    client.ok("DELETE", "/me", Some(&last), Some(json!({"password": third_password})), 204).await;
    let refused = client.call("GET", "/me", Some(&last), None).await;
    refused.assert_problem(401, "invalid_token");

    // A guest: created, back again, upgraded, every session ended.
    let device_id = format!("device-{}", Uuid::new_v4());
    secrets.add("device id", &device_id);
    let guest = client.ok("POST", "/guest", None, Some(json!({"device_id": device_id})), 201).await;
    secrets.tokens(&guest);
    let guest_id = guest.body["user"]["id"].as_str().unwrap().to_owned();
    let again = client.ok("POST", "/guest", None, Some(json!({"device_id": device_id})), 200).await;
    let (guest_access, _) = secrets.tokens(&again);
    let guest_password = strong_password();
    secrets.add("password", &guest_password);
    let upgrade = json!({"email": format!("{}@example.com", unique("guest_")), "password": guest_password});
    let upgraded = client.ok("POST", "/guest/upgrade", Some(&guest_access), Some(upgrade), 200).await;
    let (upgraded_access, _) = secrets.tokens(&upgraded);
    secrets.password_hash(&app, &guest_id).await;
    client.ok("POST", "/logout", Some(&upgraded_access), Some(json!({"all_sessions": true})), 204).await;

    let text = logs.text();
    let leaked: Vec<&str> =
        secrets.0.iter().filter(|(_, value)| text.contains(value.as_str())).map(|(what, _)| what.as_str()).collect();
    assert!(leaked.is_empty(), "the logs hold: {leaked:?}");
    assert!(!text.contains("$argon2"), "a password hash is logged");

    let lines = logs.lines();
    let user_events = events_of(&lines, &user_id);
    assert_eq!(
        pairs(&user_events),
        [
            ("register", "success"),
            ("login", "success"),
            ("refresh", "success"),
            ("verify", "active"),
            ("update_profile", "success"),
            ("email_verification", "sent"),
            ("verify_email", "success"),
            ("change_password", "success"),
            ("password_forgot", "sent"),
            ("password_reset", "success"),
            ("login", "success"),
            ("login", "success"),
            ("end_session", "success"),
            ("logout", "success"),
            ("login", "success"),
            ("logout", "success"),
            ("login", "success"),
            ("delete_account", "success"),
        ]
    );
    let guest_events = events_of(&lines, &guest_id);
    assert_eq!(
        pairs(&guest_events),
        [("guest", "created"), ("guest", "returning"), ("guest_upgrade", "success"), ("logout_all", "success")]
    );
    // One event per request, each tied to that request's own log line.
    let request_ids: Vec<&str> = user_events.iter().chain(&guest_events).map(|(_, _, id)| id.as_str()).collect();
    assert_eq!(request_ids.iter().collect::<HashSet<_>>().len(), request_ids.len(), "two events for one request");
    for id in &request_ids {
        let requests = lines.iter().filter(|l| l["message"] == "request" && l["request_id"] == *id).count();
        assert_eq!(requests, 1, "request line of {id}");
    }
    // Failures name no user, and are found by the request id their problem body carries.
    for (reply, event, outcome) in
        [(&failed_login, "login", "invalid_credentials"), (&refused, "authenticate", "invalid_token")]
    {
        let events = events_of_request(&lines, reply.body["request_id"].as_str().unwrap());
        assert_eq!(events.len(), 1, "{event}: {events:?}");
        assert_eq!((events[0]["event"].as_str(), events[0]["outcome"].as_str()), (Some(event), Some(outcome)));
        assert!(events[0].get("user_id").is_none());
    }
}
