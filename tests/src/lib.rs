//! The integration-test harness. One DynamoDB Local per test binary (or `DYNAMODB_ENDPOINT`),
//! a fresh table per test so tests never depend on order, and requests that go through the
//! same route table and handlers as production.

#![allow(clippy::unwrap_used)] // test support: a failed unwrap is a failed test

pub mod oidc;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bookshelf::config::Config;
use bookshelf::edge::dispatch;
use bookshelf::routes::{self, Resolution};
use bookshelf::state::AppState;
use bookshelf::web::request::ApiRequest;
use bookshelf_local::dynamodb_local::DynamoDbLocal;
use http::{header, Method};
use serde_json::{json, Value};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The DynamoDB endpoint every test of this process shares.
pub fn dynamodb_endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
                return endpoint;
            }
            // DynamoDB Local dies with the thread that started it, so start it from a thread
            // that lives as long as the test process (test threads come and go).
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || match DynamoDbLocal::start(&workspace_root()) {
                Ok(db) => {
                    tx.send(Ok(db.endpoint.clone())).unwrap();
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => tx.send(Err(e.to_string())).unwrap(),
            });
            rx.recv().unwrap().unwrap_or_else(|e| panic!("{e}"))
        })
        .clone()
}

/// The signing-key document every test service of this process uses (attack tests forge
/// tokens with it to prove what a valid signature alone does not buy).
pub fn key_document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| bookshelf::signing_keys::generate_document().unwrap()).clone()
}

/// One test's service: its own table, its own clock, the shared database.
pub struct TestApp {
    pub state: Arc<AppState>,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// A service configured like production plus `overrides` (config variable → value).
    pub async fn with_env(overrides: &[(&str, &str)]) -> Self {
        Self::on_database(&dynamodb_endpoint(), overrides).await
    }

    /// Like [`TestApp::with_env`], on the DynamoDB at `endpoint` (a dedicated instance, for
    /// tests that stop it); the table is created there unless an override points elsewhere.
    pub async fn on_database(endpoint: &str, overrides: &[(&str, &str)]) -> Self {
        let table = format!("test-{}", uuid::Uuid::new_v4().simple());
        let endpoint = endpoint.to_owned();
        let config = Config::from_lookup(|name| {
            if let Some((_, value)) = overrides.iter().find(|(k, _)| *k == name) {
                return Some((*value).to_owned());
            }
            match name {
                "TABLE_NAME" => Some(table.clone()),
                "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
                "JWT_KEYS" => Some(key_document()),
                "MAIL_OUTBOX_DIR" => Some(std::env::temp_dir().join(&table).display().to_string()),
                // Failed logins would each wait a second; `login.rs` tests the floor itself.
                "LOGIN_FAILURE_FLOOR_MS" => Some("0".to_owned()),
                _ => None,
            }
        })
        .unwrap();
        let table_name = config.table_name.clone();
        let state = AppState::from_config(config).await.unwrap();
        let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
        let schema = bookshelf_local::tables::auth_table(&template).unwrap();
        if state.config.dynamodb_endpoint.as_deref() == Some(endpoint.as_str()) {
            bookshelf_local::tables::create(state.store.client(), &table_name, &schema).await.unwrap();
        }
        TestApp { state: Arc::new(state) }
    }

