//! `openapi.yaml` documents exactly the native service, `openapi/<profile>.yaml` each client
//! profile and `openapi/admin.yaml` the admin API (the `Gate::Iam` routes): together the API
//! events of `template.yaml`, each the route table's routes it covers, what the local server
//! answers, and (natively) every error code an `Error` can have.

use std::collections::BTreeSet;

use bookshelf::error::CODES;
use bookshelf::profile::Profile;
use bookshelf::routes::{Gate, RouteSpec, ROUTES};
use bookshelf_tests::{http, serve_http, workspace_root, TestApp};
use serde_json::Value;

use crate::template::template_routes;

/// The HTTP methods an OpenAPI path item can hold (its other keys are not operations).
const OPERATION_KEYS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// The methods probed on every documented path.
const PROBED_METHODS: &[&str] = &["GET", "PUT", "POST", "PATCH", "DELETE"];
/// The fallback function's events are catch-alls that answer 404/405, not routes.
const FALLBACK_FUNCTION: &str = "fallback";
const FALLBACK_METHOD: &str = "ANY";

/// What the local server needs on an admin route (`LOCAL_ADMIN_KEY`'s default); AWS_IAM when
/// deployed.
const ADMIN_KEY: (&str, &str) = ("x-admin-key", bookshelf_local::server::DEFAULT_ADMIN_KEY);

/// A social sign-in provider enabled for the routing probes, with keys on a loopback port
/// nothing listens on: no probe reaches the token check (each stops at its body or bearer), and
/// none could reach the internet. A `{provider}` segment of a documented path becomes its name.
const PROBED_PROVIDER: &str = "google";
const SOCIAL_ENV: [(&str, &str); 2] =
    [("SOCIAL_GOOGLE_CLIENT_IDS", "probe-client"), ("SOCIAL_GOOGLE_JWKS_URL", "http://127.0.0.1:9/jwks")];

type Operation = (String, String);

/// One OpenAPI document of the service: a profile's, or the admin API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doc {
    /// `openapi.yaml` for the native profile, `openapi/<profile>.yaml` else (admin routes aside).
    Profile(Profile),
    /// `openapi/admin.yaml`: every `Gate::Iam` route, whatever its profile.
    Admin,
}

impl Doc {
    fn all() -> Vec<Doc> {
        Profile::ALL.into_iter().map(Doc::Profile).chain([Doc::Admin]).collect()
    }

    /// The document a route belongs to.
    fn of(spec: &RouteSpec) -> Doc {
        match spec.gate {
            Gate::Iam => Doc::Admin,
            Gate::ApiKey | Gate::Open => Doc::Profile(spec.profile),
        }
    }

    fn file(self) -> String {
        match self {
            Doc::Profile(Profile::Bookshelf) => "openapi.yaml".to_owned(),
            Doc::Profile(other) => format!("openapi/{}.yaml", other.name()),
            Doc::Admin => "openapi/admin.yaml".to_owned(),
        }
    }

