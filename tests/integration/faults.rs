//! Faults: the database freezes (SIGSTOP) exactly when a flow sends its deciding write. The
//! answer is 503 within seconds, and once the database is back (SIGCONT) nothing is
//! half-written, no refresh token is lost and the same request succeeds.
//!
//! Each test freezes its own DynamoDB Local, never the one the other tests share.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use bookshelf::tokens::RefreshToken;
use bookshelf_local::dynamodb_local::DynamoDbLocal;
use bookshelf_tests::{new_identity, strong_password, workspace_root, Reply, TestApp};
use http::Method;
use serde_json::json;

/// Generous: the SDK's bounded timeouts and retries answer in about 4 s; a hung function
/// would take the Lambda's whole timeout.
const PROMPT: Duration = Duration::from_secs(10);

/// Freezes the database process just before the next request of one operation (whose body
/// holds a marker) is transmitted, so the fault hits that write and not an earlier read.
#[derive(Debug, Clone)]
struct FreezeOn {
    pid: u32,
    armed: Arc<Mutex<Option<(&'static str, &'static str)>>>,
}

impl FreezeOn {
    fn arm(&self, operation: &'static str, marker: &'static str) {
        *self.armed.lock().unwrap() = Some((operation, marker));
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill {signal} {}", self.pid);
    }

    fn thaw(&self) {
        self.signal("-CONT");
    }
}

impl Intercept for FreezeOn {
    fn name(&self) -> &'static str {
        "freeze-on"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let body = request.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
        let mut armed = self.armed.lock().map_err(|_| "poisoned")?;
        if let Some((operation, marker)) = *armed {
            if target.ends_with(&format!(".{operation}")) && body.contains(marker) {
                *armed = None;
                self.signal("-STOP");
            }
        }
        Ok(())
    }
}

/// A service on its own DynamoDB Local, with the freezer attached to its client.
struct Frozen {
    app: TestApp,
    freeze: FreezeOn,
    _db: DynamoDbLocal,
}

impl Frozen {
    async fn start() -> Self {
        // Started on the test's own thread: the instance dies with it, never outlives the run.
        let db = DynamoDbLocal::start(&workspace_root()).unwrap();
        let freeze = FreezeOn { pid: db.pid(), armed: Arc::default() };
        let app = TestApp::on_database(&db.endpoint, &[]).await;
        let mut state = Arc::try_unwrap(app.state).ok().unwrap();
        state.store = state.store.with_interceptor(freeze.clone());
        Frozen { app: TestApp { state: Arc::new(state) }, freeze, _db: db }
    }

    /// Sends `req` with the database frozen at its first `operation` carrying `marker`,
    /// asserts a prompt 503, then thaws the database.
    async fn fails_over(
        &self,
        operation: &'static str,
        marker: &'static str,
        req: bookshelf::web::request::ApiRequest,
    ) {
        self.freeze.arm(operation, marker);
        let started = Instant::now();
        let reply = self.app.send(req).await;
        let took = started.elapsed();
        self.freeze.thaw();
        eprintln!("{operation} frozen: answered after {took:?}");
        assert!(self.freeze.armed.lock().unwrap().is_none(), "the flow never sent {operation} with {marker}");
        reply.assert_problem(503, "service_unavailable");
        assert!(took < PROMPT, "503 took {took:?}");
    }

    /// How many user records the table holds.
    async fn profiles(&self) -> usize {
        let items = self.app.state.store.client().scan().table_name(self.app.state.store.table()).send().await.unwrap();
        items
            .items()
            .iter()
            .filter(|item| item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == "PROFILE"))
            .count()
    }

    /// Every rule that makes the data whole: each claim has its user, each user its claims,
    /// each session its user.
    async fn assert_nothing_half_written(&self) {
        let items = self.app.state.store.client().scan().table_name(self.app.state.store.table()).send().await.unwrap();
        let text = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
        };
        let keys: HashSet<(String, String)> =
            items.items().iter().map(|item| (text(item, "pk"), text(item, "sk"))).collect();
        let mut broken = Vec::new();
        for item in items.items() {
            let (pk, sk) = (text(item, "pk"), text(item, "sk"));
            let has_user = |id: &str| keys.contains(&(format!("USER#{id}"), "PROFILE".to_owned()));
            if sk == "CLAIM" && !has_user(&text(item, "user_id")) {
                broken.push(format!("claim {pk} without its user"));
            }
            if sk.starts_with("SESSION#") && !keys.contains(&(pk.clone(), "PROFILE".to_owned())) {
                broken.push(format!("session {sk} without its user"));
            }
            if sk == "PROFILE" {
                for (attribute, prefix) in [("username_key", "USERNAME#"), ("email_key", "EMAIL#")] {
                    let key = text(item, attribute);
                    if !key.is_empty() && !keys.contains(&(format!("{prefix}{key}"), "CLAIM".to_owned())) {
                        broken.push(format!("user {pk} without its {prefix} claim"));
                    }
                }
            }
        }
        assert!(broken.is_empty(), "{broken:?}");
    }
}

