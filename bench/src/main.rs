//! `make bench`: measures what `../shared/design.md` holds us to, on this machine.
//!
//! - cold start of every function's real release binary under a local Runtime API emulator
//!   (process start → first poll, and → first response), median of 10 starts;
//! - binary size (stripped x86_64 from `target/release`, arm64 from `target/lambda` when
//!   `cargo lambda build --arm64` has produced it);
//! - warm handler time per route in process against DynamoDB Local, split into time inside
//!   the database calls (measured by an SDK interceptor, which also counts round trips) and
//!   outside them, p50/p99 over 1,000 calls, on a current-thread runtime as the functions run;
//!   and the bare argon2 verify for comparison;
//! - peak RSS of each function after 20 warm invocations;
//! - load on the release local server over loopback at fixed concurrency;
//! - the Lambda-like cold start (`lambda_like.rs`): each function under the CPU share of its
//!   `MemorySize`, over TLS to DynamoDB and a Secrets Manager endpoint (`BENCH_SKIP=lambda`).
//!
//! Prints one table, writes `bench/results.json` and `bench/chart.svg`, and refreshes the
//! README's table between its `bench:start`/`bench:end` markers.

#![allow(clippy::unwrap_used)] // a measuring tool: a failed unwrap is a failed run, said loudly

mod lambda_like;
mod probe;
mod runtime_api;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bookshelf::config::Config;
use bookshelf::edge::dispatch;
use bookshelf::profile::Profile;
use bookshelf::routes::{self, Route, ROUTES};
use bookshelf::state::AppState;
use bookshelf::web::request::ApiRequest;
use http::Method;
use serde::Serialize;
use serde_json::{json, Value};

const COLD_STARTS: usize = 10;
const WARM_CALLS: usize = 1_000;
const RSS_INVOCATIONS: usize = 20;
const LOAD_CONCURRENCY: usize = 16;
const LOAD_SECONDS: u64 = 5;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

fn password() -> String {
    format!("Vx9#{}!Qm", &uuid::Uuid::new_v4().simple().to_string()[..14])
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Everything one run needs: DynamoDB Local, a table, keys and the service configuration.
struct Env {
    endpoint: String,
    /// DynamoDB Local's process when the bench started it.
    database_pid: Option<u32>,
    table: String,
    keys: String,
    outbox: PathBuf,
}

impl Env {
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TABLE_NAME", self.table.clone()),
            ("DYNAMODB_ENDPOINT", self.endpoint.clone()),
            ("JWT_KEYS", self.keys.clone()),
            ("MAIL_SENDER", "outbox".into()),
            ("MAIL_OUTBOX_DIR", self.outbox.display().to_string()),
            ("APP_BASE_URL", "https://books.example.com".into()),
            ("RUST_LOG", "warn".into()),
        ]
    }

    async fn state(&self) -> AppState {
        let vars = self.vars();
        let config = Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).unwrap();
        AppState::from_config(config).await.unwrap()
    }
}

/// A freshly registered account and its first tokens.
#[derive(Clone)]
struct Account {
    username: String,
    email: String,
    password: String,
    access: String,
    refresh: String,
    sid: String,
}

fn request(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> ApiRequest {
    ApiRequest::in_process(method, path, "bookshelf-bench", token, body.as_ref())
}

async fn call(state: &Arc<AppState>, req: ApiRequest) -> (u16, Value) {
    let mut req = req;
    let route = match routes::resolve(&req.method, &req.path, state.config.profiles) {
        routes::Resolution::Found(spec, params) => {
            req.path_params = params;
            spec.route
        }
        _ => Route::Fallback,
    };
    let response = dispatch::respond(Arc::clone(state), route, req).await;
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status.as_u16(), body)
}

async fn register(state: &Arc<AppState>) -> Account {
    let username = unique("bench_");
    let email = format!("{username}@example.com");
    let password = password();
    let body = json!({"username": username, "email": email, "password": password});
    let (status, reply) = call(state, request(Method::POST, "/api/v1/auth/register", None, Some(body))).await;
    assert_eq!(status, 201, "{reply}");
    let access = reply["access_token"].as_str().unwrap().to_owned();
    let sid = claims(&access)["sid"].as_str().unwrap().to_owned();
    Account { username, email, password, access, refresh: reply["refresh_token"].as_str().unwrap().to_owned(), sid }
}

/// The claims segment of a JWT as JSON (the bench only reads its own tokens).
fn claims(token: &str) -> Value {
    use base64::Engine;
    let segment = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

// ---------------------------------------------------------------- warm, in process

#[derive(Debug, Clone, Serialize)]
struct Warm {
    route: String,
    calls: usize,
    /// DynamoDB calls per request.
    db_calls: f64,
    /// Round trips the request waits for one after another (overlapping calls count once).
    round_trips: f64,
    total_p50_ms: f64,
    total_p99_ms: f64,
    outside_db_p50_ms: f64,
    outside_db_p99_ms: f64,
    db_p50_ms: f64,
    /// CPU time of this process per request (all threads: handler, SDK, HTTP client), which
    /// excludes the database's own work — the cost the targets speak of.
    cpu_p50_ms: f64,
    cpu_p99_ms: f64,
    /// The same CPU split into user space (handler, SDK, HTTP client) and the kernel (mostly
    /// the loopback TCP of the database call), means over the calls.
    cpu_user_mean_ms: f64,
    cpu_system_mean_ms: f64,
}

/// User and system CPU time used so far by every thread of this process. The kernel divides
/// the exact total between the two by tick samples, so only sums over many calls are sharp.
#[allow(unsafe_code)]
fn process_user_system() -> (Duration, Duration) {
    // SAFETY: an all-zero rusage is a valid value, and getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage and RUSAGE_SELF a constant Linux knows.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_SELF)");
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    (time(usage.ru_utime), time(usage.ru_stime))
}

/// CPU time used so far by every thread of this process.
#[allow(unsafe_code)]
fn process_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

async fn measure<F, Fut>(name: &str, calls: usize, probe: &probe::Probe, mut one: F) -> Warm
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    // BENCH_ROUTES="GET /me,POST /refresh" times only those (e.g. under a profiler).
    let wanted = std::env::var("BENCH_ROUTES").map_or(true, |routes| routes.split(',').any(|r| r.trim() == name));
    let calls = match std::env::var("BENCH_CALLS").ok().and_then(|n| n.parse().ok()) {
        _ if !wanted => 0,
        Some(n) => n,
        None => calls,
    };
    let (mut total, mut outside, mut inside, mut cpu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut db_calls, mut sequential) = (0u64, 0u64);
    let (user_before, system_before) = process_user_system();
    for i in 0..calls {
        probe.take();
        let (started, cpu_before) = (Instant::now(), process_cpu());
        let status = one(i).await;
        let (elapsed, cpu_used) = (started.elapsed(), process_cpu().saturating_sub(cpu_before));
        assert!(status < 500, "{name}: {status}");
        let trips = probe.take();
        db_calls += trips.calls;
        sequential += trips.sequential;
        total.push(ms(elapsed));
        inside.push(ms(trips.inside));
        outside.push(ms(elapsed.saturating_sub(trips.inside)));
        cpu.push(ms(cpu_used));
    }
    let (user_after, system_after) = process_user_system();
    let mean = |used: Duration| ms(used) / calls.max(1) as f64;
    for v in [&mut total, &mut outside, &mut inside, &mut cpu] {
        v.sort_by(|a, b| a.total_cmp(b));
    }
    Warm {
        route: name.to_owned(),
        calls,
        db_calls: db_calls as f64 / calls.max(1) as f64,
        round_trips: sequential as f64 / calls.max(1) as f64,
        cpu_p50_ms: percentile(&cpu, 50.0),
        cpu_p99_ms: percentile(&cpu, 99.0),
        cpu_user_mean_ms: mean(user_after.saturating_sub(user_before)),
        cpu_system_mean_ms: mean(system_after.saturating_sub(system_before)),
        total_p50_ms: percentile(&total, 50.0),
        total_p99_ms: percentile(&total, 99.0),
        outside_db_p50_ms: percentile(&outside, 50.0),
        outside_db_p99_ms: percentile(&outside, 99.0),
        db_p50_ms: percentile(&inside, 50.0),
    }
}

