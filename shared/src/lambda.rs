//! The Lambda side: API Gateway REST events in, responses out, through the same handlers
//! the local server runs.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::aws_lambda_events::encodings::Body;
use lambda_http::request::RequestContext;
use lambda_http::{service_fn, RequestExt};

use crate::config::Config;
use crate::cors;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::{self, Handler, Route};
use crate::state::AppState;

/// A function's whole `main`: logging, state built once per cold start, then the runtime loop.
/// `handler` is the route's entry in [`routes::entry`], named by the function itself so its
/// binary links no other handler.
pub async fn serve(route: Route, handler: Handler) -> Result<(), lambda_http::Error> {
    crate::logging::init();
    let config = Config::from_env()?;
    let state = Arc::new(AppState::from_config(config).await?);
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(into_lambda(respond(state, route, handler, from_lambda(event)).await)) }
    }))
    .await
}

/// One event. A CORS preflight is answered here: API Gateway sends `OPTIONS` to the fallback
/// function (no key), as the local server answers it before routing. Every other request goes
/// to the route's handler, and an allowed origin may read whatever it answers.
pub async fn respond(state: Arc<AppState>, route: Route, handler: Handler, req: ApiRequest) -> ApiResponse {
    let origin = cors::allowed_origin(&state.config.cors_allowed_origins, &req.headers);
    let mut response = if req.method == http::Method::OPTIONS {
        cors::preflight(origin.is_some())
    } else {
        routes::respond_with(state, route, handler, req).await
    };
    cors::allow(&mut response, origin);
    response
}

/// An API Gateway REST proxy event as the handlers see it. The client address is the one
/// API Gateway observed (`requestContext.identity.sourceIp`), never a forwarded header.
pub fn from_lambda(event: lambda_http::Request) -> ApiRequest {
    let (source_ip, gateway_request_id) = match event.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => (ctx.identity.source_ip.clone(), ctx.request_id.clone()),
        _ => (None, None),
    };
    let path_params = event.path_parameters().iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let path = event.raw_http_path().to_owned();
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        #[allow(unreachable_patterns)]
        _ => Vec::new(),
    };
    ApiRequest {
        method: parts.method,
        path,
        headers: parts.headers,
        body,
        path_params,
        source_ip,
        request_id: gateway_request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    }
}

pub fn into_lambda(response: ApiResponse) -> lambda_http::Response<Body> {
    let body = if response.body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(response.body) {
            Ok(text) => Body::Text(text),
            Err(bytes) => Body::Binary(bytes.into_bytes()),
        }
    };
    let mut out = lambda_http::Response::new(body);
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    out
}
