//! `template.yaml`, the route table and `functions/` describe the same service.

use std::collections::BTreeSet;

use bookshelf::profile::Profile;
use bookshelf::routes::ROUTES;
use bookshelf_tests::workspace_root;
use serde_json::{json, Value};

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    // Intrinsic-function tags (!Ref, !GetAtt, …) are irrelevant here; read them as plain values.
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    serde_json::to_value(strip_tags(yaml)).unwrap()
}

fn strip_tags(value: serde_yaml_ng::Value) -> serde_yaml_ng::Value {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Tagged(tagged) => strip_tags(tagged.value),
        Y::Sequence(items) => Y::Sequence(items.into_iter().map(strip_tags).collect()),
        Y::Mapping(map) => Y::Mapping(map.into_iter().map(|(k, v)| (k, strip_tags(v))).collect()),
        other => other,
    }
}

/// The crate under `functions/` (and binary) of a function: `GetMeFunction` → `get-me`, as
/// `scripts/lambda-bootstrap.sh` maps it for SAM's makefile build.
fn binary_of(logical_id: &str) -> String {
    let name = logical_id.strip_suffix("Function").unwrap();
    let mut binary = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            binary.push('-');
        }
        binary.push(c.to_ascii_lowercase());
    }
    binary
}

/// (logical id, resource) of every `AWS::Serverless::Function`.
fn functions(doc: &Value) -> Vec<(String, Value)> {
    let resources = doc["Resources"].as_object().unwrap();
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| (id.clone(), r.clone()))
        .collect()
}

/// Whether an API event needs `x-api-key`: always, never, or as a template condition says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Required,
    None,
    If(String),
}

/// (method, path, binary, api key) of every API event in the template.
pub(crate) fn template_routes() -> BTreeSet<(String, String, String, Key)> {
    let doc = template();
    let mut routes = BTreeSet::new();
    for (logical_id, resource) in functions(&doc) {
        let binary = binary_of(&logical_id);
        for event in resource["Properties"]["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            let props = &event["Properties"];
            // The auth service's own API; the example app API is tested on its own.
            if props["RestApiId"] != "AuthApi" {
                continue;
            }
            let key = match &props["Auth"]["ApiKeyRequired"] {
                Value::Bool(false) => Key::None,
                Value::Bool(true) | Value::Null => Key::Required,
                // `!If [Condition, true, false]`, its tag stripped.
                Value::Array(branches) if branches[1] == true && branches[2] == false => {
                    Key::If(branches[0].as_str().unwrap().to_owned())
                }
                other => panic!("{logical_id}: ApiKeyRequired {other}"),
            };
            let method = props["Method"].as_str().unwrap().to_uppercase();
            routes.insert((method, props["Path"].as_str().unwrap().to_owned(), binary.clone(), key));
        }
    }
    routes
}

/// What the route table says of each method and path: its function, and its key rule — native
/// routes keep the key (unless a profile may claim them), profile routes need it only when
/// `ProfileRoutesRequireApiKey` says so.
fn table_routes() -> BTreeSet<(String, String, String, Key)> {
    let mut routes = BTreeSet::new();
    for spec in ROUTES {
        let sharing: Vec<_> = ROUTES.iter().filter(|r| (r.method, r.path) == (spec.method, spec.path)).collect();
        assert!(sharing.iter().all(|r| r.function == spec.function), "{} {} has two functions", spec.method, spec.path);
        let native = sharing.iter().find(|r| r.profile == Profile::Bookshelf);
        let claimed_by: Vec<&str> =
            sharing.iter().filter(|r| r.profile != Profile::Bookshelf).map(|r| r.profile.name()).collect();
        let key = match (native, claimed_by.as_slice()) {
            (Some(n), _) if !n.api_key => Key::None,
            (Some(_), []) => Key::Required,
            // A native route keeps its key unless a profile that claims it is enabled.
            (Some(_), ["book-corners", "session-api"]) => Key::If("ClaimableNativeRoutesNeedKey".to_owned()),
            (Some(_), ["book-corners"]) => Key::If("BookCornersNativeRoutesNeedKey".to_owned()),
            (Some(_), ["session-api"]) => Key::If("SessionApiNativeRoutesNeedKey".to_owned()),
            (Some(_), others) => panic!("{} {} is claimed by {others:?}: give it a condition", spec.method, spec.path),
            (None, _) => Key::If("ProfileRoutesNeedKey".to_owned()),
        };
        routes.insert((spec.method.to_owned(), spec.path.to_owned(), spec.function.to_owned(), key));
    }
    routes
}