async fn warm(env: &Env) -> (Vec<Warm>, Anchors) {
    let probe = probe::Probe::default();
    let mut state = env.state().await;
    state.store = state.store.with_interceptor(probe.clone());
    let state = Arc::new(state);
    let account = register(&state).await;
    let mut results = Vec::new();

    results.push(
        measure("POST /register", WARM_CALLS, &probe, |_| {
            let state = Arc::clone(&state);
            async move {
                let name = unique("bench_");
                let body = json!({"username": name, "email": format!("{name}@example.com"), "password": password()});
                call(&state, request(Method::POST, "/api/v1/auth/register", None, Some(body))).await.0
            }
        })
        .await,
    );
    results.push(
        measure("POST /login", WARM_CALLS, &probe, |_| {
            let (state, a) = (Arc::clone(&state), account.clone());
            async move {
                let body = json!({"username": a.username, "password": a.password});
                call(&state, request(Method::POST, "/api/v1/auth/login", None, Some(body))).await.0
            }
        })
        .await,
    );
    let chain = Arc::new(std::sync::Mutex::new(account.refresh.clone()));
    results.push(
        measure("POST /refresh", WARM_CALLS, &probe, |_| {
            let (state, chain) = (Arc::clone(&state), Arc::clone(&chain));
            async move {
                let token = chain.lock().unwrap().clone();
                let (status, body) = call(
                    &state,
                    request(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": token}))),
                )
                .await;
                *chain.lock().unwrap() = body["refresh_token"].as_str().unwrap().to_owned();
                status
            }
        })
        .await,
    );
    // A fresh account with one session: the login loop above left the first with 1,000.
    let access = register(&state).await.access;
    for (name, method, path, body) in [
        ("GET /me", Method::GET, "/api/v1/auth/me", None),
        ("POST /verify", Method::POST, "/api/v1/auth/verify", Some(json!({"token": access}))),
        ("GET /sessions", Method::GET, "/api/v1/auth/sessions", None),
        ("PATCH /me", Method::PATCH, "/api/v1/auth/me", Some(json!({"display_name": "Bench Reader"}))),
        ("GET /.well-known/jwks.json", Method::GET, "/.well-known/jwks.json", None),
    ] {
        let token = if path.contains("verify") || path.contains("jwks") { None } else { Some(access.clone()) };
        results.push(
            measure(name, WARM_CALLS, &probe, |_| {
                let (state, token, body, method) = (Arc::clone(&state), token.clone(), body.clone(), method.clone());
                async move { call(&state, request(method, path, token.as_deref(), body)).await.0 }
            })
            .await,
        );
    }
    let device = unique("bench-device-");
    results.push(
        measure("POST /guest (returning)", WARM_CALLS, &probe, |_| {
            let (state, device) = (Arc::clone(&state), device.clone());
            async move {
                call(&state, request(Method::POST, "/api/v1/auth/guest", None, Some(json!({"device_id": device}))))
                    .await
                    .0
            }
        })
        .await,
    );
    // The Lambda authorizer of an app's API, as API Gateway calls it (`events/authorizer.json`).
    let text = std::fs::read_to_string(root().join("events/authorizer.json")).unwrap();
    let authorizer_event: lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_str(&text.replace("REPLACE_WITH_ACCESS_TOKEN", &access)).unwrap();
    results.push(
        measure("authorizer (GET /app/whoami)", WARM_CALLS, &probe, |_| {
            let (state, event) = (Arc::clone(&state), authorizer_event.clone());
            async move {
                match bookshelf::edge::authorizer::authorize(&state, &event).await {
                    Ok(decision) if decision.allows() => 200,
                    Ok(_) => 403,
                    Err(_) => 401,
                }
            }
        })
        .await,
    );
    results.push(
        measure("POST /logout", WARM_CALLS, &probe, |_| {
            let (state, token) = (Arc::clone(&state), access.clone());
            async move { call(&state, request(Method::POST, "/api/v1/auth/logout", Some(&token), None)).await.0 }
        })
        .await,
    );

    // The bare argon2id verify both login and register pay for.
    let stored = bookshelf::password::hash(&bookshelf::domain::Password::parse(password()).unwrap()).await.unwrap();
    let (mut argon, mut argon_cpu) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        let (started, cpu) = (Instant::now(), process_cpu());
        bookshelf::password::verify("wrong-password-123", Some(&stored)).await.unwrap();
        argon.push(ms(started.elapsed()));
        argon_cpu.push(ms(process_cpu().saturating_sub(cpu)));
    }
    argon.sort_by(|a, b| a.total_cmp(b));
    argon_cpu.sort_by(|a, b| a.total_cmp(b));

    // The bare ES256 sign and verify every token route pays for (CPU per operation).
    let now = state.clock.now_secs();
    let subject = bookshelf::tokens::Subject {
        user_id: uuid::Uuid::new_v4(),
        session_id: uuid::Uuid::new_v4(),
        role: "reader",
        tier: "free",
        guest: false,
        ttl: state.config.access_ttl,
        jti: None,
        extra_claims: bookshelf::profile::ExtraClaims::None,
        legacy_id: None,
    };
    let per_op = |f: &dyn Fn()| {
        let before = process_cpu();
        for _ in 0..2_000 {
            f();
        }
        ms(process_cpu().saturating_sub(before)) / 2_000.0
    };
    let sign_ms = per_op(&|| drop(state.tokens.issue_access(&subject, now).unwrap()));
    let verify_ms = per_op(&|| drop(state.tokens.verify_access(&access, now).unwrap()));
    let anchors = Anchors {
        argon2_verify_p50_ms: percentile(&argon, 50.0),
        argon2_verify_cpu_p50_ms: percentile(&argon_cpu, 50.0),
        jwt_sign_ms: sign_ms,
        jwt_verify_ms: verify_ms,
    };
    (results, anchors)
}

