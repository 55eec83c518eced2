//! The local HTTP server: the route table of `bookshelf::routes`, the API key check API
//! Gateway does in AWS, CORS preflights, and the client IP taken from the TCP peer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use bookshelf::edge::{cors, dispatch};
use bookshelf::error::{Error, Limit};
use bookshelf::profile::Profile;
use bookshelf::routes::{self, Resolution};
use bookshelf::state::AppState;
use bookshelf::web::body::MAX_BODY_BYTES;
use bookshelf::web::request::ApiRequest;
use bookshelf::web::response::ApiResponse;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::Method;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub struct LocalApi {
    pub state: Arc<AppState>,
    pub api_key: String,
    /// The API Gateway usage plan's per-key throttle (steady rate and burst), emulated.
    usage_plan: DefaultDirectRateLimiter,
}

/// The usage plan of `template.yaml`: 50 requests/s per key, bursts of 100.
pub const USAGE_PLAN_RATE: u32 = 50;
pub const USAGE_PLAN_BURST: u32 = 100;

impl LocalApi {
    pub fn new(state: Arc<AppState>, api_key: String, rate_per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        LocalApi { state, api_key, usage_plan: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)) }
    }

    /// Serves connections until `shutdown` completes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let api = Arc::clone(&self);
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let api = Arc::clone(&api);
                            async move { Ok::<_, Infallible>(api.handle(req, peer).await) }
                        });
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                () = &mut shutdown => return,
            }
        }
    }

    pub async fn handle(&self, req: hyper::Request<Incoming>, peer: SocketAddr) -> hyper::Response<Full<Bytes>> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let allowed_origin = cors::allowed_origin(&self.state.config.cors_allowed_origins, req.headers());
        let mut response = if req.method() == Method::OPTIONS {
            cors::preflight(allowed_origin.is_some())
        } else {
            self.route(req, peer, &request_id).await
        };
        cors::allow(&mut response, allowed_origin);
        let mut out = hyper::Response::new(Full::new(Bytes::from(response.body)));
        *out.status_mut() = response.status;
        *out.headers_mut() = response.headers;
        out
    }

    async fn route(&self, req: hyper::Request<Incoming>, peer: SocketAddr, request_id: &str) -> ApiResponse {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        // Refused before any function would run in AWS: the gateway's answers, natively.
        let early = |error: Error| {
            let response = dispatch::failure(Profile::Bookshelf, "gateway", &error, request_id);
            tracing::info!(request_id, method = %method, path = %path, status = response.status.as_u16(), "request");
            response
        };
        let (spec, path_params) = match routes::resolve(&method, &path, self.state.config.profiles) {
            Resolution::Found(spec, params) => (spec, params),
            Resolution::MethodNotAllowed => return early(Error::MethodNotAllowed),
            Resolution::NotFound => return early(Error::NotFound),
        };
        // API Gateway checks the key before anything reaches a function; so do we. Profile
        // routes need it only where the deployment says so (`ProfileRoutesRequireApiKey`).
        let needs_key =
            spec.api_key || (spec.profile != Profile::Bookshelf && self.state.config.profile_routes_require_api_key);
        if needs_key {
            let key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
            if key != Some(self.api_key.as_str()) {
                return early(Error::InvalidApiKey);
            }
            if self.usage_plan.check().is_err() {
                return early(Error::RateLimited { limit: Limit::UsagePlan, retry_after: 1 });
            }
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(_) => return early(Error::PayloadTooLarge),
        };
        let api_request = ApiRequest {
            method: parts.method,
            path,
            headers: parts.headers,
            body,
            path_params,
            source_ip: Some(peer.ip().to_string()),
            request_id: request_id.to_owned(),
            profile: spec.profile,
        };
        dispatch::respond(Arc::clone(&self.state), spec.route, api_request).await
    }
}
