//! Every route, declared once: method, path, API key, the function that serves it in AWS, its
//! per-IP rate limit, its wire format and its handler. The local server and the tests route
//! with [`ROUTES`], the fallback Lambda answers 404/405 with it, and tests hold
//! `template.yaml` and `openapi.yaml` to it.
//!
//! Adding an endpoint: one line in `routes!` below, one handler module, one function crate
//! under `functions/` naming its entry, one SAM resource, and its `openapi.yaml` path (the
//! README's checklist; `tests/integration/{template,openapi}.rs` fail until all agree).

use std::collections::HashMap;

use http::Method;

use crate::error::Error;
use crate::rate_scope::RateScope;
use crate::state::AppState;
use crate::web::request::ApiRequest;
use crate::web::response::ApiResponse;
use crate::wire::Wire;

#[derive(Debug)]
pub struct RouteSpec {
    pub method: &'static str,
    /// `{name}` segments match one path segment and become path parameters.
    pub path: &'static str,
    pub route: Route,
    pub api_key: bool,
    /// The binary (and SAM `BuildProperties.Binary`) that serves this route in AWS.
    pub function: &'static str,
    pub rate: RatePolicy,
    /// The wire format its outcomes and failures are written in.
    pub wire: Wire,
}

/// Which requests of a route count against a per-IP window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatePolicy {
    /// None: routes that only read the caller's own records or end its sessions.
    Unlimited,
    /// Every request, before the handler runs (routes that hash, mail or create).
    EveryRequest(RateScope),
    /// Only requests whose token is refused, counted after the handler: a per-IP window
    /// exists to stop token guessing, a valid token is proof of possession, and its one
    /// conditional write stays the route's only database round trip. Once the window is full,
    /// refused tokens are answered 429 instead of 401.
    RefusedTokens(RateScope),
    /// The handler counts it itself, alongside its first read (`/login`).
    InHandler(RateScope),
}

impl RatePolicy {
    pub fn scope(self) -> Option<RateScope> {
        match self {
            RatePolicy::Unlimited => None,
            RatePolicy::EveryRequest(s) | RatePolicy::RefusedTokens(s) | RatePolicy::InHandler(s) => Some(s),
        }
    }
}

/// A route's entry as a plain function pointer: its handler, with the outcome written in the
/// route's wire format. A Lambda's `main` names only its own, so the linker drops every other
/// handler and the writing of answers it never gives (smaller binaries, faster links).
pub type Handler = for<'a> fn(&'a AppState, &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, Error>>;
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub const API_PREFIX: &str = "/api/v1/auth";

/// Generates, from one line per route: the [`Route`] enum, [`ROUTES`], one function per route
/// in [`entry`] (what a Lambda's `main` names), and [`Route::handler`].
macro_rules! routes {
    ($(
        $route:ident: $method:ident $path:literal,
        key: $key:literal, function: $function:literal, rate: $rate:expr, wire: $wire:ident,
        $entry:ident => $handler:path;
    )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route {
            $($route,)*
            /// Answers 404 or 405 for whatever no other route takes.
            Fallback,
        }

        pub static ROUTES: &[RouteSpec] = &[$(
            RouteSpec {
                method: stringify!($method),
                path: $path,
                route: Route::$route,
                api_key: $key,
                function: $function,
                rate: $rate,
                wire: Wire::$wire,
            },
        )*];

        /// One entry point per route, each naming only its own handler.
        pub mod entry {
            use super::*;

            $(
                pub fn $entry<'a>(state: &'a AppState, req: &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, Error>> {
                    Box::pin(async move { Ok(Route::$route.wire().encode($handler(state, req).await?)) })
                }
            )*

            pub fn fallback<'a>(_: &'a AppState, req: &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, Error>> {
                Box::pin(std::future::ready(Err(match resolve(&req.method, &req.path) {
                    Resolution::MethodNotAllowed => Error::MethodNotAllowed,
                    _ => Error::NotFound,
                })))
            }
        }

        impl Route {
            /// The handler of this route (the local server and tests dispatch through this).
            pub fn handler(self) -> Handler {
                match self {
                    $(Route::$route => entry::$entry,)*
                    Route::Fallback => entry::fallback,
                }
            }
        }
    };
}

use RatePolicy::{EveryRequest, InHandler, RefusedTokens, Unlimited};
use RateScope as S;