/// What the routes are built from, measured bare for comparison.
#[derive(Debug, Clone, Copy, Serialize)]
struct Anchors {
    argon2_verify_p50_ms: f64,
    /// Process CPU per verify: what login's CPU column compares with.
    argon2_verify_cpu_p50_ms: f64,
    /// CPU per access token signed / verified with the service's own key (ES256 by default).
    jwt_sign_ms: f64,
    jwt_verify_ms: f64,
}

// ---------------------------------------------------------------- cold starts

#[derive(Debug, Clone, Serialize)]
struct Cold {
    function: String,
    init_ms: f64,
    first_response_ms: f64,
    status: u16,
    peak_rss_mb: f64,
    size_x86_mb: f64,
    size_arm64_mb: Option<f64>,
}

fn event(
    method: &str,
    path: &str,
    resource: &str,
    token: Option<&str>,
    body: Option<&Value>,
    params: Option<Value>,
) -> Vec<u8> {
    let base: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("events/get-me.json")).unwrap()).unwrap();
    let mut e = base;
    e["httpMethod"] = json!(method);
    e["path"] = json!(path);
    e["resource"] = json!(resource);
    e["requestContext"]["httpMethod"] = json!(method);
    e["requestContext"]["resourcePath"] = json!(resource);
    e["requestContext"]["path"] = json!(format!("/v1{path}"));
    e["pathParameters"] = params.unwrap_or(Value::Null);
    // Each start from its own address, so the per-IP limits never turn a run into a 429.
    let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
    e["requestContext"]["identity"]["sourceIp"] = json!(format!("10.{a}.{b}.{c}"));
    let auth = token.map(|t| format!("Bearer {t}"));
    for (key, value) in [("Authorization", auth)] {
        match value {
            Some(v) => {
                e["headers"][key] = json!(v);
                e["multiValueHeaders"][key] = json!([v]);
            }
            None => {
                e["headers"].as_object_mut().unwrap().remove(key);
                e["multiValueHeaders"].as_object_mut().unwrap().remove(key);
            }
        }
    }
    e["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    serde_json::to_vec(&e).unwrap()
}

/// The event a function's cold start is measured with, and the account it acts on.
async fn scenario(state: &Arc<AppState>, function: &str) -> Vec<u8> {
    let a = register(state).await;
    // The two functions of an app's own API take their own events.
    let fixture = |name: &str| std::fs::read_to_string(root().join("events").join(name)).unwrap();
    match function {
        "authorizer" => return fixture("authorizer.json").replace("REPLACE_WITH_ACCESS_TOKEN", &a.access).into_bytes(),
        "example-app" => return fixture("example-app.json").into_bytes(),
        _ => {}
    }
    let t = Some(a.access.as_str());
    let spec = ROUTES.iter().find(|r| r.function == function);
    let (method, path) = spec.map_or(("GET", "/api/v1/auth/login"), |s| (s.method, s.path));
    let body = match function {
        "register" => Some(json!({"username": unique("cold_"), "password": password()})),
        "login" => Some(json!({"username": a.username, "password": a.password})),
        "refresh" => Some(json!({"refresh_token": a.refresh})),
        "verify" => Some(json!({"token": a.access})),
        "update-me" => Some(json!({"display_name": "Cold Reader"})),
        "delete-me" => Some(json!({"password": a.password})),
        "change-password" => Some(json!({"current_password": a.password, "new_password": password()})),
        "guest" => Some(json!({"device_id": unique("cold-device-")})),
        "guest-upgrade" => Some(json!({"email": format!("{}@example.com", unique("up_")), "password": password()})),
        "forgot-password" => Some(json!({"email": a.email})),
        "verify-email" | "reset-password" => {
            Some(json!({"token": "bench-token-that-was-never-mailed", "new_password": password()}))
        }
        "logout" | "request-verification" => Some(json!({})),
        _ => None,
    };
    let token = match function {
        "guest-upgrade" => {
            let (_, g) = call(
                state,
                request(Method::POST, "/api/v1/auth/guest", None, Some(json!({"device_id": unique("d-")}))),
            )
            .await;
            Some(g["access_token"].as_str().unwrap().to_owned())
        }
        "register" | "login" | "refresh" | "verify" | "guest" | "forgot-password" | "verify-email"
        | "reset-password" | "jwks" | "fallback" => None,
        _ => t.map(str::to_owned),
    };
    let (concrete, params) = match function {
        "delete-session" => (format!("/api/v1/auth/sessions/{}", a.sid), Some(json!({"id": a.sid}))),
        _ => (path.to_owned(), None),
    };
    event(method, &concrete, path, token.as_deref(), body.as_ref(), params)
}

/// CPU time (user + system, ms) a process has used so far, from `/proc/<pid>/stat`.
fn cpu_ms(pid: u32) -> f64 {
    // utime and stime: fields 14 and 15 of the line.
    stat_ms(pid, [14, 15])
}

/// The sum, in ms, of clock-tick fields (numbered from 1, as in proc(5)) of `/proc/<pid>/stat`.
#[allow(unsafe_code)]
fn stat_ms(pid: u32, fields: [usize; 2]) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (field 2, which may hold spaces, so split after its `)`).
    let after: Vec<&str> = stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |field: usize| after.get(field - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    // SAFETY: sysconf only reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    fields.into_iter().map(ticks).sum::<f64>() * 1000.0 / per_second
}

/// A process and its children (gunicorn's master and workers), by parent pid in `/proc`.
fn with_children(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let parent = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(pid) {
            pids.push(child);
        }
    }
    pids
}

fn peak_rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmHWM:")
}

