//! The Lambda side: API Gateway REST events in, responses out, through the same handlers
//! the local server runs.

use std::convert::Infallible;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use lambda_http::aws_lambda_events::encodings::Body;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};

use super::{cors, dispatch};
use crate::config::Config;
use crate::routes::{Handler, Route};
use crate::state::AppState;
use crate::web::request::ApiRequest;
use crate::web::response::ApiResponse;

/// A function's whole `main`: logging, state built once per cold start, then the runtime loop.
/// `handler` is the route's entry in [`crate::routes::entry`], named by the function itself so its
/// binary links no other handler.
///
/// The runtime hands over the API Gateway event itself rather than a `lambda_http::Request`:
/// building that request's URI from the `Host` and `X-Forwarded-Proto` headers panics on
/// values such as `X-Forwarded-Proto: +https` (found by `fuzz/`), and the handlers never need
/// a URI anyway.
pub async fn serve(route: Route, handler: Handler) -> Result<(), lambda_http::Error> {
    crate::logging::init();
    let config = Config::from_env()?;
    let state = Arc::new(AppState::from_config(config).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayProxyRequest>| {
        let state = Arc::clone(&state);
        async move {
            Ok::<_, Infallible>(into_lambda(respond(state, route, handler, from_lambda(event.payload)).await))
        }
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
        dispatch::respond_with(state, route, handler, req).await
    };
    cors::allow(&mut response, origin);
    response
}

/// An API Gateway REST proxy event as the handlers see it. The client address is the one
/// API Gateway observed (`requestContext.identity.sourceIp`), never a forwarded header.
pub fn from_lambda(event: ApiGatewayProxyRequest) -> ApiRequest {
    // API Gateway sends each header in both maps; the multi-value one keeps repeated ones.
    let mut headers = event.multi_value_headers;
    for (name, value) in &event.headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let body = match event.body {
        None => Vec::new(),
        // Not base64 after all: the raw text, which the JSON reader then refuses.
        Some(text) if event.is_base64_encoded => BASE64.decode(&text).unwrap_or_else(|_| text.into_bytes()),
        Some(text) => text.into_bytes(),
    };
    let context = event.request_context;
    ApiRequest {
        method: event.http_method,
        path: event.path.unwrap_or_default(),
        headers,
        body,
        path_params: event.path_parameters,
        source_ip: context.identity.source_ip,
        request_id: context.request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    }
}

pub fn into_lambda(response: ApiResponse) -> ApiGatewayProxyResponse {
    let (body, is_base64_encoded) = if response.body.is_empty() {
        (None, false)
    } else {
        match String::from_utf8(response.body) {
            Ok(text) => (Some(Body::Text(text)), false),
            Err(bytes) => (Some(Body::Binary(bytes.into_bytes())), true),
        }
    };
    // Non-exhaustive: filled in field by field.
    let mut out = ApiGatewayProxyResponse::default();
    out.status_code = i64::from(response.status.as_u16());
    out.multi_value_headers = response.headers.clone();
    out.headers = response.headers;
    out.body = body;
    out.is_base64_encoded = is_base64_encoded;
    out
}
