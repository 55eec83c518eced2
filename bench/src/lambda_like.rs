//! The Lambda-like cold start (issue 19): each function's release binary started as Lambda
//! starts it at its template `MemorySize`, and timed from process start to its first poll of
//! the Runtime API (init) and to its first response.
//!
//! What makes it Lambda-like:
//! - **CPU share.** Lambda gives one vCPU at 1,769 MB and CPU in proportion below that, so
//!   128 MB buys ≈ 0.072 vCPU and 512 MB ≈ 0.29. Each process runs under a CFS quota of that
//!   share, in a cgroup it enters between fork and exec, so not one instruction of it runs
//!   unthrottled. Without the root rights to make cgroups the table says so, with no numbers.
//! - **The deployed code path.** No `DYNAMODB_ENDPOINT` and no inline keys: the function signs
//!   its calls with SigV4 and environment credentials and speaks TLS through its own HTTP
//!   client, to DynamoDB Local behind a TLS terminator (`AWS_ENDPOINT_URL_DYNAMODB`), and reads
//!   its signing keys from a Secrets-Manager-compatible HTTPS endpoint
//!   (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `JWT_KEYS_SECRET_ARN`).
//! - **Root certificates as costly as in Lambda.** Both endpoints present a certificate of a
//!   throwaway CA made for the run; the function trusts it through an `SSL_CERT_FILE` that is
//!   the system bundle plus that CA, so it reads and parses a whole bundle as it would there.
//!
//! Not modelled: network latency (loopback) and the extra CPU Lambda is reported to give the
//! init phase, so init is throttled here like the invocation (the harness errs slow).
//!
//! `BENCH_LAMBDA_FUNCTIONS=get-me,login` measures only those; `BENCH_LAMBDA_STARTS` sets the
//! starts per row (5); `BENCH_LAMBDA_MEMORY=256,1024` measures each function at those sizes
//! instead of its template's (for choosing them); `BENCH_LAMBDA_WRAP="strace -f -tt -o /tmp/trace"` runs each binary under
//! that command (inside the cgroup, so the wrapper's own CPU counts too).

use std::collections::HashMap;
use std::convert::Infallible;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use bookshelf_local::tables::{function_binary, serverless_functions, template_json};

use crate::{percentile, root, scenario, start_once, Env, StartOptions};

/// Lambda's memory size at which a function has one whole vCPU.
const FULL_VCPU_MB: f64 = 1769.0;
/// The CFS period the quota is spread over: 20 ms rather than the kernel's default 100 ms.
/// With 100 ms, a 128 MB process would run 7.2 ms and then stall 92.8 ms, so every timing
/// would move in steps of ~0.1 s and a short request could see no stall or a whole one by
/// luck; 20 ms (1.45 ms of CPU per period at 128 MB, above the kernel's 1 ms minimum quota)
/// throttles as finely as the kernel allows at that size, closer to a share of a core than
/// to a stop-go schedule. Lambda does not publish its period; the choice errs towards
/// smoother, not luckier, numbers.
const CFS_PERIOD_US: u64 = 20_000;
/// Starts per row (`BENCH_LAMBDA_STARTS`).
const STARTS: usize = 5;
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-signing-keys-AbCdEf";

/// One row: a function at one memory size, with or without its init warm-up.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub function: String,
    pub memory_mb: u32,
    pub vcpu: f64,
    /// `INIT_WARMUP`: whether init opened the DynamoDB connection (the deployed default).
    pub warm_up: bool,
    pub starts: usize,
    pub init_p50_ms: f64,
    pub first_response_p50_ms: f64,
    pub first_response_max_ms: f64,
    /// CPU time of the process (all threads) when its first response arrived.
    pub cpu_p50_ms: f64,
    pub status: u16,
    /// GetSecretValue calls per start.
    pub secret_fetches: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LambdaCold {
    /// Why nothing was measured, when nothing was.
    pub unavailable: Option<String>,
    pub cfs_period_us: u64,
    pub rows: Vec<Row>,
    pub roots: Option<RootsCost>,
}