/// A memory figure of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`) in MB.
fn status_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// How one function process is started: `vars` over the bench's own environment (or, `clean`,
/// over none, as Lambda starts a bootstrap), the memory it is told it has, and for a
/// Lambda-like start the CPU cgroup it runs in from its first instruction.
struct StartOptions<'a> {
    vars: Vec<(&'static str, String)>,
    clean: bool,
    memory_mb: u32,
    cgroup: Option<&'a lambda_like::Cgroup>,
    /// A command the binary runs under (`BENCH_LAMBDA_WRAP`, e.g. `strace -f -tt -o FILE`).
    wrapper: Vec<String>,
}

impl StartOptions<'_> {
    /// The plain cold start of the first table: DynamoDB Local, keys inline, no CPU limit.
    fn plain(env: &Env) -> Self {
        StartOptions { vars: env.vars(), clean: false, memory_mb: 128, cgroup: None, wrapper: Vec::new() }
    }
}

/// What one start measured, from process start.
struct Start {
    init_ms: f64,
    first_response_ms: f64,
    status: u16,
    peak_rss_mb: f64,
    /// CPU time of all the process's threads when its first response arrived.
    cpu_ms: f64,
}

async fn start_once(
    binary: &Path,
    function: &str,
    event: Vec<u8>,
    invocations: usize,
    options: &StartOptions<'_>,
) -> Start {
    let mut emulator = runtime_api::Emulator::start(event, invocations).await.unwrap();
    let mut command = match options.wrapper.split_first() {
        Some((program, args)) => {
            let mut command = tokio::process::Command::new(program);
            command.args(args).arg(binary);
            command
        }
        None => tokio::process::Command::new(binary),
    };
    if options.clean {
        command.env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin");
    }
    if let Some(cgroup) = options.cgroup {
        cgroup.enter_before_exec(&mut command);
    }
    command
        .envs(options.vars.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", emulator.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", options.memory_mb.to_string())
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let (mut first, mut cpu_ms) = (None, f64::NAN);
    for _ in 0..invocations {
        match tokio::time::timeout(Duration::from_secs(20), emulator.responses.recv()).await {
            Ok(Some(response)) => {
                if first.is_none() {
                    cpu_ms = child.id().map_or(f64::NAN, lambda_like::cpu_ms);
                }
                first.get_or_insert(response);
            }
            _ => panic!("{function}: no response from the function"),
        }
    }
    let peak_rss_mb = child.id().map_or(f64::NAN, peak_rss_mb);
    let _ = child.kill().await;
    let init_ms = emulator.first_poll.lock().unwrap().map_or(f64::NAN, |at| ms(at - started));
    let (at, status) = first.unwrap();
    Start { init_ms, first_response_ms: ms(at - started), status, peak_rss_mb, cpu_ms }
}

fn size_mb(path: &Path) -> Option<f64> {
    std::fs::metadata(path).ok().map(|m| m.len() as f64 / 1_048_576.0)
}

/// The functions whose cold starts are measured: every native route's, then the fallback, the
/// authorizer and the example app.
fn cold_functions() -> Vec<&'static str> {
    let mut functions: Vec<&str> =
        ROUTES.iter().filter(|r| r.profile == Profile::Bookshelf).map(|r| r.function).collect();
    functions.extend(["fallback", "authorizer", "example-app"]);
    functions
}

async fn cold(env: &Env) -> Vec<Cold> {
    let state = Arc::new(env.state().await);
    let release = root().join("target/release");
    let mut results = Vec::new();
    for function in cold_functions() {
        let binary = release.join(function);
        let (mut inits, mut firsts, mut status) = (Vec::new(), Vec::new(), 0);
        for _ in 0..COLD_STARTS {
            let event = scenario(&state, function).await;
            let start = start_once(&binary, function, event, 1, &StartOptions::plain(env)).await;
            inits.push(start.init_ms);
            firsts.push(start.first_response_ms);
            status = start.status;
        }
        inits.sort_by(|a, b| a.total_cmp(b));
        firsts.sort_by(|a, b| a.total_cmp(b));
        let event = scenario(&state, function).await;
        let rss = start_once(&binary, function, event, RSS_INVOCATIONS, &StartOptions::plain(env)).await.peak_rss_mb;
        let cold = Cold {
            function: function.to_owned(),
            init_ms: percentile(&inits, 50.0),
            first_response_ms: percentile(&firsts, 50.0),
            status,
            peak_rss_mb: rss,
            size_x86_mb: size_mb(&binary).unwrap_or(f64::NAN),
            size_arm64_mb: size_mb(&root().join("target/lambda").join(function).join("bootstrap")),
        };
        eprintln!(
            "cold {function}: init {:.1} ms, first response {:.1} ms ({status})",
            cold.init_ms, cold.first_response_ms
        );
        results.push(cold);
    }
    results
}

// ---------------------------------------------------------------- load

#[derive(Debug, Clone, Serialize)]
struct Load {
    route: String,
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU the server's own processes spent per request (not the database's).
    server_cpu_ms: f64,
    /// CPU the database spent per request on the same cores: DynamoDB Local (Java) for this
    /// service, the PostgreSQL cluster for Django; `None` when the bench did not start it.
    database_cpu_ms: Option<f64>,
}

/// `drive`, with the CPU `pids` spent meanwhile divided by the requests served, and that of
/// the database (`database`: its CPU so far, in ms).
async fn drive_measured<F, Fut>(
    route: &str,
    states: Vec<String>,
    step: F,
    pids: &[u32],
    database: impl Fn() -> Option<f64>,
) -> Load
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (u16, String)> + Send,
{
    let cpu = || pids.iter().map(|pid| cpu_ms(*pid)).sum::<f64>();
    let (before, database_before) = (cpu(), database());
    let mut load = drive(route, states, step).await;
    let requests = load.requests.max(1) as f64;
    load.server_cpu_ms = (cpu() - before) / requests;
    load.database_cpu_ms = database().zip(database_before).map(|(after, before)| (after - before) / requests);
    load
}

/// CPU (ms) a process tree has used so far: `pid` itself, the children it has reaped, and its
/// live children. PostgreSQL starts a backend per
/// connection and reaps it when the connection closes.
fn tree_cpu_ms(pid: u32) -> f64 {
    // cutime and cstime: fields 16 and 17.
    stat_ms(pid, [16, 17]) + with_children(pid).into_iter().map(cpu_ms).sum::<f64>()
}

/// The local server's resident memory (MB) once the login load is over, and its peak.
#[derive(Debug, Clone, Copy, Serialize)]
struct ServerMemory {
    rss_after_login_mb: f64,
    peak_rss_mb: f64,
}

