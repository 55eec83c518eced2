//! `openapi.yaml` documents exactly the native service, and `openapi/<profile>.yaml` each client
//! profile: together the API events of `template.yaml`, each the route table's routes of its
//! profile, what the local server answers, and (natively) every error code an `Error` can have.

use std::collections::BTreeSet;

use bookshelf::error::CODES;
use bookshelf::profile::Profile;
use bookshelf::routes::ROUTES;
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

type Operation = (String, String);

fn openapi() -> Value {
    document(Profile::Bookshelf)
}

/// A profile's document: `openapi.yaml` for the native one, `openapi/<profile>.yaml` else.
fn document(profile: Profile) -> Value {
    let file = match profile {
        Profile::Bookshelf => "openapi.yaml".to_owned(),
        other => format!("openapi/{}.yaml", other.name()),
    };
    let text = std::fs::read_to_string(workspace_root().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap()
}

/// (METHOD, path) of every operation in the native document.
fn documented() -> BTreeSet<Operation> {
    documented_in(&openapi())
}

/// (METHOD, path) of every operation of every profile's document, the native one included.
fn documented_anywhere() -> BTreeSet<Operation> {
    Profile::ALL.iter().flat_map(|p| documented_in(&document(*p))).collect()
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

fn in_route_table(profile: Profile) -> BTreeSet<Operation> {
    ROUTES.iter().filter(|r| r.profile == profile).map(|r| (r.method.to_owned(), r.path.to_owned())).collect()
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
    for profile in Profile::ALL {
        let undocumented = missing(&documented_in(&document(profile)), &in_route_table(profile));
        assert!(undocumented.is_empty(), "{} routes not in its document: {undocumented:?}", profile.name());
    }
}

#[test]
fn every_documented_operation_is_in_its_profiles_route_table() {
    for profile in Profile::ALL {
        let unrouted = missing(&in_route_table(profile), &documented_in(&document(profile)));
        assert!(unrouted.is_empty(), "in the {} document but not its routes: {unrouted:?}", profile.name());
    }
}

#[tokio::test]
async fn every_profile_operation_is_answered_by_the_local_server_when_enabled() {
    for profile in Profile::ALL.into_iter().filter(|p| *p != Profile::Bookshelf) {
        let app = TestApp::with_env(&[("API_PROFILES", profile.name())]).await;
        let addr = serve_http(&app).await;
        for (method, path) in documented_in(&document(profile)) {
            let reply = http(addr, &method, &concrete(&path), &[], vec![]).await;
            // The profile answers in its own format; a routing failure is the native 404/405.
            let routed_away = reply.headers.get("content-type").is_some_and(|ct| ct == "application/problem+json")
                && matches!(reply.status, 404 | 405);
            assert!(!routed_away, "{} {method} {path}: {} {}", profile.name(), reply.status, reply.body);
        }
    }
}

/// Whether an operation needs `x-api-key`: its own `security`, else the document's.
fn needs_api_key(doc: &Value, operation: &Value) -> bool {
    let security = operation.get("security").unwrap_or(&doc["security"]);
    security.as_array().unwrap().iter().any(|requirement| requirement.get("ApiKey").is_some())
}

#[test]
fn documented_api_key_requirements_match_the_route_table() {
    for spec in ROUTES {
        let doc = document(spec.profile);
        let operation = &doc["paths"][spec.path][spec.method.to_lowercase()];
        if operation.is_null() {
            continue; // reported by every_route_table_entry_is_documented_in_openapi
        }
        assert_eq!(needs_api_key(&doc, operation), spec.api_key, "{} {}", spec.method, spec.path);
    }
}

/// A concrete path for a documented template: each `{param}` becomes a fresh UUID.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
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
    let app = TestApp::new().await;
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
async fn the_local_server_answers_no_undocumented_method_on_a_documented_path() {
    let app = TestApp::new().await;
    let addr = serve_http(&app).await;
    let operations = documented();
    let paths: BTreeSet<&String> = operations.iter().map(|(_, path)| path).collect();
    for path in paths {
        for method in PROBED_METHODS.iter().filter(|m| !operations.contains(&(m.to_string(), path.clone()))) {
            let reply = http(addr, method, &concrete(path), &[("x-api-key", "test-key")], vec![]).await;
            reply.assert_problem(405, "method_not_allowed");
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
    let mut named = BTreeSet::new();
    documented_codes(&openapi(), &mut named);
    let unknown: Vec<_> = named.iter().filter(|code| !CODES.contains(&code.as_str())).collect();
    assert!(!named.is_empty());
    assert!(unknown.is_empty(), "codes named in openapi.yaml that an Error never has: {unknown:?}");
}
