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
use crate::profile::{Profile, Profiles};
use crate::routes::{entry, Handler, Resolution, Route};
use crate::state::AppState;
use crate::web::request::ApiRequest;
use crate::web::response::ApiResponse;

/// A function's whole `main`: logging, state built once per cold start, then the runtime loop.
/// `routes` are the function's routes with their entries in [`crate::routes::entry`] (its
/// native route and the profile routes of the same operation), named by the function itself
/// so its binary links no other handler. Each event goes to the route of an enabled profile
/// that its method and resource name; anything else is answered as by the fallback.
///
/// The runtime hands over the API Gateway event itself rather than a `lambda_http::Request`:
/// building that request's URI from the `Host` and `X-Forwarded-Proto` headers panics on
/// values such as `X-Forwarded-Proto: +https` (found by `fuzz/`), and the handlers never need
/// a URI anyway.
///
/// Every function's `main` runs this on a current-thread runtime. Lambda hands an instance one
/// event at a time, so a second worker thread only adds wake-ups between the handler and the
/// task driving its DynamoDB connection (`make bench`, warm `/me`: 0.38 → 0.29 ms of CPU per
/// request). argon2 runs on its own worker threads either way ([`crate::password`]).
pub async fn serve(routes: &'static [(Route, Handler)]) -> Result<(), lambda_http::Error> {
    crate::logging::init();
    let config = Config::from_env()?;
    crate::routes::check_profiles(config.profiles)?;
    let uses_database = routes.iter().any(|(route, _)| uses_database(*route));
    let state = Arc::new(AppState::for_lambda(config, uses_database).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayProxyRequest>| {
        let state = Arc::clone(&state);
        async move {
            let (route, handler) = pick(routes, &event.payload, state.config.profiles);
            Ok::<_, Infallible>(into_lambda(respond(state, route, handler, from_lambda(event.payload)).await))
        }
    }))
    .await
}

/// Whether a route reads or writes the table, so its function opens its DynamoDB connection
/// during init ([`AppState::for_lambda`]): all but the public documents and the fallback.
/// `tests/integration/template.rs` holds the template's grants to it.
pub fn uses_database(route: Route) -> bool {
    !matches!(route, Route::Jwks | Route::OpenidConfiguration | Route::Fallback)
}

/// The route of `routes` an event is for. API Gateway names the template path it matched
/// (`resource`, which a custom domain's base path does not change), so only the function's own
/// few routes are compared with it, an enabled profile's over the native one; an event without
/// it is resolved by its path through the whole table.
pub fn pick(routes: &[(Route, Handler)], event: &ApiGatewayProxyRequest, profiles: Profiles) -> (Route, Handler) {
    let method = event.http_method.as_str();
    let found = match event.resource.as_deref() {
        Some(resource) => routes
            .iter()
            .filter(|(route, _)| {
                route.spec().is_some_and(|s| s.method == method && s.path == resource && profiles.contains(s.profile))
            })
            .max_by_key(|(route, _)| route.profile() != Profile::Bookshelf)
            .copied(),
        None => match crate::routes::resolve(&event.http_method, event.path.as_deref().unwrap_or_default(), profiles) {
            Resolution::Found(spec, _) => routes.iter().find(|(route, _)| *route == spec.route).copied(),
            _ => None,
        },
    };
    found.unwrap_or((Route::Fallback, entry::fallback))
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
    // The multi-value map holds every parameter, repeats included.
    let mut query: Vec<(String, String)> = event
        .multi_value_query_string_parameters
        .iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    if query.is_empty() {
        query = event.query_string_parameters.iter().map(|(key, value)| (key.to_owned(), value.to_owned())).collect();
    }
    let context = event.request_context;
    // The execute-api domain carries the stage in the path; a custom domain maps it away.
    let origin =
        context.domain_name.as_deref().map(|domain| match (&context.stage, domain.ends_with(".amazonaws.com")) {
            (Some(stage), true) => format!("https://{domain}/{stage}"),
            _ => format!("https://{domain}"),
        });
    ApiRequest {
        method: event.http_method,
        path: event.path.unwrap_or_default(),
        headers,
        body,
        path_params: event.path_parameters,
        source_ip: context.identity.source_ip,
        request_id: context.request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        profile: crate::profile::Profile::Bookshelf,
        origin,
        query,
        caller: context.identity.user_arn,
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
