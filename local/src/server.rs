//! The local HTTP server: the route table of `bookshelf::routes`, the API key check API
//! Gateway does in AWS, CORS preflights, and the client IP taken from the TCP peer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use bookshelf::edge::{authorizer, cors, dispatch, example_app};
use bookshelf::error::{Error, Limit};
use bookshelf::profile::Profile;
use bookshelf::routes::{self, Gate, Resolution};
use bookshelf::state::AppState;
use bookshelf::web::body::MAX_BODY_BYTES;
use bookshelf::web::request::{parse_query, ApiRequest};
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
    /// `LOCAL_ADMIN_KEY`: what `x-admin-key` must be on the admin routes.
    pub admin_key: String,
    /// The API Gateway usage plan's per-key throttle (steady rate and burst), emulated.
    usage_plan: DefaultDirectRateLimiter,
}

/// `LOCAL_ADMIN_KEY` unless set.
pub const DEFAULT_ADMIN_KEY: &str = "local-admin-key";
/// Who the audit log names as the caller of a local admin request.
pub const LOCAL_ADMIN: &str = "local-admin";
const ADMIN_KEY_NEEDED: &str = "Admin routes need the x-admin-key header (AWS_IAM when deployed).";

/// The usage plan of `template.yaml` (`ApiRateLimit`, `ApiBurstLimit`): 100 requests/s per
/// key, bursts of 200.
pub const USAGE_PLAN_RATE: u32 = 100;
pub const USAGE_PLAN_BURST: u32 = 200;

impl LocalApi {
    pub fn new(state: Arc<AppState>, api_key: String, rate_per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        LocalApi {
            state,
            api_key,
            admin_key: DEFAULT_ADMIN_KEY.to_owned(),
            usage_plan: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
        }
    }

    /// The same server with another admin key.
    pub fn with_admin_key(mut self, admin_key: String) -> Self {
        self.admin_key = admin_key;
        self
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

    /// The example app API (`ExampleAppApi` in `template.yaml`) at `/app/…`: the authorizer
    /// called with the event API Gateway would send, then the example's answer with the
    /// context API Gateway would pass on (every value a string, as REST APIs pass them).
    async fn example_app(
        &self,
        method: &Method,
        path: &str,
        headers: &http::HeaderMap,
        peer: SocketAddr,
        request_id: &str,
    ) -> ApiResponse {
        let gateway = |status: u16| {
            ApiResponse::json(
                http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                &authorizer::gateway_body(status),
            )
        };
        let Some(&(_, resource, optional)) =
            example_app::ROUTES.iter().find(|(m, r, _)| *r == path && *m == method.as_str())
        else {
            return gateway(404);
        };
        // The required route's identity source is the header: without it API Gateway answers
        // 401 before the authorizer runs.
        if !optional && !headers.contains_key(http::header::AUTHORIZATION) {
            return gateway(401);
        }
        let header_map: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.into())))
            .collect();
        let event = serde_json::json!({
            "type": "REQUEST",
            "methodArn": format!("arn:aws:execute-api:local:000000000000:local/local/{method}{resource}"),
            "resource": resource,
            "path": path,
            "httpMethod": method.as_str(),
            "headers": header_map,
            "requestContext": {"requestId": request_id, "identity": {"sourceIp": peer.ip().to_string()}},
        });
        let Ok(event) = serde_json::from_value(event) else { return gateway(500) };
        match authorizer::authorize(&self.state, &event).await {
            Ok(decision) if decision.allows() => {
                let context = decision
                    .context
                    .into_iter()
                    .map(|(key, value)| match value {
                        serde_json::Value::String(s) => (key, serde_json::Value::String(s)),
                        other => (key, serde_json::Value::String(other.to_string())),
                    })
                    .collect();
                example_app::answer(method.as_str(), resource, &context)
            }
            Ok(_) => gateway(403),
            Err(authorizer::Refused::Unauthorized) => gateway(401),
            // API Gateway's AUTHORIZER_FAILURE, as the template answers it.
            Err(authorizer::Refused::Unavailable) => gateway(503),
        }
    }

    /// The host the client called (its `Host` header), for documents naming our own URLs.
    fn host(&self, headers: &http::HeaderMap) -> String {
        headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_owned()
    }

    async fn route(&self, req: hyper::Request<Incoming>, peer: SocketAddr, request_id: &str) -> ApiResponse {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().map(parse_query).unwrap_or_default();
        if path == "/app" || path.starts_with("/app/") {
            let response = self.example_app(&method, &path, req.headers(), peer, request_id).await;
            tracing::info!(request_id, method = %method, path = %path, status = response.status.as_u16(), "request");
            return response;
        }
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
        let needs_key = spec.gate == Gate::ApiKey
            || (spec.gate == Gate::Open
                && spec.profile != Profile::Bookshelf
                && self.state.config.profile_routes_require_api_key);
        // AWS_IAM in API Gateway; here the admin key stands in for a signature.
        let caller = match spec.gate {
            Gate::Iam => {
                let key = req.headers().get("x-admin-key").and_then(|v| v.to_str().ok());
                let matches = |key: &str| verify_slices_are_equal(key.as_bytes(), self.admin_key.as_bytes()).is_ok();
                if !key.is_some_and(matches) {
                    return early(Error::Forbidden(ADMIN_KEY_NEEDED));
                }
                Some(LOCAL_ADMIN.to_owned())
            }
            Gate::ApiKey | Gate::Open => None,
        };
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
        let origin = Some(format!("http://{}", self.host(&parts.headers)));
        let api_request = ApiRequest {
            method: parts.method,
            path,
            headers: parts.headers,
            body,
            path_params,
            source_ip: Some(peer.ip().to_string()),
            request_id: request_id.to_owned(),
            profile: spec.profile,
            origin,
            query,
            caller,
        };
        dispatch::respond(Arc::clone(&self.state), spec.route, api_request).await
    }
}
