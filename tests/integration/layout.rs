//! The shape of `shared/src` holds: no file grows past about 600 lines, and no two modules
//! import each other, so each concern stays in the file its name promises and dependencies
//! flow one way (edge → handlers → auth/tokens/password → store).

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

/// Every `a::b::c` path named after `crate::`, `super::` or `self::`, resolved to an absolute
/// path from the crate root. Grouped imports (`crate::{a, b::{c, d}}`) are expanded.
/// Re-exports (`pub use`) are a module's public face, not a dependency, and are skipped.
fn imported_paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let parent: Vec<String> = module.split("::").filter(|p| *p != "lib").map(str::to_owned).collect();
    let mut paths = Vec::new();
    let code = production_code(text);
    let mut rest = code;
    while let Some(at) = ["crate::", "super::", "self::"].iter().filter_map(|p| rest.find(p).map(|i| (i, *p))).min() {
        let (index, prefix) = at;
        let line_start = rest[..index].rfind('\n').map_or(0, |i| i + 1);
        let line = rest[line_start..].trim_start();
        let after = &rest[index + prefix.len()..];
        let reexport = line.starts_with("pub use") || line.starts_with("pub(crate) use");
        let base: Vec<String> = match prefix {
            "crate::" => Vec::new(),
            "super::" => parent[..parent.len().saturating_sub(1)].to_vec(),
            _ => parent.clone(),
        };
        let (tree, consumed) = path_tree(after);
        if !reexport && !line.starts_with("//") {
            for suffix in tree {
                let mut full = base.clone();
                full.extend(suffix);
                paths.push(full);
            }
        }
        rest = &after[consumed.max(1)..];
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

#[test]
fn storage_and_errors_know_nothing_of_http_or_wire_formats() {
    let imports = imports();
    for (module, targets) in &imports {
        if module.starts_with("store") || module == "error" || module == "password" || module == "outcome" {
            let edge: Vec<&String> = targets.iter().filter(|t| t.starts_with("web") || t.starts_with("wire")).collect();
            assert!(edge.is_empty(), "{module} reaches the edge: {edge:?}");
        }
        if module.starts_with("store") {
            assert!(!targets.contains("error"), "{module} maps its own errors to the API's");
        }
    }
}

#[test]
fn the_import_reader_sees_grouped_and_relative_paths() {
    let text = "use crate::{a::{b, c::d}, e};\nuse super::f::G;\npub use self::h::I;\nfn x() { crate::j::k(); }";
    let paths: Vec<String> = imported_paths("m::n", text).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["a::b", "a::c::d", "e", "m::f::G", "j::k"]);
}