fn rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS:")
}

async fn load(env: &Env) -> (Vec<Load>, ServerMemory) {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = tokio::process::Command::new(root().join("target/release/bookshelf-local"))
        .envs(env.vars())
        .env("PORT", port.to_string())
        .env("RATE_LIMITS_ENABLED", "false")
        .env("LOCAL_USAGE_PLAN_RATE", "1000000")
        .env("LOCAL_USAGE_PLAN_BURST", "1000000")
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(LOAD_CONCURRENCY)
        .build_http::<Full<Bytes>>();
    let base = format!("http://127.0.0.1:{port}/api/v1/auth");
    for _ in 0..100 {
        if client.get(format!("http://127.0.0.1:{port}/.well-known/jwks.json").parse().unwrap()).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let send = {
        let client = client.clone();
        move |method: &str, url: String, token: Option<String>, body: Option<Value>| {
            let client = client.clone();
            let mut builder = hyper::Request::builder().method(method).uri(url).header("x-api-key", "local-dev-key");
            if let Some(t) = token {
                builder = builder.header("authorization", format!("Bearer {t}"));
            }
            let bytes = body.map(|b| b.to_string()).unwrap_or_default();
            let req = builder.header("content-type", "application/json").body(Full::new(Bytes::from(bytes))).unwrap();
            async move {
                match client.request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        (status, serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
                    }
                    Err(_) => (0, Value::Null),
                }
            }
        }
    };
    let identity = json!({"username": unique("load_"), "password": password()});
    let (_, registered) = send("POST", format!("{base}/register"), None, Some(identity.clone())).await;
    let access = registered["access_token"].as_str().unwrap().to_owned();

    let mut results = Vec::new();
    for route in ["GET /me", "GET /app/whoami", "POST /refresh", "POST /login"] {
        // Each worker refreshes its own session's chain; the other routes need no state.
        let mut chains = vec![String::new(); LOAD_CONCURRENCY];
        if route == "POST /refresh" {
            for chain in &mut chains {
                let (_, s) = send("POST", format!("{base}/login"), None, Some(identity.clone())).await;
                *chain = s["refresh_token"].as_str().unwrap().to_owned();
            }
        }
        let (send, base, access, identity) = (send.clone(), base.clone(), access.clone(), identity.clone());
        let step = move |chain: String| {
            let (send, base, access, identity) = (send.clone(), base.clone(), access.clone(), identity.clone());
            async move {
                let (status, body) = match route {
                    "GET /me" => send("GET", format!("{base}/me"), Some(access), None).await,
                    // The example app API, through the authorizer as API Gateway would call it.
                    "GET /app/whoami" => {
                        send("GET", base.replace("/api/v1/auth", "/app/whoami"), Some(access), None).await
                    }
                    "POST /refresh" => {
                        send("POST", format!("{base}/refresh"), None, Some(json!({"refresh_token": chain}))).await
                    }
                    _ => send("POST", format!("{base}/login"), None, Some(identity)).await,
                };
                let next = body["refresh_token"].as_str().map_or(chain, str::to_owned);
                (status, next)
            }
        };
        let pids = server.id().into_iter().collect::<Vec<_>>();
        results.push(drive_measured(route, chains, step, &pids, || env.database_pid.map(cpu_ms)).await);
    }
    // Login is the last route: 16 connections of argon2 have just ended.
    let memory = server.id().map_or(ServerMemory { rss_after_login_mb: f64::NAN, peak_rss_mb: f64::NAN }, |pid| {
        ServerMemory { rss_after_login_mb: rss_mb(pid), peak_rss_mb: peak_rss_mb(pid) }
    });
    let _ = server.kill().await;

    // The same /me work (verify an ES256 JWT, read the user) in Django REST framework +
    // simplejwt under gunicorn, on the same machine (scripts/django-bench.sh).
    let django_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let token_file = root().join(".local/django/bench-token.txt");
    let script = root().join("scripts/django-bench.sh");
    let django_password = password();
    let started = tokio::process::Command::new(&script)
        .args(["start", &django_port.to_string(), &token_file.display().to_string()])
        .env("DJANGO_BENCH_PASSWORD", &django_password)
        .current_dir(root())
        .status()
        .await;
    if started.is_ok_and(|s| s.success()) {
        let master = std::fs::read_to_string(root().join(".local/django/gunicorn.pid"))
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok());
        let pids = master.map(with_children).unwrap_or_default();
        let postmaster = std::fs::read_to_string(root().join(".local/django/pg/postmaster.pid"))
            .ok()
            .and_then(|file| file.lines().next()?.trim().parse::<u32>().ok());
        let postgres = || postmaster.map(tree_cpu_ms);
        let token = std::fs::read_to_string(&token_file).unwrap().trim().to_owned();
        let url = format!("http://127.0.0.1:{django_port}/api/v1/auth/me");
        let step = {
            let send = send.clone();
            move |state: String| {
                let (send, url, token) = (send.clone(), url.clone(), token.clone());
                async move { (send("GET", url, Some(token), None).await.0, state) }
            }
        };
        let me = "GET /me — Django REST + simplejwt (gunicorn)";
        results.push(drive_measured(me, vec![String::new(); LOAD_CONCURRENCY], step, &pids, postgres).await);
        // Login and refresh: simplejwt's own views; argon2-cffi with the same parameters.
        let base = format!("http://127.0.0.1:{django_port}/api/v1/auth");
        let credentials = json!({"username": "bench_reader", "password": django_password});
        let mut chains = vec![String::new(); LOAD_CONCURRENCY];
        for chain in &mut chains {
            let (_, tokens) = send("POST", format!("{base}/login"), None, Some(credentials.clone())).await;
            *chain = tokens["refresh"].as_str().unwrap_or_default().to_owned();
        }
        let step = {
            let (send, base) = (send.clone(), base.clone());
            move |state: String| {
                let (send, url, body) = (send.clone(), format!("{base}/login"), credentials.clone());
                async move { (send("POST", url, None, Some(body)).await.0, state) }
            }
        };
        let login = "POST /login — Django REST + simplejwt (gunicorn)";
        results.push(drive_measured(login, chains.clone(), step, &pids, postgres).await);
        let step = move |refresh: String| {
            let (send, url) = (send.clone(), format!("{base}/refresh"));
            async move {
                let status = send("POST", url, None, Some(json!({"refresh": refresh}))).await.0;
                (status, refresh)
            }
        };
        let refresh = "POST /refresh — Django REST + simplejwt (gunicorn)";
        results.push(drive_measured(refresh, chains, step, &pids, postgres).await);
        let _ = tokio::process::Command::new(&script).arg("stop").current_dir(root()).status().await;
    } else {
        eprintln!("bench: the Django comparison server did not start; its row is skipped");
    }
    (results, memory)
}