/// What building the root store costs, unthrottled, in this process (best of 5).
#[derive(Debug, Clone, Serialize)]
pub struct RootsCost {
    pub roots: usize,
    /// The bundle alone, as a function now reads it.
    pub bundle_cpu_ms: f64,
    /// The bundle and `/etc/ssl/certs`, as rustls-native-certs reads them when neither
    /// `SSL_CERT_FILE` nor `SSL_CERT_DIR` is set (what a function read before).
    pub bundle_and_dir_cpu_ms: Option<f64>,
}

/// Measures every function of `functions` (see the module doc), then `/me` at 128 and 512 MB,
/// then the unwarmed path of `/me`, login and refresh.
pub async fn run(env: &Env, functions: &[&str]) -> LambdaCold {
    let mut report = LambdaCold { unavailable: None, cfs_period_us: CFS_PERIOD_US, rows: Vec::new(), roots: None };
    if let Err(reason) = Cgroup::create(128).map(drop) {
        eprintln!("lambda-like: {reason}");
        report.unavailable = Some(reason);
        return report;
    }
    let sizes = memory_sizes(&std::fs::read_to_string(root().join("template.yaml")).unwrap());
    let wanted: Option<Vec<String>> =
        std::env::var("BENCH_LAMBDA_FUNCTIONS").ok().map(|v| v.split(',').map(|f| f.trim().to_owned()).collect());
    let starts = std::env::var("BENCH_LAMBDA_STARTS").ok().and_then(|n| n.parse().ok()).unwrap_or(STARTS);
    let wrapper: Vec<String> = std::env::var("BENCH_LAMBDA_WRAP")
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let is_wanted = |f: &str| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == f));

    let services = Services::start(env).await;
    report.roots = Some(roots_cost(&services.cert_file));
    let state = Arc::new(env.state().await);
    let mut plan: Vec<(&str, u32, bool)> = Vec::new();
    // BENCH_LAMBDA_MEMORY=256,1024: each function at those sizes instead of its template's.
    let override_sizes: Option<Vec<u32>> = std::env::var("BENCH_LAMBDA_MEMORY")
        .ok()
        .map(|v| v.split(',').filter_map(|mb| mb.trim().parse().ok()).collect());
    for function in functions.iter().copied().filter(|f| is_wanted(f)) {
        match &override_sizes {
            Some(list) => plan.extend(list.iter().map(|mb| (function, *mb, true))),
            None => plan.push((function, sizes.get(function).copied().unwrap_or(128), true)),
        }
    }
    if is_wanted("get-me") && override_sizes.is_none() {
        let own = sizes.get("get-me").copied().unwrap_or(128);
        plan.extend([128, 512].into_iter().filter(|mb| *mb != own).map(|mb| ("get-me", mb, true)));
        // The naive path: the first request opens the connection (and pays its handshake).
        plan.extend([128, 512].into_iter().map(|mb| ("get-me", mb, false)));
    }
    for function in ["login", "refresh"].into_iter().filter(|f| is_wanted(f) && override_sizes.is_none()) {
        plan.push((function, sizes.get(function).copied().unwrap_or(128), false));
    }

    for (function, memory_mb, warm_up) in plan {
        let binary = root().join("target/release").join(function);
        let (mut inits, mut firsts, mut cpus, mut status, mut fetches) = (vec![], vec![], vec![], 0, 0);
        for _ in 0..starts {
            let event = scenario(&state, function).await;
            let cgroup = match Cgroup::create(memory_mb) {
                Ok(cgroup) => cgroup,
                Err(reason) => panic!("lambda-like: {reason}"),
            };
            let options = StartOptions {
                vars: services.vars(env, warm_up),
                clean: true,
                memory_mb,
                cgroup: Some(&cgroup),
                wrapper: wrapper.clone(),
            };
            let before = services.secret_calls.load(Ordering::SeqCst);
            let start = start_once(&binary, function, event, 1, &options).await;
            fetches += services.secret_calls.load(Ordering::SeqCst) - before;
            inits.push(start.init_ms);
            firsts.push(start.first_response_ms);
            cpus.push(start.cpu_ms);
            status = start.status;
            drop(cgroup);
        }
        for v in [&mut inits, &mut firsts, &mut cpus] {
            v.sort_by(|a, b| a.total_cmp(b));
        }
        let row = Row {
            function: function.to_owned(),
            memory_mb,
            vcpu: f64::from(memory_mb) / FULL_VCPU_MB,
            warm_up,
            starts,
            init_p50_ms: percentile(&inits, 50.0),
            first_response_p50_ms: percentile(&firsts, 50.0),
            first_response_max_ms: firsts.last().copied().unwrap_or(f64::NAN),
            cpu_p50_ms: percentile(&cpus, 50.0),
            status,
            secret_fetches: fetches as f64 / starts.max(1) as f64,
        };
        eprintln!(
            "lambda-like {function} @{memory_mb} MB{}: init {:.0} ms, first response {:.0} ms, CPU {:.1} ms ({status})",
            if warm_up { "" } else { " unwarmed" },
            row.init_p50_ms,
            row.first_response_p50_ms,
            row.cpu_p50_ms
        );
        report.rows.push(row);
    }
    services.stop();
    report
}

