//! The Lambda authorizer that protects an app's own API (API Gateway REST, `REQUEST` type):
//! the same bearer check as `/me` — token, then its session and user in one round trip — so
//! a logout, a password change or a deletion is refused on the very next call, and the
//! user's tier reaches the app fresh from the database.
//!
//! API Gateway answers 401 when the authorizer fails with exactly `Unauthorized`; any other
//! failure is its `AUTHORIZER_FAILURE`, which the template answers 503 and this gives only
//! when the database cannot be asked (never a panic: that is a refusal). The policy
//! allows the whole API (`arn:…:<api>/*/*/*`): API Gateway caches it per identity source
//! (`AuthorizerCacheSeconds`), and a policy for only the asking method would refuse the same
//! token's next call to another route.

use std::sync::Arc;

use http::Method;
use lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::auth::bearer::authenticate;
use crate::config::Config;
use crate::state::AppState;
use crate::web::request::ApiRequest;

/// What API Gateway reads back from a `REQUEST` authorizer.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    /// Flat strings and booleans, as API Gateway passes them to the integration.
    pub context: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub action: &'static str,
    pub effect: &'static str,
    pub resource: String,
}

/// Why no policy: API Gateway reads the failure's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Exactly `Unauthorized`: API Gateway's 401 (`UNAUTHORIZED`).
    #[error("Unauthorized")]
    Unauthorized,
    /// The database could not be asked: any other message is API Gateway's
    /// `AUTHORIZER_FAILURE` (the template answers it 503), which it never caches — unlike a
    /// `Deny`, which would lock the token out for the whole cache time after a brief outage.
    #[error("the token could not be checked: the database is unavailable")]
    Unavailable,
}

use Refused::Unauthorized;

impl AuthorizerResponse {
    /// Whether API Gateway lets the call through (this authorizer only ever allows; the check is
    /// what API Gateway does with any policy).
    pub fn allows(&self) -> bool {
        self.policy_document.statement.iter().all(|s| s.effect == "Allow")
    }
}

/// Decides one call: allowed with the caller's context, allowed as anonymous (a route whose
/// authentication is optional, called without an `Authorization` header), refused (401), or
/// unanswered (the database could not be asked: 503, never a guess).
pub async fn authorize(
    state: &AppState,
    event: &ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<AuthorizerResponse, Refused> {
    let resource = whole_api(event.method_arn.as_deref().unwrap_or_default()).ok_or(Unauthorized)?;
    let method = event.http_method.clone().unwrap_or(Method::GET);
    let route = event.resource.as_deref().unwrap_or_default();
    let request_id = event.request_context.request_id.clone().unwrap_or_default();
    let optional =
        state.config.authorizer_optional_routes.iter().any(|(m, r)| m.as_str() == method.as_str() && r == route);
    if optional && !event.headers.contains_key(http::header::AUTHORIZATION) {
        tracing::info!(request_id = %request_id, event = "authorize", outcome = "anonymous", "auth");
        return Ok(answer("anonymous", "Allow", resource, Map::from_iter([("auth".to_owned(), json!("anonymous"))])));
    }
    let mut req = ApiRequest::new(method, event.path.clone().unwrap_or_default());
    req.headers = event.headers.clone();
    req.source_ip = event.request_context.identity.as_ref().and_then(|identity| identity.source_ip.clone());
    req.request_id = request_id;
    match authenticate(state, &req).await {
        Ok(auth) => {
            let (user, session) = (auth.user, auth.session);
            tracing::info!(request_id = %req.request_id, event = "authorize", outcome = "allowed", user_id = %user.id, "auth");
            let context = Map::from_iter([
                ("auth".to_owned(), json!("user")),
                ("sub".to_owned(), json!(user.id.to_string())),
                ("sid".to_owned(), json!(session.session_id.to_string())),
                ("role".to_owned(), json!(user.role)),
                ("tier".to_owned(), json!(user.tier)),
                ("guest".to_owned(), json!(user.is_guest)),
                ("email_verified".to_owned(), json!(user.email_verified)),
            ]);
            Ok(answer(&user.id.to_string(), "Allow", resource, context))
        }
        Err(error) if error.is_server_fault() => {
            tracing::error!(request_id = %req.request_id, code = error.code(), "authorizer could not check the token");
            Err(Refused::Unavailable)
        }
        // `authenticate` logged the refusal as an auth event.
        Err(_) => Err(Unauthorized),
    }
}

fn answer(principal: &str, effect: &'static str, resource: String, context: Map<String, Value>) -> AuthorizerResponse {
    AuthorizerResponse {
        principal_id: principal.to_owned(),
        policy_document: PolicyDocument {
            version: "2012-10-17",
            statement: vec![Statement { action: "execute-api:Invoke", effect, resource }],
        },
        context,
    }
}

/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<method>/<path>` → the same API's
/// `…:<api>/*/*/*`.
pub fn whole_api(method_arn: &str) -> Option<String> {
    let (api, _) = method_arn.split_once('/')?;
    let parts: Vec<&str> = api.split(':').collect();
    (parts.len() == 6 && parts[0] == "arn" && parts[2] == "execute-api" && !parts[5].is_empty())
        .then(|| format!("{api}/*/*/*"))
}

/// The bodies of the example API's gateway responses (`template.yaml`), which the local
/// server sends in API Gateway's place.
pub fn gateway_body(status: u16) -> Value {
    match status {
        401 => json!({"message": "Unauthorized"}),
        403 => json!({"message": "Forbidden"}),
        404 => json!({"message": "Not Found"}),
        503 => json!({"message": "Service Unavailable"}),
        _ => json!({"message": "Internal server error"}),
    }
}

/// The authorizer function's whole `main`: logging, state built once, then the runtime loop.
pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::logging::init();
    // Every call reads the session and the user: the connection is opened during init.
    let state = Arc::new(AppState::for_lambda(Config::from_env()?, true).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
        let state = Arc::clone(&state);
        async move {
            // A panic would be API Gateway's 500: it becomes a refusal instead.
            let decided = tokio::spawn(async move { authorize(&state, &event.payload).await }).await;
            decided.unwrap_or(Err(Unauthorized)).map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_covers_the_whole_api_whatever_method_asked() {
        let arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123def4/v1/GET/app/whoami";
        assert_eq!(whole_api(arn).as_deref(), Some("arn:aws:execute-api:eu-west-1:123456789012:abc123def4/*/*/*"));
        for bad in ["", "arn:aws:s3:::bucket/key", "not-an-arn/v1/GET", "arn:aws:execute-api:eu-west-1:1:/v1/GET/x"] {
            assert_eq!(whole_api(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_refusal_says_exactly_what_api_gateway_turns_into_401() {
        assert_eq!(Unauthorized.to_string(), "Unauthorized");
        assert_ne!(Refused::Unavailable.to_string(), "Unauthorized", "an outage is API Gateway's 503, not a 401");
    }
}
