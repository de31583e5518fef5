//! The crate's shape, checked from its source: the top-level modules of
//! `src/` depend on each other without a cycle, only the HTTP layer (and
//! the server that serves it) names `crate::http`, and `lib.rs`'s
//! `# Layout` map names every top-level module.
//!
//! Dependencies are read from the code (comments and string literals
//! skipped): every `crate::a…` path, `crate::{a, b…}` group and `super::`
//! path that climbs out of a top-level module is an edge to `a` (and `b`).
//! Re-exports count where they are written, so a module that re-exports
//! another depends on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The HTTP layer: routers, extractors, the error envelope, OpenAPI.
const HTTP: &str = "http";

/// The composition root: binds the listener and serves the HTTP app, so it
/// is the one module above `http`. Nothing imports it but the crate root.
const SERVER: &str = "server";

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("read src").map(|e| e.expect("dir entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src/`: `calls/mod.rs` is `[calls]`,
/// `calls/place.rs` is `[calls, place]`, `lib.rs` is `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let file = parts.pop().unwrap_or_default();
    match file.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        f => parts.push(f.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// `text` with comments, string and character literals blanked out, so
/// only code remains (line structure kept).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        out.push(blank(c[i]));
                        i += 1;
                    }
                }
            }
            'r' if (c.get(i + 1) == Some(&'"') || c.get(i + 1) == Some(&'#'))
                && !c.get(i.wrapping_sub(1)).is_some_and(|p| p.is_alphanumeric() || *p == '_') =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    out.push(c[i]);
                    i += 1;
                    continue;
                }
                j += 1;
                while j < c.len() {
                    if c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    out.push(blank(c[j]));
                    j += 1;
                }
                i = j;
            }
            '"' => {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        i += 1;
                    }
                    if let Some(&ch) = c.get(i) {
                        out.push(blank(ch));
                    }
                    i += 1;
                }
                i += 1;
            }
            '\'' if c.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            '\'' if c.get(i + 2) == Some(&'\'') => i += 3,
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s.find(|ch: char| !(ch.is_alphanumeric() || ch == '_')).unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The first segment of each path in a `{a, b::c, d::{e}}` group starting
/// at `s` (just after the `{`).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut at_start) = (0usize, true);
    for (k, ch) in s.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            ch if ch.is_whitespace() => {}
            _ if at_start && depth == 0 => {
                at_start = false;
                if let Some(id) = ident_at(&s[k..]) {
                    heads.push(id.to_string());
                }
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules `code` (of the module at `path`) refers to.
fn references(code: &str, path: &[String]) -> Vec<String> {
    let mut refs = Vec::new();
    let bytes = code.as_bytes();
    let word_start = |k: usize| k == 0 || !(bytes[k - 1].is_ascii_alphanumeric() || bytes[k - 1] == b'_');
    for (k, _) in code.match_indices("crate::") {
        if !word_start(k) {
            continue;
        }
        let rest = &code[k + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => refs.extend(group_heads(group)),
            None => refs.extend(ident_at(rest).map(str::to_string)),
        }
    }
    for (k, _) in code.match_indices("super::") {
        if !word_start(k) || (k >= 7 && &code[k - 7..k] == "super::") {
            continue;
        }
        let mut rest = &code[k..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        // Climbing to the crate root: the next segment is a top-level module.
        if up == path.len() {
            match rest.strip_prefix('{') {
                Some(group) => refs.extend(group_heads(group)),
                None => refs.extend(ident_at(rest).map(str::to_string)),
            }
        }
    }
    refs
}

/// Top-level module → (module it uses → files that use it), and the set
/// of top-level modules.
fn graph() -> (Graph, BTreeSet<String>) {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let tops: BTreeSet<String> =
        files.iter().filter_map(|f| module_path(f.strip_prefix(&src).ok()?).first().cloned()).collect();
    let mut g = Graph::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let path = module_path(rel);
        let Some(top) = path.first() else { continue };
        let code = code_only(&std::fs::read_to_string(f).expect("read source"));
        let node = g.entry(top.clone()).or_default();
        for r in references(&code, &path) {
            if &r != top && tops.contains(&r) {
                node.entry(r).or_default().insert(rel.display().to_string());
            }
        }
    }
    (g, tops)
}

/// A cycle of the graph, if there is one, as `a -> b -> … -> a`.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(n: &str, g: &Graph, state: &mut BTreeMap<String, u8>, stack: &mut Vec<String>) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flat_map(BTreeMap::keys) {
            match state.get(m.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|x| x == m).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if !state.contains_key(n.as_str()) {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_top_level_modules_form_no_cycle() {
    let (g, _) = graph();
    for (from, to) in &g {
        println!("{from} -> {}", to.keys().cloned().collect::<Vec<_>>().join(", "));
    }
    if let Some(cycle) = find_cycle(&g) {
        let mut why = String::new();
        for pair in cycle.windows(2) {
            let files = &g[&pair[0]][&pair[1]];
            why.push_str(&format!(
                "\n  {} -> {}: {}",
                pair[0],
                pair[1],
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        panic!("import cycle {}{why}", cycle.join(" -> "));
    }
}

#[test]
fn only_the_http_layer_and_the_server_name_crate_http() {
    let (g, _) = graph();
    let offenders: Vec<String> = g
        .iter()
        .filter(|(from, _)| from.as_str() != HTTP && from.as_str() != SERVER)
        .filter_map(|(from, to)| to.get(HTTP).map(|files| format!("{from}: {files:?}")))
        .collect();
    assert!(offenders.is_empty(), "modules outside src/http import crate::http: {offenders:#?}");
    // Not even in prose: a rule's doc points to the rule, not to its rendering.
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mentions: Vec<String> = files
        .iter()
        .filter(|f| {
            let top = module_path(f.strip_prefix(&src).expect("under src")).first().cloned().unwrap_or_default();
            !top.is_empty() && top != HTTP && top != SERVER
        })
        .filter(|f| std::fs::read_to_string(f).expect("read").contains("crate::http"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(mentions.is_empty(), "files outside src/http mention crate::http: {mentions:#?}");
    let users: Vec<&String> = g.iter().filter(|(_, to)| to.contains_key(SERVER)).map(|(from, _)| from).collect();
    assert!(users.is_empty(), "the server is the composition root; {users:?} import it");
}

#[test]
fn the_layout_map_of_lib_rs_names_every_top_level_module() {
    let (_, tops) = graph();
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).expect("lib.rs");
    let layout: String =
        lib.lines().skip_while(|l| !l.starts_with("//! # Layout")).take_while(|l| l.starts_with("//!")).collect();
    let missing: Vec<&String> = tops.iter().filter(|m| !layout.contains(&format!("[`{m}`]"))).collect();
    assert!(missing.is_empty(), "lib.rs's # Layout does not name {missing:?}");
}

#[test]
fn the_reader_finds_paths_in_groups_and_climbing_supers_but_not_in_comments_or_strings() {
    let code = code_only(
        "use crate::{a::X, b};\n// crate::c\nlet s = \"crate::d\"; let r = r#\"crate::e\"#;\nuse super::f::Y;\nlet c = '\"'; crate::g::h();",
    );
    let refs = references(&code, &["top".to_string()]);
    assert_eq!(refs, ["a", "b", "g", "f"]);
    assert_eq!(references("use super::x;", &["top".to_string(), "inner".to_string()]), Vec::<String>::new());
    let cyclic: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_string(), BTreeMap::from([(y.to_string(), BTreeSet::new())])))
        .collect();
    assert_eq!(find_cycle(&cyclic), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}