fn roots_cost(bundle: &Path) -> RootsCost {
    let best = |dir: Option<&Path>| {
        let mut best = (f64::INFINITY, 0);
        for _ in 0..5 {
            let before = crate::process_cpu();
            let roots = bookshelf::sdk_http::roots_from(Some(bundle), dir);
            best = (best.0.min(crate::ms(crate::process_cpu().saturating_sub(before))), roots.len());
        }
        best
    };
    let (bundle_cpu_ms, roots) = best(None);
    let dir = Path::new("/etc/ssl/certs");
    let bundle_and_dir_cpu_ms = dir.is_dir().then(|| best(Some(dir)).0);
    RootsCost { roots, bundle_cpu_ms, bundle_and_dir_cpu_ms }
}

/// The markdown table of a run (or why there is none).
pub fn table(report: &LambdaCold) -> String {
    let period = report.cfs_period_us / 1000;
    if let Some(reason) = &report.unavailable {
        return format!("\nLambda-like cold start: not measured here ({reason}).\n");
    }
    let mut out = format!(
        "\n| Lambda-like cold start (CPU quota of the MemorySize share, {period} ms period; TLS to DynamoDB and Secrets Manager; median of {} starts) | MemorySize (MB) | vCPU share | init warm-up | init p50 (ms) | first response p50 (ms) | first response max (ms) | CPU to first response p50 (ms) | status | secret fetches per start |\n",
        report.rows.first().map_or(STARTS, |r| r.starts)
    );
    out.push_str("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.rows {
        out.push_str(&format!(
            "| {} | {} | {:.3} | {} | {:.0} | {:.0} | {:.0} | {:.1} | {} | {:.1} |\n",
            r.function,
            r.memory_mb,
            r.vcpu,
            if r.warm_up { "on" } else { "off (naive)" },
            r.init_p50_ms,
            r.first_response_p50_ms,
            r.first_response_max_ms,
            r.cpu_p50_ms,
            r.status,
            r.secret_fetches
        ));
    }
    if let Some(r) = &report.roots {
        let dir = r.bundle_and_dir_cpu_ms.map_or(String::new(), |ms| {
            format!("; with `/etc/ssl/certs` as well, as rustls-native-certs reads roots when no `SSL_CERT_*` variable is set (a function's way before), {ms:.2} ms")
        });
        out.push_str(&format!(
            "\nRoot store at a function's first TLS connection, unthrottled on this machine: {} roots from the bundle in {:.2} ms of CPU{dir}; ×{:.0} in wall time at 128 MB.\n",
            r.roots,
            r.bundle_cpu_ms,
            FULL_VCPU_MB / 128.0
        ));
    }
    out
}

/// CPU time (ms) the threads of process `pid` have run so far, from each task's `schedstat`
/// (nanoseconds, unlike `/proc/<pid>/stat`'s 10 ms ticks).
pub fn cpu_ms(pid: u32) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return f64::NAN };
    let mut ns = 0u64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ns as f64 / 1e6
}