routes! {
    Register: POST "/api/v1/auth/register",
        key: true, function: "register", rate: EveryRequest(S::Register), wire: Native,
        register => crate::handlers::register::handle;
    Login: POST "/api/v1/auth/login",
        key: true, function: "login", rate: InHandler(S::Login), wire: Native,
        login => crate::handlers::login::handle;
    Refresh: POST "/api/v1/auth/refresh",
        key: true, function: "refresh", rate: RefusedTokens(S::Refresh), wire: Native,
        refresh => crate::handlers::refresh::handle;
    Verify: POST "/api/v1/auth/verify",
        key: true, function: "verify", rate: RefusedTokens(S::Verify), wire: Native,
        verify => crate::handlers::verify::handle;
    Logout: POST "/api/v1/auth/logout",
        key: true, function: "logout", rate: Unlimited, wire: Native,
        logout => crate::handlers::logout::handle;
    GetMe: GET "/api/v1/auth/me",
        key: true, function: "get-me", rate: Unlimited, wire: Native,
        get_me => crate::handlers::me::get;
    UpdateMe: PATCH "/api/v1/auth/me",
        key: true, function: "update-me", rate: EveryRequest(S::UpdateProfile), wire: Native,
        update_me => crate::handlers::me::update;
    DeleteMe: DELETE "/api/v1/auth/me",
        key: true, function: "delete-me", rate: EveryRequest(S::DeleteAccount), wire: Native,
        delete_me => crate::handlers::me::delete;
    ChangePassword: POST "/api/v1/auth/password",
        key: true, function: "change-password", rate: EveryRequest(S::Password), wire: Native,
        change_password => crate::handlers::password::change;
    ListSessions: GET "/api/v1/auth/sessions",
        key: true, function: "list-sessions", rate: Unlimited, wire: Native,
        list_sessions => crate::handlers::sessions::list;
    DeleteSession: DELETE "/api/v1/auth/sessions/{id}",
        key: true, function: "delete-session", rate: Unlimited, wire: Native,
        delete_session => crate::handlers::sessions::delete;
    Guest: POST "/api/v1/auth/guest",
        key: true, function: "guest", rate: EveryRequest(S::Guest), wire: Native,
        guest => crate::handlers::guest::create;
    GuestUpgrade: POST "/api/v1/auth/guest/upgrade",
        key: true, function: "guest-upgrade", rate: EveryRequest(S::Upgrade), wire: Native,
        guest_upgrade => crate::handlers::guest::upgrade;
    RequestVerification: POST "/api/v1/auth/email/verification",
        key: true, function: "request-verification", rate: EveryRequest(S::Verification), wire: Native,
        request_verification => crate::handlers::email::request_verification;
    VerifyEmail: POST "/api/v1/auth/email/verify",
        key: true, function: "verify-email", rate: EveryRequest(S::EmailVerify), wire: Native,
        verify_email => crate::handlers::email::verify_email;
    ForgotPassword: POST "/api/v1/auth/password/forgot",
        key: true, function: "forgot-password", rate: EveryRequest(S::Forgot), wire: Native,
        forgot_password => crate::handlers::email::forgot;
    ResetPassword: POST "/api/v1/auth/password/reset",
        key: true, function: "reset-password", rate: EveryRequest(S::Reset), wire: Native,
        reset_password => crate::handlers::email::reset;
    Jwks: GET "/.well-known/jwks.json",
        key: false, function: "jwks", rate: Unlimited, wire: Native,
        jwks => crate::handlers::jwks::handle;
}

impl Route {
    /// This route's declaration; the fallback has none. `ROUTES` lists the routes in the
    /// order of the enum, both being generated from the one declaration.
    pub fn spec(self) -> Option<&'static RouteSpec> {
        ROUTES.get(self as usize)
    }

    pub fn rate(self) -> RatePolicy {
        self.spec().map_or(RatePolicy::Unlimited, |spec| spec.rate)
    }

    /// The wire format of this route's answers (the fallback answers natively).
    pub fn wire(self) -> Wire {
        self.spec().map_or(Wire::Native, |spec| spec.wire)
    }
}

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

    #[test]
    fn every_rate_scope_is_counted_by_exactly_one_route() {
        for scope in RateScope::ALL {
            let routes: Vec<Route> =
                ROUTES.iter().filter(|spec| spec.rate.scope() == Some(scope)).map(|spec| spec.route).collect();
            assert_eq!(routes.len(), 1, "{scope:?} is counted by {routes:?}");
        }
    }

    #[test]
    fn each_route_is_declared_once_with_a_function_of_its_own() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(a.route != b.route && a.function != b.function, "{a:?} / {b:?}");
                assert!((a.method, a.path) != (b.method, b.path), "{a:?} / {b:?}");
            }
        }
    }

    #[test]
    fn login_counts_the_scope_its_route_declares() {
        assert_eq!(Route::Login.rate(), RatePolicy::InHandler(crate::handlers::login::SCOPE));
    }

    #[test]
    fn every_route_finds_its_own_declaration() {
        for spec in ROUTES {
            assert_eq!(spec.route.spec().map(|s| s.function), Some(spec.function));
        }
        assert!(Route::Fallback.spec().is_none());
    }
}
