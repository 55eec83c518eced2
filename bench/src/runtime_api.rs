//! A minimal AWS Lambda Runtime API (the `/2018-06-01/runtime` endpoints a `bootstrap` polls),
//! so the real function binaries can be started and timed on this machine.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

/// What the emulator saw of one function process.
pub struct Emulator {
    pub addr: SocketAddr,
    pub first_poll: Arc<Mutex<Option<Instant>>>,
    /// (when, status code of the API Gateway response) per finished invocation.
    pub responses: mpsc::UnboundedReceiver<(Instant, u16)>,
}

struct Shared {
    event: Vec<u8>,
    remaining: AtomicUsize,
    first_poll: Arc<Mutex<Option<Instant>>>,
    responses: mpsc::UnboundedSender<(Instant, u16)>,
}

impl Emulator {
    /// Serves `event` `invocations` times, then holds the next poll open (as Lambda does
    /// between invocations) until the process is killed.
    pub async fn start(event: Vec<u8>, invocations: usize) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let first_poll = Arc::new(Mutex::new(None));
        let shared = Arc::new(Shared {
            event,
            remaining: AtomicUsize::new(invocations),
            first_poll: Arc::clone(&first_poll),
            responses: tx,
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(handle(&shared, req).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Emulator { addr, first_poll, responses: rx })
    }
}

async fn handle(shared: &Shared, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        if let Ok(mut first) = shared.first_poll.lock() {
            first.get_or_insert_with(Instant::now);
        }
        let served = shared.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if !served {
            std::future::pending::<()>().await;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let deadline = (std::time::SystemTime::now() + std::time::Duration::from_secs(30))
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        return hyper::Response::builder()
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
            .body(Full::new(Bytes::from(shared.event.clone())))
            .unwrap_or_default();
    }
    if path.ends_with("/response") || path.ends_with("/error") {
        let at = Instant::now();
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let answer = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
        let status = match answer["statusCode"].as_u64() {
            Some(status) => status as u16,
            // An authorizer answers a policy (API Gateway: 200 on, or 403), or fails with
            // `Unauthorized` (its 401).
            None if answer["policyDocument"]["Statement"][0]["Effect"] == "Allow" => 200,
            None if answer.get("policyDocument").is_some() => 403,
            None if path.ends_with("/error") && answer["errorMessage"] == "Unauthorized" => 401,
            None => 599,
        };
        let _ = shared.responses.send((at, status));
    }
    hyper::Response::builder().status(202).body(Full::new(Bytes::new())).unwrap_or_default()
}