    fn load(self) -> Value {
        let file = self.file();
        let text = std::fs::read_to_string(workspace_root().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        serde_yaml_ng::from_str(&text).unwrap()
    }
}

fn openapi() -> Value {
    Doc::Profile(Profile::Bookshelf).load()
}

/// (METHOD, path) of every operation in the native document.
fn documented() -> BTreeSet<Operation> {
    documented_in(&openapi())
}

/// (METHOD, path) of every operation of every document, the native one included.
fn documented_anywhere() -> BTreeSet<Operation> {
    Doc::all().into_iter().flat_map(|doc| documented_in(&doc.load())).collect()
}

fn documented_in(doc: &Value) -> BTreeSet<Operation> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| OPERATION_KEYS.contains(&k.as_str())) {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

/// (METHOD, path) of every API event of `template.yaml`, less the fallback's catch-alls. Only
/// `ANY` events of the fallback are dropped: anything else wired to it would be a real route.
fn in_template() -> BTreeSet<Operation> {
    template_routes()
        .into_iter()
        .filter(|(method, _, function, _)| !(function == FALLBACK_FUNCTION && method == FALLBACK_METHOD))
        .map(|(method, path, _, _)| (method, path))
        .collect()
}

/// (METHOD, path) of the route table's routes a document covers.
fn in_route_table(doc: Doc) -> BTreeSet<Operation> {
    ROUTES.iter().filter(|r| Doc::of(r) == doc).map(|r| (r.method.to_owned(), r.path.to_owned())).collect()
}

fn missing(from: &BTreeSet<Operation>, of: &BTreeSet<Operation>) -> Vec<String> {
    of.difference(from).map(|(method, path)| format!("{method} {path}")).collect()
}

#[test]
fn every_template_route_is_documented_in_openapi() {
    let undocumented = missing(&documented_anywhere(), &in_template());
    assert!(undocumented.is_empty(), "in template.yaml but in no OpenAPI document: {undocumented:?}");
}

#[test]
fn every_documented_operation_is_a_template_route() {
    let unrouted = missing(&in_template(), &documented_anywhere());
    assert!(unrouted.is_empty(), "documented but no API event of template.yaml: {unrouted:?}");
}

#[test]
fn every_route_table_entry_is_documented_in_its_profiles_openapi() {
    for doc in Doc::all() {
        let undocumented = missing(&documented_in(&doc.load()), &in_route_table(doc));
        assert!(undocumented.is_empty(), "routes not in {}: {undocumented:?}", doc.file());
    }
}

#[test]
fn every_documented_operation_is_in_its_profiles_route_table() {
    for doc in Doc::all() {
        let unrouted = missing(&in_route_table(doc), &documented_in(&doc.load()));
        assert!(unrouted.is_empty(), "in {} but not its routes: {unrouted:?}", doc.file());
    }
}

#[test]
fn the_admin_api_is_documented_apart_from_the_native_one() {
    let admin = in_route_table(Doc::Admin);
    assert!(!admin.is_empty());
    assert!(admin.iter().all(|(_, path)| path.starts_with("/admin/v1/")), "{admin:?}");
    let native = documented();
    assert!(native.iter().all(|(_, path)| !path.starts_with("/admin")), "admin paths in openapi.yaml: {native:?}");
    // Its errors are the native problem+json, and its users carry every field of the User object.
    let (admin, native) = (Doc::Admin.load(), openapi());
    let schema = |doc: &Value, name: &str| doc["components"]["schemas"][name].clone();
    assert_eq!(schema(&admin, "Problem"), schema(&native, "Problem"), "openapi/admin.yaml's Problem is openapi.yaml's");
    let (admin_user, user) = (schema(&admin, "AdminUser"), schema(&native, "User"));
    for (field, definition) in user["properties"].as_object().unwrap() {
        assert_eq!(&admin_user["properties"][field], definition, "AdminUser.{field} is User.{field}");
    }
    let required = |schema: &Value| -> BTreeSet<String> {
        schema["required"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect()
    };
    assert!(required(&admin_user).is_superset(&required(&user)));
}

#[tokio::test]
async fn every_profile_operation_is_answered_by_the_local_server_when_enabled() {
    for profile in Profile::ALL.into_iter().filter(|p| *p != Profile::Bookshelf) {
        let app = TestApp::with_env(&[[("API_PROFILES", profile.name())].as_slice(), &SOCIAL_ENV].concat()).await;
        let addr = serve_http(&app).await;
        for (method, path) in documented_in(&Doc::Profile(profile).load()) {
            let reply = http(addr, &method, &concrete(&path), &[], vec![]).await;
            // The profile answers in its own format; a routing failure is the native 404/405.
            let routed_away = reply.headers.get("content-type").is_some_and(|ct| ct == "application/problem+json")
                && matches!(reply.status, 404 | 405);
            assert!(!routed_away, "{} {method} {path}: {} {}", profile.name(), reply.status, reply.body);
        }
    }
}

/// The security requirements of an operation: its own `security`, else the document's.
fn security<'a>(doc: &'a Value, operation: &'a Value) -> &'a Vec<Value> {
    operation.get("security").unwrap_or(&doc["security"]).as_array().unwrap()
}

/// Whether an operation needs `x-api-key`.
fn needs_api_key(doc: &Value, operation: &Value) -> bool {
    security(doc, operation).iter().any(|requirement| requirement.get("ApiKey").is_some())
}

#[test]
fn documented_api_key_requirements_match_the_route_table() {
    for spec in ROUTES {
        let doc = Doc::of(spec).load();
        let operation = &doc["paths"][spec.path][spec.method.to_lowercase()];
        if operation.is_null() {
            continue; // reported by every_route_table_entry_is_documented_in_openapi
        }
        assert_eq!(needs_api_key(&doc, operation), spec.gate == Gate::ApiKey, "{} {}", spec.method, spec.path);
        // The admin API: a SigV4 signature (locally the admin key), never the API key.
        let signed = security(&doc, operation).iter().any(|requirement| requirement.get("sigv4").is_some());
        assert_eq!(signed, spec.gate == Gate::Iam, "{} {}: sigv4", spec.method, spec.path);
    }
    let schemes = &Doc::Admin.load()["components"]["securitySchemes"];
    assert_eq!(schemes["sigv4"]["type"], "apiKey");
    assert_eq!((&schemes["sigv4"]["in"], &schemes["sigv4"]["name"]), (&"header".into(), &"Authorization".into()));
    assert_eq!(schemes["sigv4"]["x-amazon-apigateway-authtype"], "awsSigv4");
    assert_eq!(schemes["AdminKey"]["name"], ADMIN_KEY.0);
    assert!(schemes.get("ApiKey").is_none(), "the admin API takes no API key");
}

/// A concrete path for a documented template: `{provider}` becomes [`PROBED_PROVIDER`] (another
/// value is a 404 of the route itself), each other `{param}` a fresh UUID.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment == "{provider}" {
                PROBED_PROVIDER.to_owned()
            } else if segment.starts_with('{') && segment.ends_with('}') {
                uuid::Uuid::new_v4().to_string()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_the_local_server() {
    let app = TestApp::with_env(&SOCIAL_ENV).await;
    let addr = serve_http(&app).await;
    for (method, path) in documented() {
        let reply = http(addr, &method, &concrete(&path), &[("x-api-key", "test-key")], vec![]).await;
        // A route that exists answers with its own checks (400, 401, 200…); only routing
        // failures mean the server does not serve it.
        assert!(
            !matches!((reply.status, reply.code()), (404, "not_found") | (405, "method_not_allowed")),
            "{method} {path}: the local server answered {} {}",
            reply.status,
            reply.body
        );
    }
}

#[tokio::test]
async fn every_admin_operation_is_answered_by_the_local_server_behind_the_admin_key() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    for (method, path) in documented_in(&Doc::Admin.load()) {
        let path = concrete(&path);
        // Routed and gated: refused as AWS_IAM refuses, whatever API key comes along.
        for headers in [&[][..], &[("x-api-key", "test-key")], &[("x-admin-key", "wrong")]] {
            let reply = http(addr, &method, &path, headers, vec![]).await;
            reply.assert_problem(403, "forbidden");
        }
        // The admin key opens it: its own checks answer (an unknown user is a 404 of its own).
        let reply = http(addr, &method, &path, &[ADMIN_KEY], vec![]).await;
        assert!(
            !matches!(reply.status, 403 | 405),
            "{method} {path}: the local server answered {} {}",
            reply.status,
            reply.body
        );
    }
}

#[tokio::test]
async fn the_local_server_answers_no_undocumented_method_on_a_documented_path() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    for doc in [Doc::Profile(Profile::Bookshelf), Doc::Admin] {
        let operations = documented_in(&doc.load());
        let paths: BTreeSet<&String> = operations.iter().map(|(_, path)| path).collect();
        for path in paths {
            for method in PROBED_METHODS.iter().filter(|m| !operations.contains(&(m.to_string(), path.clone()))) {
                let headers = [("x-api-key", "test-key"), ADMIN_KEY];
                let reply = http(addr, method, &concrete(path), &headers, vec![]).await;
                reply.assert_problem(405, "method_not_allowed");
            }
        }
    }
}

