//! The mock's own OpenAPI document says what every route accepts: each
//! operation whose handler reads a JSON body (`ApiJson<…>` in its
//! signature) has a request-body schema, each `{param}` of a path is a
//! path parameter, and each handler that reads a query (`ApiQuery<…>`)
//! documents query parameters. Handlers are found by reading the
//! `#[utoipa::path(…)]` annotations in `src/http`, so a new route is
//! counted without being listed here.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One annotated handler: method, path (as documented) and signature.
#[derive(Debug)]
struct Handler {
    method: String,
    path: String,
    signature: String,
    file: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/http is readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every `#[utoipa::path(<method>, path = "<path>", …)]` with the
/// signature of the `async fn` it annotates.
fn handlers() -> Vec<Handler> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        // Annotations start a line; mentions in doc comments do not.
        for (at, _) in text.match_indices("\n#[utoipa::path(") {
            let rest = &text[at + "\n#[utoipa::path(".len()..];
            let method = rest.split(',').next().unwrap_or_default().trim().to_string();
            let path = rest.split("path = \"").nth(1).and_then(|p| p.split('"').next()).unwrap_or_default().to_string();
            let Some(fn_at) = rest.find("async fn ") else { continue };
            let sig = &rest[fn_at..];
            let end = sig.find('{').unwrap_or(sig.len());
            let name = file.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_default();
            out.push(Handler { method, path, signature: sig[..end].to_string(), file: name });
        }
    }
    out
}

fn document() -> Value {
    serde_json::from_str(atoms_mock::http::openapi_json()).expect("the document parses")
}

/// The operation of `h` in the document (platform paths are mounted under
/// `/atoms/v1`, billing paths under `/payment/v1`).
fn operation<'a>(doc: &'a Value, h: &Handler) -> &'a Value {
    let paths = &doc["paths"];
    let mut items = ["", "/atoms/v1", "/payment/v1"].into_iter().map(|p| &paths[format!("{p}{}", h.path)]);
    let item = items.find(|i| i.is_object()).unwrap_or(&Value::Null);
    &item[&h.method]
}

/// Whether `schema` says something: a reference, or a type, properties,
/// items or a combinator.
fn is_schema(schema: &Value) -> bool {
    ["$ref", "type", "properties", "items", "allOf", "oneOf", "anyOf"].iter().any(|k| schema.get(*k).is_some())
}

#[test]
fn every_operation_that_takes_a_json_body_documents_its_schema() {
    let doc = document();
    let all = handlers();
    assert!(all.len() > 100, "found only {} annotated handlers", all.len());
    let with_body: Vec<&Handler> = all.iter().filter(|h| h.signature.contains("ApiJson<")).collect();
    let missing: Vec<String> = with_body
        .iter()
        .filter(|h| !is_schema(&operation(&doc, h)["requestBody"]["content"]["application/json"]["schema"]))
        .map(|h| format!("{} {} ({})", h.method, h.path, h.file))
        .collect();
    let documented = with_body.len() - missing.len();
    println!("request-body schemas: {documented}/{} operations with a JSON body", with_body.len());
    assert!(with_body.len() >= 38, "only {} JSON bodies found; did the scan break?", with_body.len());
    assert!(missing.is_empty(), "{documented}/{} documented; missing: {missing:#?}", with_body.len());
}

#[test]
fn every_route_documents_its_path_and_query_parameters() {
    let doc = document();
    let mut missing = Vec::new();
    for h in handlers() {
        let op = operation(&doc, &h);
        assert!(op.is_object(), "{} {} is not in the document", h.method, h.path);
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let named = |place: &str, name: &str| params.iter().any(|p| p["in"] == place && p["name"] == name);
        for seg in h.path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            if !named("path", name) {
                missing.push(format!("{} {}: path parameter {name}", h.method, h.path));
            }
        }
        if h.signature.contains("ApiQuery<") && !params.iter().any(|p| p["in"] == "query") {
            missing.push(format!("{} {}: reads a query but documents none", h.method, h.path));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

/// Every `$ref` in the document names a component it defines (a client
/// generator, or schemathesis, would stop at a dangling one).
#[test]
fn every_schema_reference_resolves() {
    let doc = document();
    let text = doc.to_string();
    let defined = doc["components"]["schemas"].as_object().cloned().unwrap_or_default();
    let dangling: std::collections::BTreeSet<&str> = text
        .split("\"#/components/schemas/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| !defined.contains_key(*name))
        .collect();
    assert!(dangling.is_empty(), "undefined components: {dangling:?}");
}
