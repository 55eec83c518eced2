//! The one route table: the local server routes with it, the fallback Lambda answers 404/405
//! with it, and a test holds `template.yaml` to it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use http::Method;

use crate::error::ApiError;
use crate::handlers;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Register,
    Login,
    Refresh,
    Verify,
    Logout,
    GetMe,
    UpdateMe,
    DeleteMe,
    ChangePassword,
    ListSessions,
    DeleteSession,
    Guest,
    GuestUpgrade,
    RequestVerification,
    VerifyEmail,
    ForgotPassword,
    ResetPassword,
    Jwks,
    /// Answers 404 or 405 for whatever no other route takes.
    Fallback,
}

#[derive(Debug)]
pub struct RouteSpec {
    pub method: &'static str,
    /// `{name}` segments match one path segment and become path parameters.
    pub path: &'static str,
    pub route: Route,
    pub api_key: bool,
    /// The binary (and SAM `BuildProperties.Binary`) that serves this route in AWS.
    pub function: &'static str,
}

pub const API_PREFIX: &str = "/api/v1/auth";

pub static ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/register",
        route: Route::Register,
        api_key: true,
        function: "register",
    },
    RouteSpec { method: "POST", path: "/api/v1/auth/login", route: Route::Login, api_key: true, function: "login" },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/refresh",
        route: Route::Refresh,
        api_key: true,
        function: "refresh",
    },
    RouteSpec { method: "POST", path: "/api/v1/auth/verify", route: Route::Verify, api_key: true, function: "verify" },
    RouteSpec { method: "POST", path: "/api/v1/auth/logout", route: Route::Logout, api_key: true, function: "logout" },
    RouteSpec { method: "GET", path: "/api/v1/auth/me", route: Route::GetMe, api_key: true, function: "get-me" },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/auth/me",
        route: Route::UpdateMe,
        api_key: true,
        function: "update-me",
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/auth/me",
        route: Route::DeleteMe,
        api_key: true,
        function: "delete-me",
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password",
        route: Route::ChangePassword,
        api_key: true,
        function: "change-password",
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/sessions",
        route: Route::ListSessions,
        api_key: true,
        function: "list-sessions",
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/auth/sessions/{id}",
        route: Route::DeleteSession,
        api_key: true,
        function: "delete-session",
    },
    RouteSpec { method: "POST", path: "/api/v1/auth/guest", route: Route::Guest, api_key: true, function: "guest" },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/guest/upgrade",
        route: Route::GuestUpgrade,
        api_key: true,
        function: "guest-upgrade",
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/email/verification",
        route: Route::RequestVerification,
        api_key: true,
        function: "request-verification",
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/email/verify",
        route: Route::VerifyEmail,
        api_key: true,
        function: "verify-email",
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password/forgot",
        route: Route::ForgotPassword,
        api_key: true,
        function: "forgot-password",
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password/reset",
        route: Route::ResetPassword,
        api_key: true,
        function: "reset-password",
    },
    RouteSpec { method: "GET", path: "/.well-known/jwks.json", route: Route::Jwks, api_key: false, function: "jwks" },
];

