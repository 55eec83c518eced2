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

use crate::config::ConfigError;
use crate::error::Error;
use crate::profile::{Profile, Profiles};
use crate::rate_scope::RateScope;
use crate::state::AppState;
use crate::web::request::ApiRequest;
use crate::web::response::ApiResponse;

#[derive(Debug)]
pub struct RouteSpec {
    pub method: &'static str,
    /// `{name}` segments match one path segment and become path parameters.
    pub path: &'static str,
    pub route: Route,
    /// What API Gateway requires before the request reaches a function.
    pub gate: Gate,
    /// The binary (and SAM `BuildProperties.Binary`) that serves this route in AWS.
    pub function: &'static str,
    pub rate: RatePolicy,
    /// The profile it belongs to, whose wire format its outcomes and failures are written in.
    pub profile: Profile,
}

/// What API Gateway checks before a route's function runs (the local server checks the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The public API's `x-api-key` (and its usage plan).
    ApiKey,
    /// Nothing (public documents; profile routes unless `ProfileRoutesRequireApiKey`).
    Open,
    /// A SigV4 signature of an IAM principal allowed `execute-api:Invoke` on the route (the
    /// admin API); locally, `x-admin-key`. The API key never opens it.
    Iam,
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
        gate: $gate:ident, function: $function:literal, rate: $rate:expr, profile: $profile:ident,
        $entry:ident => $handler:path $(, decode: $decode:path)?;
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
                gate: Gate::$gate,
                function: $function,
                rate: $rate,
                profile: Profile::$profile,
            },
        )*];

        /// One entry point per route, each naming only its own handler.
        pub mod entry {
            use super::*;

            $(
                pub fn $entry<'a>(state: &'a AppState, req: &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, Error>> {
                    Box::pin(async move {
                        // A profile's request, read into the native one its handler reads.
                        $(let decoded = $decode(state, req)?; let req = &decoded;)?
                        Ok(crate::wire::Encode::encode($handler(state, req).await?, &crate::wire::$profile))
                    })
                }
            )*

            pub fn fallback<'a>(state: &'a AppState, req: &'a ApiRequest) -> BoxFuture<'a, Result<ApiResponse, Error>> {
                Box::pin(std::future::ready(Err(match resolve(&req.method, &req.path, state.config.profiles) {
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

use crate::wire::book_corners::decode as bc;
use crate::wire::bookwish::decode as bw;
use crate::wire::session_api::decode as sa;
use crate::wire::simplejwt::decode as sj;
use crate::wire::universal::decode as ub;
use RatePolicy::{EveryRequest, InHandler, RefusedTokens, Unlimited};
use RateScope as S;

routes! {
    Register: POST "/api/v1/auth/register",
        gate: ApiKey, function: "register", rate: EveryRequest(S::Register), profile: Bookshelf,
        register => crate::handlers::register::handle;
    Login: POST "/api/v1/auth/login",
        gate: ApiKey, function: "login", rate: InHandler(S::Login), profile: Bookshelf,
        login => crate::handlers::login::handle;
    Refresh: POST "/api/v1/auth/refresh",
        gate: ApiKey, function: "refresh", rate: RefusedTokens(S::Refresh), profile: Bookshelf,
        refresh => crate::handlers::refresh::handle;
    Verify: POST "/api/v1/auth/verify",
        gate: ApiKey, function: "verify", rate: RefusedTokens(S::Verify), profile: Bookshelf,
        verify => crate::handlers::verify::handle;
    Logout: POST "/api/v1/auth/logout",
        gate: ApiKey, function: "logout", rate: Unlimited, profile: Bookshelf,
        logout => crate::handlers::logout::handle;
    GetMe: GET "/api/v1/auth/me",
        gate: ApiKey, function: "get-me", rate: Unlimited, profile: Bookshelf,
        get_me => crate::handlers::me::get;
    UpdateMe: PATCH "/api/v1/auth/me",
        gate: ApiKey, function: "update-me", rate: EveryRequest(S::UpdateProfile), profile: Bookshelf,
        update_me => crate::handlers::me::update;
    DeleteMe: DELETE "/api/v1/auth/me",
        gate: ApiKey, function: "delete-me", rate: EveryRequest(S::DeleteAccount), profile: Bookshelf,
        delete_me => crate::handlers::me::delete;
    ChangePassword: POST "/api/v1/auth/password",
        gate: ApiKey, function: "change-password", rate: EveryRequest(S::Password), profile: Bookshelf,
        change_password => crate::handlers::password::change;
    ListSessions: GET "/api/v1/auth/sessions",
        gate: ApiKey, function: "list-sessions", rate: Unlimited, profile: Bookshelf,
        list_sessions => crate::handlers::sessions::list;
    DeleteSession: DELETE "/api/v1/auth/sessions/{id}",
        gate: ApiKey, function: "delete-session", rate: Unlimited, profile: Bookshelf,
        delete_session => crate::handlers::sessions::delete;
    Guest: POST "/api/v1/auth/guest",
        gate: ApiKey, function: "guest", rate: EveryRequest(S::Guest), profile: Bookshelf,
        guest => crate::handlers::guest::create;
    GuestUpgrade: POST "/api/v1/auth/guest/upgrade",
        gate: ApiKey, function: "guest-upgrade", rate: EveryRequest(S::Upgrade), profile: Bookshelf,
        guest_upgrade => crate::handlers::guest::upgrade;
    RequestVerification: POST "/api/v1/auth/email/verification",
        gate: ApiKey, function: "request-verification", rate: EveryRequest(S::Verification), profile: Bookshelf,
        request_verification => crate::handlers::email::request_verification;
    VerifyEmail: POST "/api/v1/auth/email/verify",
        gate: ApiKey, function: "verify-email", rate: EveryRequest(S::EmailVerify), profile: Bookshelf,
        verify_email => crate::handlers::email::verify_email;
    ForgotPassword: POST "/api/v1/auth/password/forgot",
        gate: ApiKey, function: "forgot-password", rate: EveryRequest(S::Forgot), profile: Bookshelf,
        forgot_password => crate::handlers::email::forgot;
    ResetPassword: POST "/api/v1/auth/password/reset",
        gate: ApiKey, function: "reset-password", rate: EveryRequest(S::Reset), profile: Bookshelf,
        reset_password => crate::handlers::email::reset;
    Jwks: GET "/.well-known/jwks.json",
        gate: Open, function: "jwks", rate: Unlimited, profile: Bookshelf,
        jwks => crate::handlers::jwks::handle;
    SocialSignIn: POST "/api/v1/auth/social/{provider}",
        gate: ApiKey, function: "social-sign-in", rate: EveryRequest(S::Social), profile: Bookshelf,
        social_sign_in => crate::handlers::social::sign_in;
    ListIdentities: GET "/api/v1/auth/identities",
        gate: ApiKey, function: "list-identities", rate: Unlimited, profile: Bookshelf,
        list_identities => crate::handlers::social::list;
    LinkIdentity: POST "/api/v1/auth/identities/{provider}",
        gate: ApiKey, function: "link-identity", rate: Unlimited, profile: Bookshelf,
        link_identity => crate::handlers::social::link;
    UnlinkIdentity: DELETE "/api/v1/auth/identities/{provider}",
        gate: ApiKey, function: "unlink-identity", rate: Unlimited, profile: Bookshelf,
        unlink_identity => crate::handlers::social::unlink;
    OpenidConfiguration: GET "/.well-known/openid-configuration",
        gate: Open, function: "openid-configuration", rate: Unlimited, profile: Bookshelf,
        openid_configuration => crate::handlers::jwks::discovery;

    // Book Corners (profiles.md, `book-corners`).
    BookCornersRegister: POST "/api/v1/auth/register",
        gate: Open, function: "register", rate: EveryRequest(S::Register), profile: BookCorners,
        book_corners_register => crate::handlers::register::handle, decode: bc::decode_register;
    BookCornersLogin: POST "/api/v1/auth/login",
        gate: Open, function: "login", rate: InHandler(S::Login), profile: BookCorners,
        book_corners_login => crate::handlers::login::handle, decode: bc::decode_login;
    BookCornersRefresh: POST "/api/v1/auth/refresh",
        gate: Open, function: "refresh", rate: RefusedTokens(S::Refresh), profile: BookCorners,
        book_corners_refresh => crate::handlers::refresh::handle, decode: bc::decode_refresh;
    BookCornersMe: GET "/api/v1/auth/me",
        gate: Open, function: "get-me", rate: Unlimited, profile: BookCorners,
        book_corners_me => crate::handlers::me::get;

    // The session-style API (`session-api`).
    SessionApiRegister: POST "/api/v1/auth/register",
        gate: Open, function: "register", rate: EveryRequest(S::Register), profile: SessionApi,
        session_api_register => crate::handlers::register::handle, decode: sa::decode_register;
    SessionApiLogin: POST "/api/v1/auth/login",
        gate: Open, function: "login", rate: InHandler(S::Login), profile: SessionApi,
        session_api_login => crate::handlers::login::handle, decode: sa::decode_login;
    SessionApiLogout: POST "/api/v1/auth/logout",
        gate: Open, function: "logout", rate: Unlimited, profile: SessionApi,
        session_api_logout => crate::handlers::logout::handle, decode: crate::wire::reading::without_body;
    SessionApiMe: GET "/api/v1/auth/me",
        gate: Open, function: "get-me", rate: Unlimited, profile: SessionApi,
        session_api_me => crate::handlers::me::get;
    SessionApiUpdateMe: PATCH "/api/v1/auth/me",
        gate: Open, function: "update-me", rate: EveryRequest(S::UpdateProfile), profile: SessionApi,
        session_api_update_me => crate::handlers::me::update, decode: sa::decode_update;

    // Universal Bookshelf (`universal-bookshelf`).
    UniversalSignup: POST "/api/signup",
        gate: Open, function: "register", rate: EveryRequest(S::Register), profile: UniversalBookshelf,
        universal_signup => crate::handlers::register::handle, decode: ub::decode_signup;
    UniversalLogin: POST "/api/login",
        gate: Open, function: "login", rate: InHandler(S::Login), profile: UniversalBookshelf,
        universal_login => crate::handlers::login::handle, decode: ub::decode_login;
    UniversalLogout: POST "/api/logout",
        gate: Open, function: "logout", rate: Unlimited, profile: UniversalBookshelf,
        universal_logout => crate::handlers::logout::handle, decode: crate::wire::reading::without_body;
    UniversalRefresh: POST "/api/refresh",
        gate: Open, function: "refresh", rate: EveryRequest(S::Refresh), profile: UniversalBookshelf,
        universal_refresh => crate::handlers::refresh::exchange;
    UniversalProfile: GET "/api/user/profile",
        gate: Open, function: "get-me", rate: Unlimited, profile: UniversalBookshelf,
        universal_profile => crate::handlers::me::get;
    UniversalUpdateProfile: PUT "/api/user/profile",
        gate: Open, function: "update-me", rate: EveryRequest(S::UpdateProfile), profile: UniversalBookshelf,
        universal_update_profile => crate::handlers::me::update, decode: ub::decode_update;
    UniversalChangePassword: PUT "/api/user/change-password",
        gate: Open, function: "change-password", rate: EveryRequest(S::Password), profile: UniversalBookshelf,
        universal_change_password => crate::handlers::password::change, decode: ub::decode_change_password;
    UniversalVerification: POST "/api/email/verification-notification",
        gate: Open, function: "request-verification", rate: EveryRequest(S::Verification), profile: UniversalBookshelf,
        universal_verification => crate::handlers::email::request_verification, decode: crate::wire::reading::without_body;

    // The simplejwt API (`simplejwt`).
    SimplejwtToken: POST "/auth/token",
        gate: Open, function: "login", rate: InHandler(S::Login), profile: Simplejwt,
        simplejwt_token => crate::handlers::login::handle, decode: sj::decode_token;
    SimplejwtRefresh: POST "/auth/token/refresh",
        gate: Open, function: "refresh", rate: RefusedTokens(S::Refresh), profile: Simplejwt,
        simplejwt_refresh => crate::handlers::refresh::handle, decode: sj::decode_refresh;
    SimplejwtVerify: POST "/auth/token/verify",
        gate: Open, function: "verify", rate: RefusedTokens(S::Verify), profile: Simplejwt,
        simplejwt_verify => crate::handlers::verify::handle, decode: sj::decode_verify;
    SimplejwtRegister: POST "/auth/register",
        gate: Open, function: "register", rate: EveryRequest(S::Register), profile: Simplejwt,
        simplejwt_register => crate::handlers::register::handle, decode: sj::decode_register;
    SimplejwtGetUser: GET "/auth/getuser",
        gate: Open, function: "get-me", rate: Unlimited, profile: Simplejwt,
        simplejwt_get_user => crate::handlers::me::get;

    // BookWish (`bookwish`).
    BookwishGuest: POST "/auth/guest",
        gate: Open, function: "guest", rate: EveryRequest(S::Guest), profile: Bookwish,
        bookwish_guest => crate::handlers::guest::create, decode: bw::decode_guest;
    BookwishSignup: POST "/auth/signup",
        gate: Open, function: "register", rate: EveryRequest(S::Register), profile: Bookwish,
        bookwish_signup => crate::handlers::register::handle, decode: bw::decode_signup;
    BookwishLogin: POST "/auth/login",
        gate: Open, function: "login", rate: InHandler(S::Login), profile: Bookwish,
        bookwish_login => crate::handlers::login::handle, decode: bw::decode_login;
    BookwishMigrateGuest: POST "/auth/migrate-guest",
        gate: Open, function: "guest-upgrade", rate: EveryRequest(S::Upgrade), profile: Bookwish,
        bookwish_migrate_guest => crate::handlers::guest::upgrade, decode: bw::decode_migrate;
    BookwishRefresh: POST "/auth/refresh",
        gate: Open, function: "refresh", rate: RefusedTokens(S::Refresh), profile: Bookwish,
        bookwish_refresh => crate::handlers::refresh::handle, decode: bw::decode_refresh;
    BookwishLogout: POST "/auth/logout",
        gate: Open, function: "logout", rate: Unlimited, profile: Bookwish,
        bookwish_logout => crate::handlers::logout::handle, decode: bw::decode_logout;
    BookwishMe: GET "/users/me",
        gate: Open, function: "get-me", rate: Unlimited, profile: Bookwish,
        bookwish_me => crate::handlers::me::get;
    BookwishSocial: POST "/auth/social/{provider}",
        gate: Open, function: "social-sign-in", rate: EveryRequest(S::Social), profile: Bookwish,
        bookwish_social => crate::handlers::social::sign_in, decode: bw::decode_social;

    // The back office (`/admin/v1`): IAM-signed callers only.
    AdminListUsers: GET "/admin/v1/users",
        gate: Iam, function: "admin-list-users", rate: Unlimited, profile: Bookshelf,
        admin_list_users => crate::handlers::admin::list_users;
    AdminGetUser: GET "/admin/v1/users/{id}",
        gate: Iam, function: "admin-get-user", rate: Unlimited, profile: Bookshelf,
        admin_get_user => crate::handlers::admin::get_user;
    AdminUpdateUser: PATCH "/admin/v1/users/{id}",
        gate: Iam, function: "admin-update-user", rate: Unlimited, profile: Bookshelf,
        admin_update_user => crate::handlers::admin::update_user;
    AdminDeleteUser: DELETE "/admin/v1/users/{id}",
        gate: Iam, function: "admin-delete-user", rate: Unlimited, profile: Bookshelf,
        admin_delete_user => crate::handlers::admin::delete_user;
    AdminEndSessions: DELETE "/admin/v1/users/{id}/sessions",
        gate: Iam, function: "admin-end-sessions", rate: Unlimited, profile: Bookshelf,
        admin_end_sessions => crate::handlers::admin::end_sessions;
    AdminEndSession: DELETE "/admin/v1/users/{id}/sessions/{sid}",
        gate: Iam, function: "admin-end-session", rate: Unlimited, profile: Bookshelf,
        admin_end_session => crate::handlers::admin::end_session;
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

    /// The profile of this route, whose wire format it answers in (the fallback: native).
    pub fn profile(self) -> Profile {
        self.spec().map_or(Profile::Bookshelf, |spec| spec.profile)
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

/// The route of an enabled profile that serves `method` and `path`. A non-native profile's
/// route wins over the native one of the same method and path (`profiles.md`); start-up has
/// made sure no two enabled non-native profiles claim one.
pub fn resolve(method: &Method, path: &str, enabled: Profiles) -> Resolution {
    let mut path_known = false;
    let mut native = None;
    for spec in ROUTES.iter().filter(|spec| enabled.contains(spec.profile)) {
        if let Some(params) = match_path(spec.path, path) {
            if spec.method != method.as_str() {
                path_known = true;
            } else if spec.profile == Profile::Bookshelf {
                native = Some((spec, params));
            } else {
                return Resolution::Found(spec, params);
            }
        }
    }
    match native {
        Some((spec, params)) => Resolution::Found(spec, params),
        None if path_known => Resolution::MethodNotAllowed,
        None => Resolution::NotFound,
    }
}

/// Refuses a set of profiles in which two non-native profiles claim one method and path,
/// naming both.
pub fn check_profiles(enabled: Profiles) -> Result<(), ConfigError> {
    let claimed = || ROUTES.iter().filter(|s| s.profile != Profile::Bookshelf && enabled.contains(s.profile));
    for a in claimed() {
        if let Some(b) = claimed().find(|b| b.profile > a.profile && (b.method, b.path) == (a.method, a.path)) {
            return Err(ConfigError {
                name: "API_PROFILES",
                reason: format!(
                    "profiles {} and {} both serve {} {}; enable one of them",
                    a.profile.name(),
                    b.profile.name(),
                    a.method,
                    a.path
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native() -> Profiles {
        Profiles::default()
    }

    fn route_of(method: Method, path: &str, enabled: &str) -> Option<Route> {
        match resolve(&method, path, Profiles::parse(enabled).expect("profiles")) {
            Resolution::Found(spec, _) => Some(spec.route),
            _ => None,
        }
    }

    #[test]
    fn known_paths_resolve_to_their_routes() {
        let Resolution::Found(spec, _) = resolve(&Method::POST, "/api/v1/auth/login", native()) else {
            panic!("login")
        };
        assert_eq!(spec.route, Route::Login);
        let Resolution::Found(spec, _) = resolve(&Method::GET, "/.well-known/jwks.json", native()) else {
            panic!("jwks")
        };
        assert_eq!(spec.gate, Gate::Open);
    }

    #[test]
    fn wrong_methods_are_405_and_unknown_paths_404() {
        assert!(matches!(resolve(&Method::GET, "/api/v1/auth/login", native()), Resolution::MethodNotAllowed));
        assert!(matches!(resolve(&Method::GET, "/api/v1/auth/me/extra", native()), Resolution::NotFound));
        assert!(matches!(resolve(&Method::GET, "/api/v1/auth/v2/login", native()), Resolution::NotFound));
    }

    #[test]
    fn a_profile_route_that_is_not_enabled_is_not_found() {
        assert_eq!(route_of(Method::POST, "/auth/guest", "bookshelf"), None);
        assert_eq!(route_of(Method::POST, "/auth/guest", "bookshelf,bookwish"), Some(Route::BookwishGuest));
        assert!(matches!(resolve(&Method::POST, "/auth/token", native()), Resolution::NotFound));
    }

    #[test]
    fn an_enabled_profile_takes_the_native_route_of_its_method_and_path() {
        assert_eq!(
            route_of(Method::POST, "/api/v1/auth/login", "bookshelf,book-corners"),
            Some(Route::BookCornersLogin)
        );
        assert_eq!(route_of(Method::PATCH, "/api/v1/auth/me", "book-corners"), Some(Route::UpdateMe));
        assert_eq!(route_of(Method::PATCH, "/api/v1/auth/me", "session-api"), Some(Route::SessionApiUpdateMe));
        assert_eq!(route_of(Method::GET, "/api/v1/auth/sessions", "session-api"), Some(Route::ListSessions));
    }

    #[test]
    fn two_profiles_that_claim_one_route_refuse_start_up_naming_both() {
        let error = check_profiles(Profiles::parse("bookshelf,session-api,book-corners").expect("names"))
            .expect_err("collision");
        assert_eq!(error.name, "API_PROFILES");
        assert!(error.reason.contains("book-corners") && error.reason.contains("session-api"), "{}", error.reason);
        let together = Profiles::parse("bookshelf,simplejwt,bookwish,universal-bookshelf").expect("names");
        assert!(check_profiles(together).is_ok());
    }

    #[test]
    fn template_segments_become_path_parameters() {
        let params = match_path("/a/{id}/b", "/a/42/b").expect("match");
        assert_eq!(params["id"], "42");
        assert!(match_path("/a/{id}/b", "/a//b").is_none());
    }

    #[test]
    fn every_rate_scope_is_counted_by_exactly_one_function() {
        for scope in RateScope::ALL {
            let mut functions: Vec<&str> =
                ROUTES.iter().filter(|spec| spec.rate.scope() == Some(scope)).map(|spec| spec.function).collect();
            functions.dedup();
            assert_eq!(functions.len(), 1, "{scope:?} is counted by {functions:?}");
        }
    }

    #[test]
    fn each_native_route_has_a_function_of_its_own_and_profiles_reuse_them() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(a.route != b.route, "{a:?} / {b:?}");
                if a.profile == b.profile {
                    assert!((a.method, a.path) != (b.method, b.path), "{a:?} / {b:?}");
                }
                if a.profile == Profile::Bookshelf && b.profile == Profile::Bookshelf {
                    assert!(a.function != b.function, "{a:?} / {b:?}");
                }
            }
        }
        for spec in ROUTES.iter().filter(|s| s.profile != Profile::Bookshelf) {
            assert!(
                ROUTES.iter().any(|n| n.profile == Profile::Bookshelf && n.function == spec.function),
                "{spec:?} needs a function of its own"
            );
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
