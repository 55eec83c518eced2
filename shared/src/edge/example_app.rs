//! The example app API of `template.yaml` (`ExampleAppApi`): two routes behind the
//! authorizer that echo what it told the app — `GET /app/whoami` (authentication required)
//! and `GET /app/public` (optional). Apps copy the pattern; this is its smallest backend.

use http::StatusCode;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Map, Value};

use crate::web::response::ApiResponse;

/// The two routes: (method, resource, authentication optional).
pub const ROUTES: [(&str, &str, bool); 2] = [("GET", "/app/whoami", false), ("GET", "/app/public", true)];

/// The answer of a route: the route and the authorizer's context, as the integration got it
/// (API Gateway adds `principalId` and `integrationLatency`; they are left out).
pub fn answer(method: &str, resource: &str, authorizer: &Map<String, Value>) -> ApiResponse {
    let context: Map<String, Value> = authorizer
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "principalId" | "integrationLatency"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    ApiResponse::json(StatusCode::OK, &json!({"route": format!("{method} {resource}"), "authorizer": context}))
}

/// The answer to one proxy event, with the context the authorizer put in it.
pub fn respond(request: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
    let authorizer: Map<String, Value> = request.request_context.authorizer.fields.into_iter().collect();
    let resource = request.resource.unwrap_or_default();
    super::lambda::into_lambda(answer(request.http_method.as_str(), &resource, &authorizer))
}

/// The example function's whole `main`.
pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::logging::init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayProxyRequest>| async move {
        Ok::<_, std::convert::Infallible>(respond(event.payload))
    }))
    .await
}