fn post(path: &str, token: Option<&str>, body: serde_json::Value) -> bookshelf::web::request::ApiRequest {
    bookshelf_tests::request(Method::POST, path, token, Some(body))
}

#[tokio::test]
#[ignore = "slow (own DynamoDB Local, seconds of timeouts): make audit runs it"]
async fn register_meeting_a_frozen_database_is_a_prompt_503_and_leaves_the_account_whole_or_absent() {
    let frozen = Frozen::start().await;
    let body = new_identity();
    frozen.fails_over("TransactWriteItems", "USERNAME#", post("/api/v1/auth/register", None, body.clone())).await;
    frozen.assert_nothing_half_written().await;

    // The frozen transaction may still land when the database thaws (it had been sent): then
    // the retry finds the name taken and the account is whole; otherwise the retry creates it.
    let again = frozen.app.post("/api/v1/auth/register", body.clone()).await;
    match again.status {
        201 => {}
        409 => assert_eq!(again.code(), "username_taken", "{}", again.body),
        _ => panic!("retry: {} {}", again.status, again.body),
    }
    let username = body["username"].as_str().unwrap();
    assert_eq!(frozen.app.login(username, body["password"].as_str().unwrap()).await.status, 200);
    assert_eq!(frozen.profiles().await, 1, "exactly one account");
    frozen.assert_nothing_half_written().await;
}

#[tokio::test]
#[ignore = "slow (own DynamoDB Local, seconds of timeouts): make audit runs it"]
async fn login_meeting_a_frozen_database_is_a_prompt_503_and_the_same_login_then_succeeds() {
    let frozen = Frozen::start().await;
    let account = frozen.app.register().await;
    let body = json!({"username": account.username, "password": account.password});
    frozen.fails_over("TransactWriteItems", "SESSION#", post("/api/v1/auth/login", None, body)).await;
    frozen.assert_nothing_half_written().await;

    let again = frozen.app.login(&account.username, &account.password).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(frozen.app.me(&again.str("access_token")).await.status, 200);
    assert_eq!(frozen.app.me(&account.access_token).await.status, 200, "the earlier session survived");
}

#[tokio::test]
#[ignore = "slow (own DynamoDB Local, seconds of timeouts): make audit runs it"]
async fn refresh_meeting_a_frozen_database_is_a_prompt_503_and_loses_no_refresh_token() {
    let frozen = Frozen::start().await;
    let account = frozen.app.register().await;
    let body = json!({"refresh_token": account.refresh_token});
    frozen.fails_over("UpdateItem", "SESSION#", post("/api/v1/auth/refresh", None, body)).await;

    // Whether or not the frozen rotation landed late, the retry gets the one successor of
    // the presented token, and that successor keeps the session going.
    let again = frozen.app.refresh(&account.refresh_token).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let successor = frozen.app.state.tokens.successor(&RefreshToken::decode(&account.refresh_token).unwrap());
    assert_eq!(again.str("refresh_token"), successor.encode());
    assert_eq!(frozen.app.refresh(&again.str("refresh_token")).await.status, 200);
    frozen.assert_nothing_half_written().await;
}

#[tokio::test]
#[ignore = "slow (own DynamoDB Local, seconds of timeouts): make audit runs it"]
async fn password_change_meeting_a_frozen_database_is_a_prompt_503_and_happens_at_most_once_and_whole() {
    let frozen = Frozen::start().await;
    let account = frozen.app.register().await;
    let new_password = strong_password();
    let body = json!({"current_password": account.password, "new_password": new_password});
    let change = || post("/api/v1/auth/password", Some(&account.access_token), body.clone());
    frozen.fails_over("TransactWriteItems", "SESSION#", change()).await;
    frozen.assert_nothing_half_written().await;

    // Either the frozen change landed when the database thawed (then it ended the caller's
    // session, so the retry is 401) or it did not (then the retry makes it). Both ways the
    // new password is now the one, whole: the old one no longer logs in.
    let again: Reply = frozen.app.send(change()).await;
    match again.status {
        200 => {}
        401 => assert_eq!(again.code(), "invalid_token", "{}", again.body),
        _ => panic!("retry: {} {}", again.status, again.body),
    }
    assert_eq!(frozen.app.login(&account.username, &new_password).await.status, 200);
    frozen.app.login(&account.username, &account.password).await.assert_problem(401, "invalid_credentials");
    frozen.assert_nothing_half_written().await;
}
