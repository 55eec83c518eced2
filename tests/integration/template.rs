//! `template.yaml`, the route table and `functions/` describe the same service.

use std::collections::BTreeSet;

use bookshelf::routes::ROUTES;
use bookshelf_tests::workspace_root;
use serde_json::Value;

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

/// (method, path, binary, api key required) of every API event in the template.
pub(crate) fn template_routes() -> BTreeSet<(String, String, String, bool)> {
    let doc = template();
    let mut routes = BTreeSet::new();
    for resource in doc["Resources"].as_object().unwrap().values() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
        for event in resource["Properties"]["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            let props = &event["Properties"];
            let key = props["Auth"]["ApiKeyRequired"].as_bool().unwrap_or(true);
            let method = props["Method"].as_str().unwrap().to_uppercase();
            routes.insert((method, props["Path"].as_str().unwrap().to_owned(), binary.clone(), key));
        }
    }
    routes
}

#[test]
fn template_routes_match_the_route_table() {
    let in_template: BTreeSet<_> = template_routes().into_iter().filter(|r| r.2 != "fallback").collect();
    let in_table: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned(), r.api_key)).collect();
    assert_eq!(in_template, in_table);
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
    let binaries: BTreeSet<String> = template_routes().into_iter().map(|r| r.2).collect();
    let crates: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(binaries, crates);
}

#[test]
fn each_function_main_names_its_own_route_and_entry_only() {
    let routes: Vec<(&str, String)> = ROUTES
        .iter()
        .map(|r| (r.function, format!("{:?}", r.route)))
        .chain(std::iter::once(("fallback", "Fallback".to_owned())))
        .collect();
    for (function, route) in routes {
        let main =
            std::fs::read_to_string(workspace_root().join("functions").join(function).join("src/main.rs")).unwrap();
        let expected = format!("serve(Route::{route}, entry::{})", function.replace('-', "_"));
        assert!(main.contains(&expected), "functions/{function}/src/main.rs should call {expected}");
    }
}
