//! The layers hold: the README's list of crates is the workspace, each
//! crate depends only on crates listed before it (cargo refuses a cycle
//! between crates, this refuses an upward edge), and within each crate the
//! modules import one another without a cycle (which the compiler allows,
//! so it is checked here). Test modules may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::root as repo_path;

/// The crates of the README's "Layers" section, lowest first: (folder, package).
fn readme_layers() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    let start = readme.find("\n## Layers\n").expect("README has a Layers section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut out = Vec::new();
    for line in section.lines() {
        // "- `crates/manifest` (`sentinel-manifest`): ..."
        let Some(rest) = line.strip_prefix("- `") else {
            continue;
        };
        let (folder, rest) = rest.split_once('`').unwrap();
        let package = rest.split('`').nth(1).unwrap_or_default();
        out.push((folder.to_string(), package.to_string()));
    }
    out
}

/// The names in a Cargo.toml's `[dependencies]` table.
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut deps = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap();
            deps.insert(name.to_string());
        }
    }
    deps
}

/// A layer's Cargo.toml: the root's for `src`, the command line.
fn manifest_of(folder: &str) -> PathBuf {
    if folder == "src" {
        repo_path("Cargo.toml")
    } else {
        repo_path(folder).join("Cargo.toml")
    }
}

/// A layer's source folder.
fn src_of(folder: &str) -> PathBuf {
    if folder == "src" {
        repo_path("src")
    } else {
        repo_path(folder).join("src")
    }
}

fn package_name(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).unwrap();
    let line = text.lines().find(|l| l.starts_with("name = ")).unwrap();
    line.trim_start_matches("name = ").trim_matches('"').to_string()
}

fn members() -> Vec<String> {
    let text = std::fs::read_to_string(repo_path("Cargo.toml")).unwrap();
    let start = text.find("members = [").unwrap();
    let end = start + text[start..].find(']').unwrap();
    text[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn readme_lists_the_workspace_and_no_crate_reaches_upward() {
    let layers = readme_layers();
    let mut listed: Vec<String> = layers.iter().map(|(f, _)| f.clone()).collect();
    assert_eq!(
        listed.pop().as_deref(),
        Some("src"),
        "the command line is the top layer"
    );
    assert_eq!(listed, members(), "README's layers against Cargo.toml's members");
    let mut below: BTreeSet<String> = BTreeSet::new();
    for (folder, package) in &layers {
        let manifest = manifest_of(folder);
        assert_eq!(&package_name(&manifest), package, "{folder}");
        for dep in dependencies(&manifest)
            .iter()
            .filter(|d| d.starts_with("sentinel-"))
        {
            assert!(
                below.contains(dep),
                "{package} depends on {dep}, which is not below it"
            );
        }
        below.insert(package.clone());
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A file's code without comments and without its test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a text names through `crate::`: `crate::a::x`
/// and each item of `crate::{a::x, b}`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let ident = |t: &str| -> String {
        t.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + 7..];
        match rest.strip_prefix('{') {
            Some(group) => {
                // The group's items at its own depth.
                let (mut depth, mut item_start) = (0, 0);
                for (k, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            out.insert(ident(group[item_start..k].trim_start()));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.insert(ident(group[item_start..k].trim_start()));
                            item_start = k + 1;
                        }
                        _ => {}
                    }
                }
            }
            None => {
                out.insert(ident(rest));
            }
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// Each top-level module of a crate and the crate's other top-level
/// modules it names through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap().to_string_lossy().to_string();
        let module = rel.trim_end_matches(".rs").split('/').next().unwrap().to_string();
        let text = code(&std::fs::read_to_string(&f).unwrap());
        let uses = graph.entry(module.clone()).or_default();
        uses.extend(crate_paths(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

/// A cycle in the graph, if any, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let from = path.iter().position(|p| p == n).unwrap();
                let mut c = path[from..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_crate_has_a_module_cycle() {
    for (folder, _) in readme_layers() {
        let graph = module_graph(&src_of(&folder));
        assert!(graph.len() > 1 || folder == "src", "{folder} has modules");
        if let Some(c) = cycle(&graph) {
            panic!(
                "{folder}: modules import one another in a cycle: {}",
                c.join(" -> ")
            );
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    g.get_mut("c").unwrap().clear();
    assert_eq!(cycle(&g), None);
    assert_eq!(
        code("use crate::x;\n// crate::y\n#[cfg(test)]\nmod tests {\n use crate::z;\n}"),
        "use crate::x;"
    );
    let named = crate_paths(
        "use crate::{a::X, b::{c, d}, e};\nlet v = crate::f::g(); my_crate::h; sentinel_crate::i;",
    );
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["a", "b", "e", "f"]);
}