/// The bare argon2id floors of this run (m=19456 KiB, t=2, p=1, one wrong password each):
/// one verify on one thread, and verifies per second with every core busy, of ours
/// (`bookshelf::password`: AVX2 on pooled blocks where the CPU has it), of RustCrypto's
/// portable `argon2` (what ours replaced, and what CPUs without AVX2 still run) and of
/// argon2-cffi (the C reference implementation under Django's login).
#[derive(Debug, Clone, Copy, Serialize)]
struct Floors {
    ours_ms: f64,
    ours_per_s: f64,
    rustcrypto_ms: f64,
    argon2_cffi_ms: Option<f64>,
    argon2_cffi_per_s: Option<f64>,
}

impl Floors {
    /// The most verifies per second either implementation did on this machine.
    fn fastest_per_s(&self) -> f64 {
        self.ours_per_s.max(self.argon2_cffi_per_s.unwrap_or(0.0))
    }
}

async fn argon2_floors() -> Floors {
    use bookshelf::password;
    let stored = Arc::new(password::hash(&bookshelf::domain::Password::parse(password()).unwrap()).await.unwrap());
    let mut one = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        password::verify("wrong-password-123", Some(&stored)).await.unwrap();
        one.push(ms(started.elapsed()));
    }
    one.sort_by(|a, b| a.total_cmp(b));
    // Every core: more callers than workers, as under login load; the pool runs one per core.
    let (started, deadline) = (Instant::now(), Instant::now() + Duration::from_secs(3));
    let callers: Vec<_> = (0..LOAD_CONCURRENCY)
        .map(|_| {
            let stored = Arc::clone(&stored);
            tokio::spawn(async move {
                let mut done = 0usize;
                while Instant::now() < deadline {
                    password::verify("wrong-password-123", Some(&stored)).await.unwrap();
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for caller in callers {
        done += caller.await.unwrap();
    }
    let ours_per_s = done as f64 / started.elapsed().as_secs_f64();
    let rustcrypto = tokio::task::spawn_blocking(|| {
        use argon2::{Algorithm, Argon2, Block, Params, Version};
        let params = Params::new(19_456, 2, 1, Some(32)).unwrap();
        let mut memory = vec![Block::default(); params.block_count()];
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut times = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            let mut out = [0u8; 32];
            hasher
                .hash_password_into_with_memory(b"wrong-password-123", b"0123456789abcdef", &mut out, &mut memory)
                .unwrap();
            times.push(ms(started.elapsed()));
        }
        times.sort_by(|a, b| a.total_cmp(b));
        percentile(&times, 50.0)
    })
    .await
    .unwrap();
    let cffi = tokio::process::Command::new(root().join("scripts/django-bench.sh"))
        .arg("argon2-floor")
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .await
        .ok()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|v| v.parse().ok()).collect::<Vec<f64>>()
        })
        .unwrap_or_default();
    let floors = Floors {
        ours_ms: percentile(&one, 50.0),
        ours_per_s,
        rustcrypto_ms: rustcrypto,
        argon2_cffi_ms: cffi.first().copied(),
        argon2_cffi_per_s: cffi.get(1).copied(),
    };
    eprintln!("argon2 floors: {floors:?}");
    floors
}

/// `LOAD_CONCURRENCY` workers, each repeating `step` on its own state for `LOAD_SECONDS`.
async fn drive<F, Fut>(route: &str, states: Vec<String>, step: F) -> Load
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (u16, String)> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let started = Instant::now();
    let workers: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let step = step.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let (status, next) = step(state).await;
                    latencies.push(ms(t.elapsed()));
                    state = next;
                    errors += usize::from(status != 200);
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (l, e) = worker.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let load = Load {
        route: route.to_owned(),
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 50.0),
        p99_ms: percentile(&all, 99.0),
        server_cpu_ms: f64::NAN,
        database_cpu_ms: None,
    };
    eprintln!("load {route}: {:.0} req/s", load.rps);
    load
}

// ---------------------------------------------------------------- import

#[derive(Debug, Clone, Serialize)]
struct Import {
    users: usize,
    imported: usize,
    refused: usize,
    concurrency: usize,
    seconds: f64,
    per_second: f64,
}

/// `bookshelf-import` of `BENCH_IMPORT_USERS` (100,000) generated users into DynamoDB Local,
/// through the importer's own code path (validation, claims, one transaction per user).
async fn import(state: &AppState) -> Import {
    let users: usize = std::env::var("BENCH_IMPORT_USERS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let hash = "pbkdf2_sha256$1000000$ixcRhiXBeJAbLTnK2GoqgU$/eWGi1ujdWUlXawp9FDzJXLjXnrPdBF1mWCbYxUaf4M=";
    let run = uuid::Uuid::new_v4().simple().to_string();
    let lines: Vec<String> = (0..users)
        .map(|n| {
            json!({"id": n, "username": format!("imp{n}_{}", &run[..6]), "email": format!("imp{n}.{}@example.com", &run[..6]),
                   "password_hash": hash, "email_verified": n % 2 == 0, "created_at": "2022-03-04T05:06:07Z"})
            .to_string()
        })
        .collect();
    let path = std::env::temp_dir().join(format!("bench-import-{run}.jsonl"));
    std::fs::write(&path, lines.join("\n")).unwrap();
    let options = bookshelf_import::Options::default();
    let summary =
        bookshelf_import::run(&state.store, &path, &options, &indicatif::ProgressBar::hidden()).await.unwrap();
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(bookshelf_import::checkpoint_path(&path));
    eprintln!("import: {summary}");
    Import {
        users,
        imported: summary.imported,
        refused: summary.refused.len() + summary.failed.len(),
        concurrency: options.concurrency,
        seconds: summary.seconds,
        per_second: summary.users_per_second(),
    }
}

#[derive(Debug, Clone, Serialize)]
struct LegacyCost {
    scheme: String,
    cpu_ms: f64,
    wall_ms: f64,
}

/// What verifying each imported scheme costs (`tests/fixtures/legacy-hashes.json`, made by the
/// real libraries): the price of a first login before the upgrade to argon2id.
async fn legacy() -> Vec<LegacyCost> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/legacy-hashes.json")).unwrap();
    let fixtures: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut costs = Vec::new();
    for fixture in fixtures {
        let (password, hash) = (fixture["password"].as_str().unwrap(), fixture["hash"].as_str().unwrap());
        let (mut cpu, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let (started, before) = (Instant::now(), process_cpu());
            let verdict = bookshelf::password::verify(password, Some(hash)).await.unwrap();
            wall.push(ms(started.elapsed()));
            cpu.push(ms(process_cpu().saturating_sub(before)));
            let _ = verdict;
        }
        cpu.sort_by(|a, b| a.total_cmp(b));
        wall.sort_by(|a, b| a.total_cmp(b));
        let cost = LegacyCost {
            scheme: fixture["scheme"].as_str().unwrap().to_owned(),
            cpu_ms: percentile(&cpu, 50.0),
            wall_ms: percentile(&wall, 50.0),
        };
        eprintln!("legacy {}: {:.0} ms", cost.scheme, cost.wall_ms);
        costs.push(cost);
    }
    costs
}