/// `MemorySize` of each function (by binary name), its own or the Globals'.
pub fn memory_sizes(template: &str) -> HashMap<String, u32> {
    let doc = template_json(template).unwrap();
    let global = doc["Globals"]["Function"]["MemorySize"].as_u64();
    let sized = serverless_functions(&doc).into_iter().filter_map(|(id, resource)| {
        let size = resource["Properties"]["MemorySize"].as_u64().or(global)?;
        Some((function_binary(&id), size as u32))
    });
    sized.collect()
}

// ---------------------------------------------------------------- CPU quota

/// A cgroup whose CPU quota is the share of `memory_mb`; removed when dropped (its process
/// must have been reaped by then).
pub struct Cgroup {
    dir: PathBuf,
    procs: CString,
}

impl Cgroup {
    fn create(memory_mb: u32) -> Result<Self, String> {
        let quota = ((CFS_PERIOD_US as f64) * f64::from(memory_mb) / FULL_VCPU_MB).round() as u64;
        let name = format!("bookshelf-bench-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        let (dir, settings) = if v1.join("cpu.cfs_quota_us").exists() {
            let dir = v1.join(name);
            (dir, vec![("cpu.cfs_period_us", CFS_PERIOD_US.to_string()), ("cpu.cfs_quota_us", quota.to_string())])
        } else if std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").is_ok_and(|c| c.contains("cpu")) {
            // cgroup v2 (not exercised on the v1 machine this was written on): the root must
            // hand the cpu controller down first.
            let _ = std::fs::write("/sys/fs/cgroup/cgroup.subtree_control", "+cpu");
            (Path::new("/sys/fs/cgroup").join(name), vec![("cpu.max", format!("{quota} {CFS_PERIOD_US}"))])
        } else {
            return Err("no cgroup cpu controller (cgroup v1 cpu or v2 with cpu) is mounted".to_owned());
        };
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot make a CPU cgroup ({e}; making one needs root) at {}", dir.display()))?;
        let cgroup = Cgroup { procs: CString::new(dir.join("cgroup.procs").display().to_string()).unwrap(), dir };
        for (file, value) in settings {
            std::fs::write(cgroup.dir.join(file), &value).map_err(|e| format!("cannot set {file} = {value}: {e}"))?;
        }
        Ok(cgroup)
    }

    /// Makes `command`'s child move itself into this cgroup between fork and exec, so the
    /// function's first instruction already runs under the quota.
    #[allow(unsafe_code)]
    pub fn enter_before_exec(&self, command: &mut tokio::process::Command) {
        let procs = self.procs.clone();
        // SAFETY: the closure runs in the child between fork and exec; it only calls open(2),
        // write(2) and close(2), which are async-signal-safe, on memory made before the fork.
        unsafe {
            command.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // "0" is the writing process itself, in cgroup v1 and v2 alike.
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                let error = std::io::Error::last_os_error();
                libc::close(fd);
                if written != 1 {
                    return Err(error);
                }
                Ok(())
            });
        }
    }
}

impl Drop for Cgroup {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // Whatever is still inside was started by this run: a function a wrapper (`strace`)
        // left behind when the wrapper was killed.
        let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|p| p.trim().parse::<libc::pid_t>().ok()) {
            // SAFETY: kill(2) with a pid read from this cgroup, which only this run's children join.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // A killed process can take a moment to leave its cgroup.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        eprintln!("lambda-like: could not remove {}", self.dir.display());
    }
}

// ---------------------------------------------------------------- TLS endpoints

/// The run's TLS endpoints and the files a function needs to trust them.
struct Services {
    dynamodb: String,
    secrets_manager: String,
    cert_file: PathBuf,
    dir: PathBuf,
    secret_calls: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
}