/// Every `code` value the document names anywhere: the Problem enum and each response's
/// narrowed `enum`/`const`.
fn documented_codes(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(code) = map.get("properties").and_then(|p| p.get("code")) {
                let values = code.get("enum").and_then(Value::as_array).cloned().unwrap_or_default();
                found.extend(values.iter().chain(code.get("const")).filter_map(Value::as_str).map(str::to_owned));
            }
            map.values().for_each(|v| documented_codes(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| documented_codes(v, found)),
        _ => {}
    }
}

#[test]
fn the_problem_code_enum_is_exactly_the_codes_the_service_emits() {
    let doc = openapi();
    let listed: BTreeSet<&str> = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let emitted: BTreeSet<&str> = CODES.iter().copied().collect();
    let undocumented: Vec<_> = emitted.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&emitted).collect();
    assert!(undocumented.is_empty(), "codes missing from the Problem schema: {undocumented:?}");
    assert!(unknown.is_empty(), "codes in the Problem schema that an Error never has: {unknown:?}");
}

#[test]
fn every_code_a_response_names_is_one_the_service_emits() {
    for doc in [Doc::Profile(Profile::Bookshelf), Doc::Admin] {
        let mut named = BTreeSet::new();
        documented_codes(&doc.load(), &mut named);
        let unknown: Vec<_> = named.iter().filter(|code| !CODES.contains(&code.as_str())).collect();
        assert!(!named.is_empty());
        assert!(unknown.is_empty(), "codes named in {} that an Error never has: {unknown:?}", doc.file());
    }
}