#[test]
fn the_example_app_api_puts_the_authorizer_in_front_of_both_routes() {
    let doc = template();
    let resources = &doc["Resources"];
    let api = &resources["ExampleAppApi"]["Properties"];
    let authorizers = &api["Auth"]["Authorizers"];
    for name in ["AppAuthorizer", "AppOptionalAuthorizer"] {
        assert_eq!(authorizers[name]["FunctionPayloadType"], "REQUEST", "{name}");
        assert_eq!(authorizers[name]["FunctionArn"], "AuthorizerFunction.Arn", "{name}");
    }
    assert_eq!(authorizers["AppAuthorizer"]["Identity"]["Headers"], json!(["Authorization"]));
    assert_eq!(authorizers["AppAuthorizer"]["Identity"]["ReauthorizeEvery"], "AuthorizerCacheSeconds");
    // Anonymous callers have no identity to cache on: the optional authorizer never caches.
    assert_eq!(authorizers["AppOptionalAuthorizer"]["Identity"]["ReauthorizeEvery"], 0);
    assert_eq!(doc["Parameters"]["AuthorizerCacheSeconds"]["Default"], 0, "revocation bites on the next call");
    let events = &resources["ExampleAppFunction"]["Properties"]["Events"];
    let mut routes: Vec<(String, String, String, bool)> = events
        .as_object()
        .unwrap()
        .values()
        .map(|e| {
            let p = &e["Properties"];
            assert_eq!(p["RestApiId"], "ExampleAppApi");
            (
                p["Method"].as_str().unwrap().to_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
                p["Auth"]["Authorizer"].as_str().unwrap().to_owned(),
                false,
            )
        })
        .collect();
    routes.sort();
    let mut expected: Vec<(String, String, String, bool)> = bookshelf::edge::example_app::ROUTES
        .iter()
        .map(|(m, r, optional)| {
            let authorizer = if *optional { "AppOptionalAuthorizer" } else { "AppAuthorizer" };
            (m.to_string(), r.to_string(), authorizer.to_owned(), false)
        })
        .collect();
    expected.sort();
    assert_eq!(routes, expected);
    let optional =
        resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]["AUTHORIZER_OPTIONAL_ROUTES"].clone();
    assert_eq!(optional, "GET /app/public", "the optional route is the one the optional authorizer guards");
    for (status, gateway) in [
        (401, "UNAUTHORIZED"),
        (403, "ACCESS_DENIED"),
        (404, "MISSING_AUTHENTICATION_TOKEN"),
        (503, "AUTHORIZER_FAILURE"),
    ] {
        let response = &api["GatewayResponses"][gateway];
        assert_eq!(
            response["StatusCode"]
                .as_str()
                .and_then(|s| s.parse::<u16>().ok())
                .or(response["StatusCode"].as_u64().map(|n| n as u16)),
            Some(status),
            "{gateway}"
        );
        let body = response["ResponseTemplates"]["application/json"].as_str().unwrap();
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            body,
            bookshelf::edge::authorizer::gateway_body(status),
            "{gateway}: the local server answers the same"
        );
    }
}

#[test]
fn template_routes_match_the_route_table() {
    let in_template: BTreeSet<_> = template_routes().into_iter().filter(|r| r.2 != "fallback").collect();
    assert_eq!(in_template, table_routes());
}

#[test]
fn the_claimable_native_routes_lose_their_key_only_for_the_profiles_that_claim_them() {
    let doc = template();
    let conditions = doc["Conditions"].to_string();
    let claiming: BTreeSet<&str> = ROUTES
        .iter()
        .filter(|r| r.profile != Profile::Bookshelf)
        .filter(|r| ROUTES.iter().any(|n| n.profile == Profile::Bookshelf && (n.method, n.path) == (r.method, r.path)))
        .map(|r| r.profile.name())
        .collect();
    assert_eq!(claiming, BTreeSet::from(["book-corners", "session-api"]));
    for name in claiming {
        assert!(conditions.contains(&format!("\"{name}\"")), "no condition tests ApiProfiles for {name}");
    }
    let parameters = &doc["Parameters"];
    assert_eq!(parameters["ApiProfiles"]["Default"], "bookshelf");
    assert_eq!(parameters["ProfileRoutesRequireApiKey"]["Default"], "false");
    let env = &doc["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(env["API_PROFILES"], "ApiProfiles", "every function reads API_PROFILES from the parameter");
}

#[test]
fn the_fallback_function_takes_every_other_method_of_every_path() {
    let fallback: BTreeSet<_> =
        template_routes().into_iter().filter(|r| r.2 == "fallback").map(|r| (r.0, r.1)).collect();
    for spec in ROUTES {
        assert!(fallback.contains(&("ANY".to_owned(), spec.path.to_owned())), "{}", spec.path);
    }
    assert!(fallback.contains(&("ANY".to_owned(), "/{proxy+}".to_owned())));
}

#[test]
fn every_function_crate_is_a_template_function() {
    let binaries: BTreeSet<String> = functions(&template()).iter().map(|(id, _)| binary_of(id)).collect();
    let crates: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(binaries, crates);
}

#[test]
fn each_function_main_names_its_routes_and_their_entries_only() {
    let functions: BTreeSet<&str> = ROUTES.iter().map(|r| r.function).chain(["fallback"]).collect();
    for function in functions {
        let main =
            std::fs::read_to_string(workspace_root().join("functions").join(function).join("src/main.rs")).unwrap();
        let named = main.matches("(Route::").count();
        let own: Vec<_> = ROUTES.iter().filter(|r| r.function == function).collect();
        for spec in &own {
            let route = format!("{:?}", spec.route);
            let entry = if spec.profile == Profile::Bookshelf { function.replace('-', "_") } else { snake(&route) };
            let expected = format!("(Route::{route}, entry::{entry})");
            assert!(main.contains(&expected), "functions/{function}/src/main.rs should name {expected}");
        }
        assert_eq!(named, own.len().max(1), "functions/{function}/src/main.rs names other routes");
    }
}

/// `BookCornersLogin` → `book_corners_login`, as the route table names profile entries.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn every_function_is_built_by_the_one_shared_cargo_build() {
    for (id, function) in functions(&template()) {
        assert_eq!(function["Metadata"]["BuildMethod"], "makefile", "{id}");
        assert_eq!(function["Properties"]["CodeUri"], ".", "{id}");
    }
    let makefile = std::fs::read_to_string(workspace_root().join("Makefile")).unwrap();
    assert!(makefile.contains("build-%Function:"), "the Makefile builds every <Name>Function");
}

