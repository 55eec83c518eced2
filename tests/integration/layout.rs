//! The shape of `shared/src` holds: no file grows past about 600 lines, no two modules import
//! each other and the top-level modules form a DAG, so each concern stays in the file its
//! name promises and dependencies point one way (edge → routes → handlers → auth, rate,
//! password, tokens → store); the core never names HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bookshelf_tests::workspace_root;

const MAX_LINES: usize = 620;

/// Module path (`web::request`, `store`, `lib` for the crate root) → source text.
fn modules() -> BTreeMap<String, String> {
    let root = workspace_root().join("shared/src");
    let mut out = BTreeMap::new();
    collect(&root, &root, &mut out);
    out
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            out.insert(parts.join("::"), std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code before the unit tests (tests may reach anywhere).
fn production_code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// The child modules a module declares (`mod x;`).
fn children(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod ")))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_owned)
        .collect()
}

/// Every `a::b::c` path named after `crate::`, `super::`, `self::` or a declared child
/// (`child::x`), resolved to an absolute path from the crate root. Grouped imports
/// (`crate::{a, b::{c, d}}`) are expanded. Re-exports (`pub use`) are a module's public face,
/// not a dependency, and are skipped.
fn imported_paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let own: Vec<String> = module.split("::").filter(|p| *p != "lib").map(str::to_owned).collect();
    let code = production_code(text);
    let mut prefixes: Vec<(String, Vec<String>)> = vec![
        ("crate::".to_owned(), Vec::new()),
        ("super::".to_owned(), own[..own.len().saturating_sub(1)].to_vec()),
        ("self::".to_owned(), own.clone()),
    ];
    for child in children(code) {
        let mut base = own.clone();
        base.push(child.clone());
        prefixes.push((format!("{child}::"), base));
    }
    let mut paths = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let next = prefixes
            .iter()
            .filter_map(|(prefix, base)| {
                let mut from = at;
                // A prefix counts only where a path starts, not inside `x::crate_like::`.
                while let Some(i) = code[from..].find(prefix.as_str()) {
                    let index = from + i;
                    let before = code[..index].chars().next_back();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                        return Some((index, prefix, base));
                    }
                    from = index + prefix.len();
                }
                None
            })
            .min_by_key(|(index, _, _)| *index);
        let Some((index, prefix, base)) = next else { break };
        let line_start = code[..index].rfind('\n').map_or(0, |i| i + 1);
        let line = code[line_start..].trim_start();
        let after = &code[index + prefix.len()..];
        let reexport = line.starts_with("pub use") || line.starts_with("pub(crate) use");
        let (tree, consumed) = path_tree(after);
        if !reexport && !line.starts_with("//") {
            for suffix in tree {
                let mut full = base.clone();
                full.extend(suffix);
                paths.push(full);
            }
        }
        at = index + prefix.len() + consumed.max(1);
    }
    paths
}

/// Parses `a::b::{c, d::e}` into `[a,b,c]`, `[a,b,d,e]`; returns the paths and bytes read.
fn path_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    loop {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i > start {
            prefix.push(text[start..i].to_owned());
        }
        let group = if text[i..].starts_with("::{") {
            3
        } else if i == start && text[i..].starts_with('{') {
            1
        } else {
            0
        };
        if group > 0 {
            i += group;
            let mut out = Vec::new();
            loop {
                while i < bytes.len() && (bytes[i] as char).is_whitespace() {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return (out, i + 1);
                }
                let (inner, used) = path_tree(&text[i..]);
                for p in inner {
                    let mut full = prefix.clone();
                    full.extend(p);
                    out.push(full);
                }
                i += used;
                while i < bytes.len() && (bytes[i] as char).is_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && bytes[i] == b',' {
                    i += 1;
                }
            }
        }
        if text[i..].starts_with("::") && i > start {
            i += 2;
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The module an absolute path lands in: its longest prefix that is a module.
fn module_of(path: &[String], known: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|candidate| known.contains(candidate))
}

fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(module, text)| {
            let used = imported_paths(module, text)
                .iter()
                .filter_map(|path| module_of(path, &known))
                .filter(|target| target != module)
                .collect();
            (module.clone(), used)
        })
        .collect()
}

#[test]
fn no_file_under_shared_src_is_longer_than_about_600_lines() {
    let long: Vec<(String, usize)> = modules()
        .into_iter()
        .map(|(module, text)| (module, text.lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:?}");
}

#[test]
fn no_two_modules_import_each_other() {
    let imports = imports();
    let mut mutual = Vec::new();
    for (a, targets) in &imports {
        for b in targets {
            if a < b && imports.get(b).is_some_and(|back| back.contains(a)) {
                mutual.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(mutual.is_empty(), "modules importing each other: {mutual:?}");
}

/// The first segment of a module path: its top-level module.
fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn the_top_level_modules_import_each_other_without_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, targets) in imports() {
        for target in targets {
            if top(&module) != top(&target) && top(&module) != "lib" {
                graph.entry(top(&module).to_owned()).or_default().insert(top(&target).to_owned());
            }
        }
    }
    // Depth-first search; a module met again on the current path closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|n| n == node) {
            panic!("import cycle: {} -> {node}", path[at..].join(" -> "));
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    assert!(done.len() > 10, "the import reader found too few modules: {done:?}");
}

#[test]
fn the_import_graph_is_read_from_the_real_sources() {
    let imports = imports();
    for (from, to) in [
        ("handlers::login", "store::keys"),
        ("edge::dispatch", "routes"),
        ("wire::native", "wire::codec"),
        ("store", "store::keys"),
        ("routes", "handlers::refresh"),
    ] {
        assert!(
            imports.get(from).is_some_and(|t| t.contains(to)),
            "{from} should import {to}: {:?}",
            imports.get(from)
        );
    }
}

#[test]
fn storage_errors_outcomes_and_password_rules_know_nothing_of_http() {
    let modules = modules();
    let imports = imports();
    for (module, targets) in &imports {
        let core = ["store", "error", "password", "outcome", "domain", "tokens", "rate_scope"].contains(&top(module));
        if !core {
            continue;
        }
        let edge: Vec<&String> =
            targets.iter().filter(|t| ["web", "wire", "edge", "routes", "handlers"].contains(&top(t))).collect();
        assert!(edge.is_empty(), "{module} reaches the edge: {edge:?}");
        let code = production_code(&modules[module]);
        for crate_name in ["http::", "lambda_http::", "aws_lambda_events::"] {
            let named = code.match_indices(crate_name).any(|(i, _)| {
                !code[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            assert!(!named, "{module} names the {crate_name} crate");
        }
        if top(module) == "store" {
            assert!(!targets.contains("error"), "{module} maps its own errors to the API's");
        }
    }
}

#[test]
fn the_import_reader_sees_grouped_and_relative_paths() {
    let text = "mod kid;\nuse crate::{a::{b, c::d}, e};\nuse super::f::G;\npub use self::h::I;\nfn x() { crate::j::k(); kid::y(); my_kid::z(); }";
    let paths: Vec<String> = imported_paths("m::n", text).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["a::b", "a::c::d", "e", "m::f::G", "j::k", "m::n::kid::y"]);
}
