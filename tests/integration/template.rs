//! `template.yaml`, the route table and `functions/` describe the same service.

use std::collections::BTreeSet;

use bookshelf::profile::Profile;
use bookshelf::routes::{Gate, ROUTES};
use bookshelf_local::tables::{function_binary, serverless_functions as functions, template_json};
use bookshelf_tests::workspace_root;
use serde_json::{json, Value};

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    template_json(&text).unwrap()
}

/// What an API event needs before it reaches its function: `x-api-key` always, nothing, the key
/// as a template condition says, or an IAM signature (`AWS_IAM`) and never the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Required,
    None,
    If(String),
    Iam,
}

/// (method, path, binary, api key) of every API event in the template.
pub(crate) fn template_routes() -> BTreeSet<(String, String, String, Key)> {
    let doc = template();
    let mut routes = BTreeSet::new();
    for (logical_id, resource) in functions(&doc) {
        let binary = function_binary(&logical_id);
        for event in resource["Properties"]["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            let props = &event["Properties"];
            // The auth service's own API; the example app API is tested on its own.
            if props["RestApiId"] != "AuthApi" {
                continue;
            }
            let authorizer = &props["Auth"]["Authorizer"];
            let key = match &props["Auth"]["ApiKeyRequired"] {
                // The admin API: a SigV4 signature, and the API key never opens it.
                Value::Bool(false) if authorizer == "AWS_IAM" => Key::Iam,
                other if authorizer == "AWS_IAM" => panic!("{logical_id}: AWS_IAM with ApiKeyRequired {other}"),
                _ if !authorizer.is_null() => panic!("{logical_id}: authorizer {authorizer} on AuthApi"),
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
/// `ProfileRoutesRequireApiKey` says so, open routes need nothing, and the admin routes
/// (`Gate::Iam`) an IAM signature.
fn table_routes() -> BTreeSet<(String, String, String, Key)> {
    let mut routes = BTreeSet::new();
    for spec in ROUTES {
        let sharing: Vec<_> = ROUTES.iter().filter(|r| (r.method, r.path) == (spec.method, spec.path)).collect();
        assert!(sharing.iter().all(|r| r.function == spec.function), "{} {} has two functions", spec.method, spec.path);
        let native = sharing.iter().find(|r| r.profile == Profile::Bookshelf);
        let claimed_by: Vec<&str> =
            sharing.iter().filter(|r| r.profile != Profile::Bookshelf).map(|r| r.profile.name()).collect();
        let key = match (native, claimed_by.as_slice()) {
            (Some(n), []) if n.gate == Gate::Iam => Key::Iam,
            (Some(n), others) if n.gate == Gate::Iam => panic!("{} {} is claimed by {others:?}", n.method, n.path),
            (Some(n), _) if n.gate == Gate::Open => Key::None,
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
    let binaries: BTreeSet<String> = functions(&template()).iter().map(|(id, _)| function_binary(id)).collect();
    let crates: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(binaries, crates);
}

/// Lambda hands an instance one event at a time: a multi-threaded runtime would only add
/// cross-thread wake-ups to every request (`bookshelf::edge::lambda::serve`).
#[test]
fn every_function_runs_its_handler_on_a_current_thread_runtime() {
    for entry in std::fs::read_dir(workspace_root().join("functions")).unwrap() {
        let main = std::fs::read_to_string(entry.unwrap().path().join("src/main.rs")).unwrap();
        let runtimes: Vec<&str> = main.lines().filter(|l| l.trim_start().starts_with("#[tokio::main")).collect();
        assert_eq!(runtimes, ["#[tokio::main(flavor = \"current_thread\")]"], "{main}");
    }
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

/// The `Api` events of a function, as (event name, properties).
fn api_events(function: &Value) -> Vec<(String, Value)> {
    let events = function["Properties"]["Events"].as_object().into_iter().flatten();
    events.filter(|(_, e)| e["Type"] == "Api").map(|(name, e)| (name.clone(), e["Properties"].clone())).collect()
}

#[test]
fn admin_routes_take_aws_iam_and_never_the_api_key() {
    let doc = template();
    let resources = &doc["Resources"];
    // Every admin route is one AWS_IAM event of its own function, never opened by the key, and
    // invoked through the function's resource policy (InvokeRole NONE), not with the caller's
    // credentials (SAM's default for AWS_IAM).
    let admin: Vec<_> = ROUTES.iter().filter(|r| r.gate == Gate::Iam).collect();
    assert!(!admin.is_empty());
    for spec in &admin {
        assert!(spec.path.starts_with("/admin/v1/"), "{} {}", spec.method, spec.path);
        let (id, function) = functions(&doc).into_iter().find(|(id, _)| function_binary(id) == spec.function).unwrap();
        let events = api_events(&function);
        assert_eq!(events.len(), 1, "{id}: one event, its route's");
        let (_, event) = &events[0];
        assert_eq!(event["RestApiId"], "AuthApi", "{id}");
        assert_eq!(
            (event["Method"].as_str().unwrap().to_uppercase(), &event["Path"]),
            (spec.method.to_owned(), &json!(spec.path))
        );
        assert_eq!(event["Auth"]["Authorizer"], "AWS_IAM", "{id}");
        assert_eq!(event["Auth"]["ApiKeyRequired"], false, "{id}: the API key never opens an admin route");
        assert_eq!(event["Auth"]["InvokeRole"], "NONE", "{id}");
    }
    // ...and AWS_IAM guards nothing else; the API itself has no default authorizer.
    let iam_events: Vec<_> = functions(&doc)
        .iter()
        .flat_map(|(id, f)| api_events(f).into_iter().map(move |(_, e)| (id.clone(), e)))
        .filter(|(_, e)| e["Auth"]["Authorizer"] == "AWS_IAM")
        .map(|(id, _)| function_binary(&id))
        .collect();
    assert_eq!(iam_events.len(), admin.len(), "{iam_events:?}");
    assert!(iam_events.iter().all(|binary| admin.iter().any(|r| r.function == binary)), "{iam_events:?}");
    let api_auth = &resources["AuthApi"]["Properties"]["Auth"];
    assert!(api_auth.get("DefaultAuthorizer").is_none(), "a default authorizer would reach every route");
    assert_eq!(api_auth["ApiKeyRequired"], true, "the key stays the default of every other route");

    // The policy callers need exists, allows only invoking /admin/v1/*, and is given to nobody.
    let policy = &resources["AdminApiInvokePolicy"];
    assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
    for attachment in ["Roles", "Users", "Groups"] {
        assert!(policy["Properties"].get(attachment).is_none(), "AdminApiInvokePolicy is attached to {attachment}");
    }
    let statements = policy["Properties"]["PolicyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "execute-api:Invoke");
    assert_eq!(
        statements[0]["Resource"],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${AuthApi}/*/*/admin/v1/*"
    );
    let others: Value = resources
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, _)| *id != "AdminApiInvokePolicy")
        .map(|(id, r)| (id.clone(), r.clone()))
        .collect();
    assert!(!others.to_string().contains("AdminApiInvokePolicy"), "no resource may attach AdminApiInvokePolicy");
    let outputs = &doc["Outputs"];
    assert_eq!(outputs["AdminApiInvokePolicyArn"]["Value"], "AdminApiInvokePolicy");
    assert!(outputs["AdminApiInvokePolicyArn"]["Description"].as_str().unwrap().contains("role"));
    assert!(outputs["AdminApiUrl"]["Value"].as_str().unwrap().ends_with("/${StageName}/admin/v1"));

    // API Gateway's IAM refusals answer as the admin functions refuse an unauthenticated
    // request (403 `forbidden`); an unsigned request stays the unknown route's 404.
    let responses = &resources["AuthApi"]["Properties"]["GatewayResponses"];
    for (gateway, status, code) in [
        ("ACCESS_DENIED", 403, "forbidden"),
        ("INVALID_SIGNATURE", 403, "forbidden"),
        ("EXPIRED_TOKEN", 403, "forbidden"),
        ("MISSING_AUTHENTICATION_TOKEN", 404, "not_found"),
    ] {
        let response = &responses[gateway];
        assert_eq!(response["StatusCode"], status.to_string(), "{gateway}");
        assert_eq!(
            response["ResponseParameters"]["Headers"]["Content-Type"], "'application/problem+json'",
            "{gateway}"
        );
        let body: Value =
            serde_json::from_str(response["ResponseTemplates"]["application/json"].as_str().unwrap()).unwrap();
        let keys: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["type", "title", "status", "detail", "code", "request_id"]), "{gateway}");
        assert_eq!((body["status"].as_u64(), body["code"].as_str()), (Some(status), Some(code)), "{gateway}");
        assert_eq!(body["type"], "about:blank", "{gateway}");
    }

    // What PATCH may set: every function reads TIERS and ROLES from parameters defaulting to the
    // service's own defaults.
    let env = &doc["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!((&env["TIERS"], &env["ROLES"]), (&json!("Tiers"), &json!("Roles")));
    assert_eq!(doc["Parameters"]["Tiers"]["Default"], bookshelf::config::DEFAULT_TIERS);
    assert_eq!(doc["Parameters"]["Roles"]["Default"], bookshelf::config::DEFAULT_ROLES);
}

/// The DynamoDB grants of a function's policies: (action, resource) pairs.
fn dynamodb_grants(function: &Value) -> BTreeSet<(String, String)> {
    let mut grants = BTreeSet::new();
    for policy in function["Properties"]["Policies"].as_array().into_iter().flatten() {
        for statement in policy["Statement"].as_array().into_iter().flatten() {
            let actions: Vec<String> = match &statement["Action"] {
                Value::String(one) => vec![one.clone()],
                many => many.as_array().into_iter().flatten().map(|a| a.as_str().unwrap().to_owned()).collect(),
            };
            let resources: Vec<String> = match &statement["Resource"] {
                Value::Array(many) => many.iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
                one => vec![one.as_str().unwrap().to_owned()],
            };
            for action in actions.iter().filter(|a| a.starts_with("dynamodb:")) {
                grants.extend(resources.iter().map(|r| (action.clone(), r.clone())));
            }
        }
    }
    grants
}

#[test]
fn only_the_admin_listing_may_query_the_users_index_and_only_that_index() {
    let doc = template();
    let indexes = doc["Resources"]["AuthTable"]["Properties"]["GlobalSecondaryIndexes"].as_array().unwrap().clone();
    let names: Vec<&str> = indexes.iter().map(|i| i["IndexName"].as_str().unwrap()).collect();
    assert_eq!(names, [bookshelf::store::USERS_BY_CREATED]);
    let index = format!("${{AuthTable.Arn}}/index/{}", bookshelf::store::USERS_BY_CREATED);
    let listing = ROUTES.iter().find(|r| r.route == bookshelf::routes::Route::AdminListUsers).unwrap().function;
    for (id, function) in functions(&doc) {
        let grants = dynamodb_grants(&function);
        let on_index: BTreeSet<&str> =
            grants.iter().filter(|(_, resource)| resource.contains("/index/")).map(|(a, _)| a.as_str()).collect();
        for (_, resource) in grants.iter().filter(|(_, resource)| resource.contains("/index/")) {
            assert_eq!(*resource, index, "{id}: a grant on another index");
        }
        if function_binary(&id) == listing {
            // Its page is a Query of the index (keys only), its users one BatchGetItem.
            assert_eq!(on_index, BTreeSet::from(["dynamodb:Query"]), "{id}");
            assert!(grants.contains(&("dynamodb:BatchGetItem".to_owned(), "AuthTable.Arn".to_owned())), "{id}");
        } else {
            assert!(on_index.is_empty(), "{id} may not read the users index");
        }
    }
    // The admin functions that count or end a user's sessions query the user's partition.
    for function in ["admin-get-user", "admin-update-user", "admin-delete-user", "admin-end-sessions"] {
        let (id, resource) = functions(&doc).into_iter().find(|(id, _)| function_binary(id) == function).unwrap();
        assert!(
            dynamodb_grants(&resource).contains(&("dynamodb:Query".to_owned(), "AuthTable.Arn".to_owned())),
            "{id}"
        );
    }
}

#[test]
fn a_function_that_opens_its_database_connection_at_init_may_make_the_warm_up_read() {
    // `Store::warm_up` is a GetItem; a function whose routes never touch the table neither
    // warms up nor holds any DynamoDB grant.
    let doc = template();
    for (id, function) in functions(&doc) {
        let binary = function_binary(&id);
        let warms = match binary.as_str() {
            "authorizer" => true,
            "fallback" => false,
            "example-app" | "signing-keys" => continue, // no AppState
            _ => {
                ROUTES.iter().filter(|r| r.function == binary).any(|r| bookshelf::edge::lambda::uses_database(r.route))
            }
        };
        let grants = dynamodb_grants(&function);
        if warms {
            assert!(grants.contains(&("dynamodb:GetItem".to_owned(), "AuthTable.Arn".to_owned())), "{id}");
        } else {
            assert!(grants.is_empty(), "{id} never uses the table");
        }
    }
}

#[test]
fn the_local_server_emulates_the_templates_usage_plan() {
    let parameters = &template()["Parameters"];
    assert_eq!(parameters["ApiRateLimit"]["Default"], json!(bookshelf_local::server::USAGE_PLAN_RATE));
    assert_eq!(parameters["ApiBurstLimit"]["Default"], json!(bookshelf_local::server::USAGE_PLAN_BURST));
}