// ---------------------------------------------------------------- report

fn table(cold: &[Cold], warm: &[Warm], anchors: Option<Anchors>, load: &[Load]) -> String {
    let mut out = String::new();
    out.push_str(
        "| function | init p50 (ms) | first response p50 (ms) | status | peak RSS (MB) | x86_64 (MB) | arm64 (MB) |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for c in cold {
        let arm = c.size_arm64_mb.map_or("–".to_owned(), |s| format!("{s:.2}"));
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {} | {:.1} | {:.2} | {arm} |\n",
            c.function, c.init_ms, c.first_response_ms, c.status, c.peak_rss_mb, c.size_x86_mb
        ));
    }
    out.push_str("\n| route (in process, DynamoDB Local) | calls | DB calls | sequential round trips | CPU p50 (ms) | CPU p99 (ms) | CPU mean user + system (ms) | p50 (ms) | p99 (ms) | outside DB p50 (ms) | outside DB p99 (ms) | DB p50 (ms) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for w in warm {
        out.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.3} | {:.3} | {:.3} + {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            w.route,
            w.calls,
            w.db_calls,
            w.round_trips,
            w.cpu_p50_ms,
            w.cpu_p99_ms,
            w.cpu_user_mean_ms,
            w.cpu_system_mean_ms,
            w.total_p50_ms,
            w.total_p99_ms,
            w.outside_db_p50_ms,
            w.outside_db_p99_ms,
            w.db_p50_ms
        ));
    }
    if let Some(a) = anchors {
        out.push_str(&format!(
            "\nBare, for comparison: argon2id verify (m=19456 KiB, t=2, p=1) p50 {:.1} ms of CPU ({:.1} ms wall); \
             access token sign {:.3} ms and verify {:.3} ms of CPU each.\n",
            a.argon2_verify_cpu_p50_ms, a.argon2_verify_p50_ms, a.jwt_sign_ms, a.jwt_verify_ms
        ));
    }
    out.push_str(&format!(
        "\n| load (release local server, {LOAD_CONCURRENCY} connections, {LOAD_SECONDS} s) | requests | errors | req/s | p50 (ms) | p99 (ms) | server CPU per request (ms) | database CPU per request (ms) |\n"
    ));
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for l in load {
        let database = l.database_cpu_ms.map_or("–".to_owned(), |ms| format!("{ms:.3}"));
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.3} | {database} |\n",
            l.route, l.requests, l.errors, l.rps, l.p50_ms, l.p99_ms, l.server_cpu_ms
        ));
    }
    out
}

/// The argon2 floors, and this run's figures against issue 19's targets: login ≥ 1.2× the
/// Django server's and ≥ 90 % of the fastest floor, `/me` and `/refresh` at ≤ 1/10 of
/// Django's server CPU per request, ≤ 200 MB resident after the login load.
fn comparison(load: &[Load], floors: &Floors, memory: &ServerMemory) -> String {
    let find = |route: &str| load.iter().find(|l| l.route == route);
    let django = |route: &str| find(&format!("{route} — Django REST + simplejwt (gunicorn)"));
    let or_dash = |v: Option<f64>, digits: usize| v.map_or("–".to_owned(), |v| format!("{v:.digits$}"));
    let mut out = format!(
        "\n| argon2id floor (m=19456 KiB, t=2, p=1) | one verify, one thread (ms) | verifies/s, every core |\n|---|---:|---:|\n\
         | ours (AVX2 on pooled blocks{}) | {:.1} | {:.0} |\n\
         | RustCrypto `argon2` 0.5 (portable, pooled) | {:.1} | – |\n\
         | argon2-cffi (C reference, Django's) | {} | {} |\n",
        if bookshelf::argon2id::available() { "" } else { ": not on this CPU, RustCrypto ran" },
        floors.ours_ms,
        floors.ours_per_s,
        floors.rustcrypto_ms,
        or_dash(floors.argon2_cffi_ms, 1),
        or_dash(floors.argon2_cffi_per_s, 0),
    );
    out.push_str("\n| target | this run | met |\n|---|---|---|\n");
    let mut row = |target: &str, figure: String, met: Option<bool>| {
        let met = met.map_or("–", |m| if m { "yes" } else { "no" });
        out.push_str(&format!("| {target} | {figure} | {met} |\n"));
    };
    if let (Some(ours), Some(theirs)) = (find("POST /login"), django("POST /login")) {
        let ratio = ours.rps / theirs.rps;
        row(
            "login ≥ 1.2× Django's req/s",
            format!("{:.0} vs {:.0} req/s: {ratio:.2}×", ours.rps, theirs.rps),
            Some(ratio >= 1.2),
        );
    }
    if let Some(ours) = find("POST /login") {
        let share = ours.rps / floors.fastest_per_s();
        row(
            "login ≥ 90 % of the fastest argon2 floor",
            format!("{:.0} of {:.0} verifies/s: {:.0} %", ours.rps, floors.fastest_per_s(), share * 100.0),
            Some(share >= 0.9),
        );
        // The same with the database's CPU set aside: how many logins these cores would serve
        // if the server's CPU per login were all they spent, against the floor's rate.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let alone = cores * 1000.0 / ours.server_cpu_ms;
        let database = ours.database_cpu_ms.map_or(String::new(), |ms| {
            format!("; DynamoDB Local spent {ms:.1} ms of CPU per login on the same cores")
        });
        row(
            "the same, the database's CPU set aside",
            format!(
                "{:.2} ms of server CPU per login → {alone:.0}/s on {cores:.0} cores: {:.0} % of the floor{database}",
                ours.server_cpu_ms,
                alone / floors.fastest_per_s() * 100.0
            ),
            None,
        );
    }
    for route in ["GET /me", "POST /refresh"] {
        if let (Some(ours), Some(theirs)) = (find(route), django(route)) {
            let share = ours.server_cpu_ms / theirs.server_cpu_ms;
            row(
                &format!("`{route}` server CPU ≤ 1/10 of Django's"),
                format!("{:.3} vs {:.3} ms: 1/{:.1}", ours.server_cpu_ms, theirs.server_cpu_ms, 1.0 / share),
                Some(share <= 0.1),
            );
        }
    }
    row(
        "local server resident memory after the login load ≤ 200 MB",
        format!("{:.0} MB (peak {:.0} MB)", memory.rss_after_login_mb, memory.peak_rss_mb),
        Some(memory.rss_after_login_mb <= 200.0),
    );
    out
}