    /// Sends a request through the route table and the handlers, as the local server does.
    pub async fn send(&self, mut req: ApiRequest) -> Reply {
        let route = match routes::resolve(&req.method, &req.path, self.state.config.profiles) {
            Resolution::Found(spec, params) => {
                req.path_params = params;
                spec.route
            }
            _ => routes::Route::Fallback,
        };
        Reply::from(dispatch::respond(Arc::clone(&self.state), route, req).await)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.send(request(method, path, token, body)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn register(&self) -> Account {
        self.register_with(json!({})).await
    }

    /// Registers a fresh user; `extra` overrides the generated fields.
    pub async fn register_with(&self, extra: Value) -> Account {
        let mut body = new_identity();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = self.post("/api/v1/auth/register", body.clone()).await;
        assert_eq!(reply.status, 201, "register: {}", reply.body);
        Account::from_reply(&reply, &body)
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.post("/api/v1/auth/login", json!({"username": username, "password": password})).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post("/api/v1/auth/refresh", json!({"refresh_token": refresh_token})).await
    }

    pub async fn me(&self, access_token: &str) -> Reply {
        self.call(Method::GET, "/api/v1/auth/me", Some(access_token), None).await
    }

    /// Asserts a session is over: its access token is refused and its refresh token too.
    pub async fn assert_ended(&self, access_token: &str, refresh_token: &str) {
        self.me(access_token).await.assert_problem(401, "invalid_token");
        self.refresh(refresh_token).await.assert_problem(401, "invalid_refresh_token");
    }
}

pub fn request(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> ApiRequest {
    ApiRequest::in_process(method, path, "bookshelf-integration-tests", token, body.as_ref())
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

pub fn strong_password() -> String {
    format!("Vx9#{}!Qm", &uuid::Uuid::new_v4().simple().to_string()[..14])
}

pub fn new_identity() -> Value {
    let username = unique("reader_");
    json!({"username": username, "email": format!("{username}@example.com"), "password": strong_password()})
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl From<bookshelf::web::response::ApiResponse> for Reply {
    fn from(r: bookshelf::web::response::ApiResponse) -> Self {
        let body = if r.body.is_empty() { Value::Null } else { serde_json::from_slice(&r.body).unwrap() };
        Reply { status: r.status.as_u16(), headers: r.headers, body }
    }
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts an RFC 9457 problem with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        assert_eq!(self.headers[header::CONTENT_TYPE], "application/problem+json");
        assert!(self.body["request_id"].as_str().is_some_and(|r| !r.is_empty()));
        &self.body
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field].as_str().unwrap_or_else(|| panic!("{field} missing in {}", self.body)).to_owned()
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Account {
    pub fn from_reply(reply: &Reply, body: &Value) -> Self {
        Account {
            id: reply.body["user"]["id"].as_str().unwrap().to_owned(),
            username: body["username"].as_str().unwrap_or_default().to_owned(),
            email: body["email"].as_str().unwrap_or_default().to_owned(),
            password: body["password"].as_str().unwrap_or_default().to_owned(),
            access_token: reply.str("access_token"),
            refresh_token: reply.str("refresh_token"),
        }
    }
}

/// The claims of a JWT, read without verifying it (tests only).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Serves `app` on a free loopback port through the real local server, API key `test-key`.
pub async fn serve_http(app: &TestApp) -> std::net::SocketAddr {
    serve_http_with_plan(app, bookshelf_local::server::USAGE_PLAN_RATE, bookshelf_local::server::USAGE_PLAN_BURST).await
}

/// Like [`serve_http`], with this usage-plan throttle.
pub async fn serve_http_with_plan(app: &TestApp, rate: u32, burst: u32) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = Arc::new(bookshelf_local::server::LocalApi::new(Arc::clone(&app.state), "test-key".into(), rate, burst));
    tokio::spawn(api.serve(listener, std::future::pending()));
    addr
}

/// Serves `app` on a listener bound already (a test that must know the address first, e.g. to
/// configure the issuer URL the server will answer under).
pub fn serve_http_on(app: &TestApp, listener: tokio::net::TcpListener) {
    let api = Arc::new(bookshelf_local::server::LocalApi::new(
        Arc::clone(&app.state),
        "test-key".into(),
        bookshelf_local::server::USAGE_PLAN_RATE,
        bookshelf_local::server::USAGE_PLAN_BURST,
    ));
    tokio::spawn(api.serve(listener, std::future::pending()));
}

/// One HTTP/1.1 request to a server started by [`serve_http`].
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let mut builder = hyper::Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = client.request(builder.body(http_body_util::Full::from(body)).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    Reply { status, headers, body }
}

/// One message of a test service's outbox.
#[derive(Debug, Clone)]
pub struct Mailed {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub sent_at: String,
}

impl Mailed {
    /// The token of the first link to `page` (`verify-email` or `reset-password`).
    pub fn token(&self, page: &str) -> String {
        let marker = format!("/{page}?token=");
        let start = self.text.find(&marker).unwrap_or_else(|| panic!("no {page} link in {}", self.text)) + marker.len();
        self.text[start..].split(|c: char| c.is_whitespace()).next().unwrap().to_owned()
    }
}

impl TestApp {
    /// Asks for a verification mail for `account` (202) and returns the token it carries.
    pub async fn verification_token(&self, account: &Account) -> String {
        let reply = self
            .call(Method::POST, "/api/v1/auth/email/verification", Some(&account.access_token), Some(json!({})))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        self.outbox(&account.email).last().unwrap().token("verify-email")
    }

    /// Asks for a reset mail for `account` (202) and returns the token it carries.
    pub async fn reset_token(&self, account: &Account) -> String {
        let reply = self.post("/api/v1/auth/password/forgot", json!({"email": account.email})).await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        self.outbox(&account.email).last().unwrap().token("reset-password")
    }

    /// Every message the service wrote to its outbox for `to`, oldest first.
    pub fn outbox(&self, to: &str) -> Vec<Mailed> {
        let dir = &self.state.config.mail_outbox_dir;
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => {
                entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
            }
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths
            .into_iter()
            .map(|path| serde_json::from_slice::<Value>(&std::fs::read(path).unwrap()).unwrap())
            .filter(|m| m["to"] == to)
            .map(|m| Mailed {
                to: m["to"].as_str().unwrap().to_owned(),
                subject: m["subject"].as_str().unwrap().to_owned(),
                text: m["text"].as_str().unwrap().to_owned(),
                sent_at: m["sent_at"].as_str().unwrap().to_owned(),
            })
            .collect()
    }
}

/// Every log line this process writes, in the production JSON format (installed on first use;
/// it then also holds the lines of tests running beside the one that asked).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// The process's capture, installed as the global subscriber by the first caller.
    pub fn install() -> LogCapture {
        static CAPTURE: OnceLock<LogCapture> = OnceLock::new();
        CAPTURE
            .get_or_init(|| {
                let capture = LogCapture::default();
                let writer = capture.clone();
                bookshelf::logging::init_with_writer(move || writer.clone());
                capture
            })
            .clone()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Each line parsed as the JSON object it must be.
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}")))
            .collect()
    }
}

/// The client-profile side of the harness: apps that serve profiles, requests in a profile's
/// own shapes (form bodies, raw bytes, one client address), and the two account attributes a
/// test sets behind the service's back (an imported user's `legacy_id`, a tier the back office
/// changed).
impl TestApp {
    /// A service serving `profiles` (an `API_PROFILES` value) plus `overrides`.
    pub async fn with_profiles(profiles: &str, overrides: &[(&str, &str)]) -> Self {
        let mut env = vec![("API_PROFILES", profiles)];
        env.extend_from_slice(overrides);
        Self::with_env(&env).await
    }

    /// Sets one attribute of a user record directly in the database.
    pub async fn set_user_attribute(&self, user_id: &str, name: &str, value: &str) {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.state
            .store
            .client()
            .update_item()
            .table_name(self.state.store.table())
            .key("pk", AttributeValue::S(format!("USER#{user_id}")))
            .key("sk", AttributeValue::S("PROFILE".to_owned()))
            .update_expression("SET #a = :v")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#a", name)
            .expression_attribute_values(":v", AttributeValue::S(value.to_owned()))
            .send()
            .await
            .unwrap();
    }
}

/// A request with a raw body of `content_type` (none: no header), from the in-process address.
pub fn raw_request(method: Method, path: &str, content_type: Option<&str>, body: &[u8]) -> ApiRequest {
    let mut req = request(method, path, None, None);
    if let Some(ct) = content_type {
        req.headers.insert(header::CONTENT_TYPE, http::HeaderValue::from_str(ct).unwrap());
    }
    req.body = body.to_vec();
    req
}

/// `req` as sent from `ip` (per-IP limits count it there).
pub fn from_ip(mut req: ApiRequest, ip: &str) -> ApiRequest {
    req.source_ip = Some(ip.to_owned());
    req
}

/// `req` with this `Authorization` header value.
pub fn with_authorization(mut req: ApiRequest, value: &str) -> ApiRequest {
    req.headers.insert(header::AUTHORIZATION, http::HeaderValue::from_str(value).unwrap());
    req
}