impl Services {
    async fn start(env: &Env) -> Self {
        let dir = std::env::temp_dir().join(format!("bench-lambda-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (acceptor, ca_pem) = tls_acceptor();
        // The system bundle plus the run's CA: a root store as big as the function's in Lambda.
        let mut bundle = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_else(|_| {
            eprintln!("lambda-like: no /etc/ssl/certs/ca-certificates.crt; the functions trust the run's CA only");
            String::new()
        });
        bundle.push_str(&ca_pem);
        let cert_file = dir.join("ca-certificates.crt");
        std::fs::write(&cert_file, bundle).unwrap();

        let database = env.endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let terminator = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dynamodb = format!("https://localhost:{}", terminator.local_addr().unwrap().port());
        let tls = acceptor.clone();
        let mut tasks = vec![tokio::spawn(async move {
            while let Ok((tcp, _)) = terminator.accept().await {
                let (tls, database) = (tls.clone(), database.clone());
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let Ok(mut client) = tls.accept(tcp).await else { return };
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(&database).await else { return };
                    let _ = upstream.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        })];

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let secrets_manager = format!("https://localhost:{}", listener.local_addr().unwrap().port());
        let secret_calls = Arc::new(AtomicUsize::new(0));
        let (calls, document) = (Arc::clone(&secret_calls), Arc::new(env.keys.clone()));
        tasks.push(tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (tls, calls, document) = (acceptor.clone(), Arc::clone(&calls), Arc::clone(&document));
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let Ok(stream) = tls.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req| {
                        let (calls, document) = (Arc::clone(&calls), Arc::clone(&document));
                        async move { Ok::<_, Infallible>(get_secret_value(req, &document, &calls).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        }));
        Services { dynamodb, secrets_manager, cert_file, dir, secret_calls, tasks }
    }

    /// A deployed function's environment, pointed at this run's endpoints.
    fn vars(&self, env: &Env, warm_up: bool) -> Vec<(&'static str, String)> {
        let mut vars: Vec<_> = env
            .vars()
            .into_iter()
            .filter(|(k, _)| !matches!(*k, "DYNAMODB_ENDPOINT" | "JWT_KEYS" | "RUST_LOG"))
            .collect();
        vars.extend([
            ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb.clone()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.secrets_manager.clone()),
            ("JWT_KEYS_SECRET_ARN", SECRET_ARN.to_owned()),
            ("SSL_CERT_FILE", self.cert_file.display().to_string()),
            // A role's temporary credentials, as Lambda puts them in the environment.
            ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH0".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "bench/bench/bench/bench/bench/bench/bench0".to_owned()),
            ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEBenchSessionToken".to_owned()),
            ("RUST_LOG", "info".to_owned()), // the template's Globals
            ("INIT_WARMUP", warm_up.to_string()),
        ]);
        vars
    }

    fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TLS acceptor for `localhost` and 127.0.0.1, with a leaf certificate of a fresh ECDSA
/// P-256 CA; the CA's PEM.
fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String) {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "bookshelf-bench throwaway CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &Issuer::from_params(&ca_params, &ca_key))
        .unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into())
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}

/// Secrets Manager's `GetSecretValue` (AWS JSON 1.1) for the one secret of the run.
async fn get_secret_value(
    req: hyper::Request<Incoming>,
    document: &str,
    calls: &AtomicUsize,
) -> hyper::Response<Full<Bytes>> {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let post_root = req.method() == hyper::Method::POST && req.uri().path() == "/";
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let asked = serde_json::from_slice::<Value>(&body).unwrap_or_default();
    let (status, answer) = if !post_root || target != "secretsmanager.GetSecretValue" {
        (400, json!({"__type": "UnknownOperationException", "message": format!("not served here: {target}")}))
    } else if asked["SecretId"] != SECRET_ARN {
        (
            400,
            json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}),
        )
    } else {
        calls.fetch_add(1, Ordering::SeqCst);
        (
            200,
            json!({
                "ARN": SECRET_ARN,
                "Name": "bench-signing-keys",
                "SecretString": document,
                "VersionId": "00000000-0000-4000-8000-000000000001",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1_700_000_000.0,
            }),
        )
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_are_each_functions_own_or_the_globals() {
        let template = "Globals:\n  Function:\n    MemorySize: 128\nResources:\n  GetMeFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n  LoginFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      MemorySize: 512\n  AuthTable:\n    Type: AWS::DynamoDB::Table\n";
        let sizes = memory_sizes(template);
        assert_eq!(sizes.len(), 2);
        assert_eq!((sizes["get-me"], sizes["login"]), (128, 512));
    }
}