fn chart(cold: &[Cold]) -> String {
    let width = 720.0;
    let bar = 18.0;
    let height = 40.0 + bar * 1.5 * cold.len() as f64;
    let max = cold.iter().map(|c| c.first_response_ms).fold(1.0, f64::max);
    let scale = (width - 260.0) / max;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\
         <text x=\"10\" y=\"20\" font-weight=\"bold\">Cold start per function (ms, median of {COLD_STARTS}): init, then first response</text>"
    );
    for (i, c) in cold.iter().enumerate() {
        let y = 35.0 + i as f64 * bar * 1.5;
        svg.push_str(&format!(
            "<text x=\"10\" y=\"{:.0}\">{}</text>\
             <rect x=\"160\" y=\"{y:.0}\" width=\"{:.1}\" height=\"{bar}\" fill=\"#c7d7f0\"/>\
             <rect x=\"160\" y=\"{y:.0}\" width=\"{:.1}\" height=\"{bar}\" fill=\"#3b6fb6\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\">{:.1} / {:.1}</text>",
            y + 13.0,
            c.function,
            c.first_response_ms * scale,
            c.init_ms * scale,
            165.0 + c.first_response_ms * scale,
            y + 13.0,
            c.init_ms,
            c.first_response_ms
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

fn update_readme(table: &str) {
    let path = root().join("README.md");
    let Ok(readme) = std::fs::read_to_string(&path) else { return };
    let (start, end) = ("<!-- bench:start -->", "<!-- bench:end -->");
    if let (Some(a), Some(b)) = (readme.find(start), readme.find(end)) {
        let updated = format!("{}{start}\n{table}{}", &readme[..a], &readme[b..]);
        let _ = std::fs::write(path, updated);
    }
}

#[tokio::main]
async fn main() {
    let root = root();
    let db = match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(_) => None,
        Err(_) => Some(bookshelf_local::dynamodb_local::DynamoDbLocal::start(&root).unwrap()),
    };
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| db.as_ref().unwrap().endpoint.clone());
    let env = Env {
        endpoint,
        database_pid: db.as_ref().map(|db| db.pid()),
        table: format!("bench-{}", uuid::Uuid::new_v4().simple()),
        keys: bookshelf::signing_keys::generate_document().unwrap(),
        outbox: std::env::temp_dir().join(format!("bench-outbox-{}", uuid::Uuid::new_v4().simple())),
    };
    let state = env.state().await;
    let template = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let schema = bookshelf_local::tables::auth_table(&template).unwrap();
    bookshelf_local::tables::create(state.store.client(), &env.table, &schema).await.unwrap();

    let skip = |part: &str| std::env::var("BENCH_SKIP").is_ok_and(|s| s.split(',').any(|p| p == part));
    let cold = if skip("cold") { Vec::new() } else { cold(&env).await };
    let (mut warm, anchors) = if skip("warm") {
        (Vec::new(), None)
    } else {
        // On a current-thread runtime of its own, as every function's `main` runs its handler.
        let (warm, anchors) = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(warm(&env))
                })
                .join()
                .unwrap()
        });
        (warm, Some(anchors))
    };
    warm.retain(|w| w.calls > 0);
    let (load, memory) = if skip("load") {
        (Vec::new(), None)
    } else {
        let (load, memory) = load(&env).await;
        (load, Some(memory))
    };
    let floors = if skip("load") { None } else { Some(argon2_floors().await) };
    let import = if skip("import") { None } else { Some(import(&state).await) };
    // Resident memory of this process around the legacy verifies (scrypt, argon2 up to
    // 100 MiB, bcrypt, PBKDF2): their one-off buffers must not stay behind.
    let rss_before_legacy = rss_mb(std::process::id());
    let legacy = if skip("legacy") { Vec::new() } else { legacy().await };
    let rss_after_legacy = rss_mb(std::process::id());
    let lambda = if skip("lambda") { None } else { Some(lambda_like::run(&env, &cold_functions()).await) };

    let mut table = table(&cold, &warm, anchors, &load);
    if let (Some(floors), Some(memory)) = (floors, memory) {
        table.push_str(&comparison(&load, &floors, &memory));
    }
    if let Some(i) = &import {
        table.push_str(&format!(
            "\n| `bookshelf-import` (DynamoDB Local, {} in flight) | users | refused | seconds | users/s |\n|---|---:|---:|---:|---:|\n| {} generated users, each with username, email and a Django hash | {} | {} | {:.1} | {:.0} |\n",
            i.concurrency, i.users, i.imported, i.refused, i.seconds, i.per_second
        ));
    }
    if !legacy.is_empty() {
        table.push_str("\n| first login with an imported hash (verify, one core) | CPU p50 (ms) | wall p50 (ms) |\n|---|---:|---:|\n");
        for l in &legacy {
            table.push_str(&format!("| {} | {:.0} | {:.0} |\n", l.scheme, l.cpu_ms, l.wall_ms));
        }
        table.push_str(&format!(
            "\nResident memory of the bench process before and after those verifies: {rss_before_legacy:.0} → {rss_after_legacy:.0} MB.\n"
        ));
    }
    if let Some(report) = &lambda {
        table.push_str(&lambda_like::table(report));
    }
    println!("{table}");
    let json = json!({
        "legacy": legacy,
        "legacy_rss_mb": {"before": rss_before_legacy, "after": rss_after_legacy},
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
        "cold": cold,
        "warm": warm,
        "anchors": anchors,
        "load": load,
        "argon2_floors": floors,
        "server_memory": memory,
        "import": import,
        "lambda_cold": lambda,
    });
    let dir = root.join("bench");
    std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&json).unwrap()).unwrap();
    std::fs::write(dir.join("chart.svg"), chart(&cold)).unwrap();
    update_readme(&table);
    drop(db);
}