/// The Secrets Manager grants of a function's policies: (actions, resource).
fn secret_grants(function: &Value) -> Vec<(Vec<String>, String)> {
    let mut grants = Vec::new();
    for policy in function["Properties"]["Policies"].as_array().into_iter().flatten() {
        if let Some(template) = policy.get("AWSSecretsManagerGetSecretValuePolicy") {
            grants.push((vec!["secretsmanager:GetSecretValue".to_owned()], template["SecretArn"].to_string()));
        }
        for statement in policy["Statement"].as_array().into_iter().flatten() {
            let actions: Vec<String> = match &statement["Action"] {
                Value::String(one) => vec![one.clone()],
                many => many.as_array().into_iter().flatten().map(|a| a.as_str().unwrap().to_owned()).collect(),
            };
            if actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                grants.push((actions, statement["Resource"].to_string()));
            }
        }
    }
    grants
}

#[test]
fn functions_may_only_read_the_signing_keys_and_only_the_custom_resource_writes_them() {
    let secret = Value::String("SigningKeysSecret".to_owned()).to_string();
    for (id, function) in functions(&template()) {
        let grants = secret_grants(&function);
        // The example app only echoes what the authorizer told it: no secret at all.
        if id == "ExampleAppFunction" {
            assert_eq!(grants, vec![], "{id}");
            continue;
        }
        let expected = if id == "SigningKeysFunction" {
            vec!["secretsmanager:DescribeSecret".to_owned(), "secretsmanager:PutSecretValue".to_owned()]
        } else {
            vec!["secretsmanager:GetSecretValue".to_owned()]
        };
        assert_eq!(grants, vec![(expected, secret.clone())], "{id}");
    }
    let doc = template();
    let globals = &doc["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(globals["JWT_KEYS_SECRET_ARN"], "SigningKeysSecret");
    assert_eq!(globals["JWT_KEYS"], "", "no key document in the template (declared only for sam local)");
    assert!(doc["Parameters"].get("JwtKeys").is_none());
    assert_eq!(doc["Resources"]["SigningKeys"]["Properties"]["SecretArn"], "SigningKeysSecret");
}

#[test]
fn every_function_has_a_log_group_with_retention_and_error_and_throttle_alarms() {
    let doc = template();
    let resources = doc["Resources"].as_object().unwrap();
    let alarmed: BTreeSet<String> = resources["Fn::ForEach::FunctionAlarms"][1]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| format!("{}Function", name.as_str().unwrap()))
        .collect();
    let functions: BTreeSet<String> = functions(&doc).into_iter().map(|(id, _)| id).collect();
    // The authorizer fails with `Unauthorized` for every refused token (API Gateway's 401),
    // which Lambda counts as errors: it has a throttles alarm of its own instead.
    assert_eq!(resources["AuthorizerThrottlesAlarm"]["Properties"]["MetricName"], "Throttles");
    let expected: BTreeSet<String> = functions.iter().filter(|id| *id != "AuthorizerFunction").cloned().collect();
    assert_eq!(alarmed, expected);
    for id in &functions {
        let log_group = &resources[&id.replace("Function", "LogGroup")];
        assert_eq!(log_group["Type"], "AWS::Logs::LogGroup", "{id}");
        assert_eq!(log_group["Properties"]["RetentionInDays"], "LogRetentionDays", "{id}");
    }
}
