//! From a request to a response: the route's per-IP window, its entry (handler and wire
//! format; panics included), failures in the route's format, and the request's one log line.

use std::sync::Arc;
use std::time::Instant;

use crate::error::Error;
use crate::profile::Profile;
use crate::rate;
use crate::routes::{Handler, RatePolicy, Route};
use crate::state::AppState;
use crate::web::request::ApiRequest;
use crate::web::response::ApiResponse;

/// Dispatches through the route table (local server, tests).
pub async fn respond(state: Arc<AppState>, route: Route, req: ApiRequest) -> ApiResponse {
    respond_with(state, route, route.handler(), req).await
}

/// Runs a route's handler and turns every result, a panic included, into a response in the
/// route's wire format. Handlers never return `Err` to the runtime: that would become an
/// opaque 502.
pub async fn respond_with(state: Arc<AppState>, route: Route, handler: Handler, mut req: ApiRequest) -> ApiResponse {
    let started = Instant::now();
    req.profile = route.profile();
    let request_id = req.request_id.clone();
    let method = req.method.clone();
    let path = req.path.clone();
    let profile = req.profile;
    let operation = route.spec().map_or("fallback", |spec| spec.function);
    let outcome = tokio::spawn(async move { handle(&state, route, handler, &req).await }).await;
    let response = match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => failure(profile, operation, &error, &request_id),
        Err(join_error) => failure(profile, operation, &Error::internal(join_error.to_string()), &request_id),
    };
    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %path,
        route = ?route,
        profile = profile.name(),
        status = response.status.as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

async fn handle(state: &AppState, route: Route, handler: Handler, req: &ApiRequest) -> Result<ApiResponse, Error> {
    match route.rate() {
        RatePolicy::EveryRequest(scope) => {
            rate::check_ip(state, scope, req).await?;
            handler(state, req).await
        }
        RatePolicy::RefusedTokens(scope) => match handler(state, req).await {
            Err(refused) if refused.is_unauthenticated() => {
                rate::check_ip(state, scope, req).await?;
                Err(refused)
            }
            answered => answered,
        },
        RatePolicy::InHandler(_) | RatePolicy::Unlimited => handler(state, req).await,
    }
}

/// The failure response, logging the cause of a server fault (which the client never sees).
pub fn failure(profile: Profile, operation: &str, error: &Error, request_id: &str) -> ApiResponse {
    if error.is_server_fault() {
        let cause = crate::logging::cause_chain(error);
        tracing::error!(request_id = %request_id, code = error.code(), cause = %cause, "server error");
    }
    crate::wire::failure(profile, error, request_id, operation)
}