#[derive(Debug)]
pub enum Resolution {
    Found(&'static RouteSpec, HashMap<String, String>),
    MethodNotAllowed,
    NotFound,
}

fn match_path(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {
                params.insert(w[1..w.len() - 1].to_owned(), g.to_owned());
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

pub fn resolve(method: &Method, path: &str) -> Resolution {
    let mut path_known = false;
    for spec in ROUTES {
        if let Some(params) = match_path(spec.path, path) {
            if spec.method == method.as_str() {
                return Resolution::Found(spec, params);
            }
            path_known = true;
        }
    }
    if path_known {
        Resolution::MethodNotAllowed
    } else {
        Resolution::NotFound
    }
}

impl Route {
    /// The per-IP window a route counts against (see `config::DEFAULT_PER_MINUTE`), if any,
    /// and which of its requests count.
    pub fn rate_policy(self) -> Option<(&'static str, RateCount)> {
        use RateCount::{EveryRequest, InHandler, RefusedToken};
        Some(match self {
            Route::Register => ("register", EveryRequest),
            Route::Guest => ("guest", EveryRequest),
            Route::Login => ("login", InHandler),
            Route::Refresh => ("refresh", RefusedToken),
            Route::Verify => ("verify", RefusedToken),
            Route::ForgotPassword => ("forgot", EveryRequest),
            Route::RequestVerification => ("verification", EveryRequest),
            Route::VerifyEmail => ("email_verify", EveryRequest),
            Route::ResetPassword => ("reset", EveryRequest),
            Route::ChangePassword => ("password", EveryRequest),
            Route::GuestUpgrade => ("upgrade", EveryRequest),
            Route::DeleteMe => ("delete_account", EveryRequest),
            Route::UpdateMe => ("update_profile", EveryRequest),
            Route::GetMe
            | Route::Logout
            | Route::ListSessions
            | Route::DeleteSession
            | Route::Jwks
            | Route::Fallback => return None,
        })
    }
}

/// Which requests of a route count against its per-IP window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateCount {
    /// Every request, before the handler runs (routes that hash, mail or create).
    EveryRequest,
    /// Only requests whose token is refused (401), counted after the handler: a per-IP window
    /// exists to stop token guessing, a valid token is proof of possession, and its one
    /// conditional write stays the route's only database round trip. Once the window is full,
    /// refused tokens are answered 429 instead of 401.
    RefusedToken,
    /// The handler counts it itself, alongside its first read (`/login`).
    InHandler,
}

/// A route's handler as a plain function pointer, so a Lambda's `main` can name only its own
/// handler and the linker drops every other one (smaller binaries, faster links).
pub type Handler = for<'a> fn(&'a AppState, &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, ApiError>>;
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// One entry point per route, each naming only its own handler.
pub mod entry {
    use super::*;

    macro_rules! entries {
        ($($name:ident => $handler:path),* $(,)?) => {$(
            pub fn $name<'a>(state: &'a AppState, req: &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, ApiError>> {
                Box::pin($handler(state, req))
            }
        )*};
    }

    entries! {
        register => handlers::register::handle,
        login => handlers::login::handle,
        refresh => handlers::refresh::handle,
        verify => handlers::verify::handle,
        logout => handlers::logout::handle,
        get_me => handlers::me::get,
        update_me => handlers::me::update,
        delete_me => handlers::me::delete,
        change_password => handlers::password::change,
        list_sessions => handlers::sessions::list,
        delete_session => handlers::sessions::delete,
        guest => handlers::guest::create,
        guest_upgrade => handlers::guest::upgrade,
        request_verification => handlers::email::request_verification,
        verify_email => handlers::email::verify_email,
        forgot_password => handlers::email::forgot,
        reset_password => handlers::email::reset,
        jwks => jwks_handler,
        fallback => fallback_handler,
    }

    async fn jwks_handler(state: &AppState, _: &ApiRequest) -> Result<ApiResponse, ApiError> {
        Ok(handlers::jwks::handle(state))
    }

    async fn fallback_handler(_: &AppState, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
        Err(match resolve(&req.method, &req.path) {
            Resolution::MethodNotAllowed => ApiError::MethodNotAllowed,
            _ => ApiError::NotFound,
        })
    }
}

impl Route {
    /// The handler of this route (the local server and tests dispatch through this).
    pub fn handler(self) -> Handler {
        match self {
            Route::Register => entry::register,
            Route::Login => entry::login,
            Route::Refresh => entry::refresh,
            Route::Verify => entry::verify,
            Route::Logout => entry::logout,
            Route::GetMe => entry::get_me,
            Route::UpdateMe => entry::update_me,
            Route::DeleteMe => entry::delete_me,
            Route::ChangePassword => entry::change_password,
            Route::ListSessions => entry::list_sessions,
            Route::DeleteSession => entry::delete_session,
            Route::Guest => entry::guest,
            Route::GuestUpgrade => entry::guest_upgrade,
            Route::RequestVerification => entry::request_verification,
            Route::VerifyEmail => entry::verify_email,
            Route::ForgotPassword => entry::forgot_password,
            Route::ResetPassword => entry::reset_password,
            Route::Jwks => entry::jwks,
            Route::Fallback => entry::fallback,
        }
    }
}

async fn handle(state: &AppState, route: Route, handler: Handler, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    match route.rate_policy() {
        Some((scope, RateCount::EveryRequest)) => {
            crate::rate::check_ip(state, scope, req).await?;
            handler(state, req).await
        }
        Some((scope, RateCount::RefusedToken)) => match handler(state, req).await {
            Err(refused) if refused.status() == http::StatusCode::UNAUTHORIZED => {
                crate::rate::check_ip(state, scope, req).await?;
                Err(refused)
            }
            answered => answered,
        },
        Some((_, RateCount::InHandler)) | None => handler(state, req).await,
    }
}

/// Dispatches through the route table (local server, tests).
pub async fn respond(state: Arc<AppState>, route: Route, req: ApiRequest) -> ApiResponse {
    respond_with(state, route, route.handler(), req).await
}

/// Runs a route's handler and turns every outcome, a panic included, into a response.
/// Handlers never return `Err` to the runtime: that would become an opaque 502.
pub async fn respond_with(state: Arc<AppState>, route: Route, handler: Handler, req: ApiRequest) -> ApiResponse {
    let started = Instant::now();
    let request_id = req.request_id.clone();
    let method = req.method.clone();
    let path = req.path.clone();
    let outcome = tokio::spawn(async move { handle(&state, route, handler, &req).await }).await;
    let response = match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => problem(&error, &request_id),
        Err(join_error) => problem(&ApiError::internal(join_error.to_string()), &request_id),
    };
    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %path,
        route = ?route,
        status = response.status.as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// The problem response of an error, logging 5xx causes (which the client never sees).
pub fn problem(error: &ApiError, request_id: &str) -> ApiResponse {
    if error.status().is_server_error() {
        let mut chain = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(error);
        while let Some(c) = cause {
            chain.push(c.to_string());
            cause = c.source();
        }
        tracing::error!(request_id = %request_id, code = error.code(), cause = %chain.join(": "), "server error");
    }
    error.to_response(request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_resolve_to_their_routes() {
        let Resolution::Found(spec, _) = resolve(&Method::POST, "/api/v1/auth/login") else { panic!("login") };
        assert_eq!(spec.route, Route::Login);
        let Resolution::Found(spec, _) = resolve(&Method::GET, "/.well-known/jwks.json") else { panic!("jwks") };
        assert!(!spec.api_key);
    }

    #[test]
    fn wrong_methods_are_405_and_unknown_paths_404() {
        assert!(matches!(resolve(&Method::GET, "/api/v1/auth/login"), Resolution::MethodNotAllowed));
        assert!(matches!(resolve(&Method::GET, "/api/v1/auth/me/extra"), Resolution::NotFound));
        assert!(matches!(resolve(&Method::GET, "/api/v1/auth/v2/login"), Resolution::NotFound));
    }

    #[test]
    fn template_segments_become_path_parameters() {
        let params = match_path("/a/{id}/b", "/a/42/b").expect("match");
        assert_eq!(params["id"], "42");
        assert!(match_path("/a/{id}/b", "/a//b").is_none());
    }
}
