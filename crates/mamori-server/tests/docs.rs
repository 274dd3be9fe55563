//! What people read about the wire agrees with the generated OpenAPI document: the npm
//! package's typings (`www/npm/index.d.ts`, `verify.d.ts`) where they mirror the wire, and
//! `docs/api.md`'s routes, members, values and statuses.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;
use serde_json::Value;

fn document() -> Value {
    serde_json::to_value(mamori_server::openapi::document("http://127.0.0.1")).unwrap()
}

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

/// The string values of a schema's `enum`.
fn enum_of(schema: &Value) -> BTreeSet<String> {
    let values = schema["enum"].as_array().expect("an enum");
    values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

// ---- The npm typings ----

/// The body of `interface <name> { … }` in a `.d.ts`.
fn interface<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("interface {name} "))
        .unwrap_or_else(|| panic!("no interface {name}"));
    let body = &text[start..];
    let open = body.find('{').unwrap();
    let mut depth = 0;
    for (at, c) in body.char_indices().skip(open) {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => return &body[open + 1..at],
            '}' => depth -= 1,
            _ => {}
        }
    }
    panic!("interface {name} is not closed")
}

/// The members of an interface body, as `(name, optional, type)`, and the doc comment just
/// above each.
fn members(body: &str) -> Vec<(String, bool, String, String)> {
    let member = Regex::new(r"(?m)^\s*(\w+)(\??):\s*([^;]+);").unwrap();
    let mut out = Vec::new();
    let mut last = 0;
    for found in member.captures_iter(body) {
        let whole = found.get(0).unwrap();
        let comment = body[last..whole.start()].to_owned();
        last = whole.end();
        out.push((
            found[1].to_owned(),
            &found[2] == "?",
            found[3].trim().to_owned(),
            comment,
        ));
    }
    out
}

fn member(body: &str, name: &str) -> (bool, String, String) {
    members(body)
        .into_iter()
        .find(|(n, ..)| n == name)
        .map(|(_, optional, kind, comment)| (optional, kind, comment))
        .unwrap_or_else(|| panic!("no member {name}"))
}

/// The literals of a union type such as `'Y' | 'A'`.
fn union(kind: &str) -> BTreeSet<String> {
    kind.split('|')
        .map(|v| v.trim().trim_matches('\'').to_owned())
        .collect()
}

/// The `backticked` words of a doc comment.
fn ticked(text: &str) -> Vec<String> {
    let word = Regex::new(r"`(\w+)`").unwrap();
    word.captures_iter(text).map(|c| c[1].to_owned()).collect()
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Error codes the widget makes up itself; every other code it reports is the verifier's.
const WIDGET_CODES: [&str; 4] = ["network", "server_error", "bad_response", "invalid_options"];

/// The error codes the widget's routes document, with their statuses.
fn widget_error_codes(doc: &Value) -> Vec<(u16, String)> {
    let mut codes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/authentications/{id}/") {
            continue;
        }
        for (status, response) in item["post"]["responses"].as_object().unwrap() {
            let schema = &response["content"]["application/json"]["schema"];
            for part in schema["allOf"].as_array().into_iter().flatten() {
                for code in part["properties"]["error"]["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    codes.push((status.parse().unwrap(), code.as_str().unwrap().to_owned()));
                }
            }
        }
    }
    codes
}

#[test]
fn the_widgets_typings_match_the_wire() {
    let doc = document();
    let typings = read("www/npm/index.d.ts");

    // `mamori:result` and `mamori:cancel` carry the answers' `status`.
    let (_, kind, _) = member(interface(&typings, "ResultDetail"), "status");
    assert_eq!(union(&kind), enum_of(schema(&doc, "Status")));

    // `mamori:challenge` carries the challenge's facts, camelCased, with their types.
    let challenge = schema(&doc, "Challenge");
    let detail = members(interface(&typings, "ChallengeDetail"));
    assert!(detail.len() >= 4, "{detail:?}");
    for (name, _, kind, _) in detail {
        let wire = &challenge["properties"][snake(&name)];
        let expected = match wire["type"].as_str() {
            Some("integer") => "number",
            Some("string") => "string",
            other => panic!("ChallengeDetail.{name}: {other:?} on the wire"),
        };
        assert_eq!(kind, expected, "ChallengeDetail.{name}");
    }

    // `mamori:error` codes: the verifier's are codes its widget routes answer, and the ones
    // called retryable are exactly those answered with 429 (or 5xx, which the widget reports as
    // `server_error`).
    let answered = widget_error_codes(&doc);
    let errors = interface(&typings, "ErrorDetail");
    let (_, _, comment) = member(errors, "code");
    let listed = ticked(&comment);
    assert!(listed.len() >= 8, "{listed:?}");
    for code in &listed {
        assert!(
            WIDGET_CODES.contains(&code.as_str()) || answered.iter().any(|(_, c)| c == code),
            "ErrorDetail.code lists {code}, which no widget route answers"
        );
    }
    let (_, _, comment) = member(errors, "retryable");
    let (retryable, refusals) = comment.split_once("`false`").expect("true; false");
    for (code, expect_retryable) in ticked(retryable)
        .into_iter()
        .map(|c| (c, true))
        .chain(ticked(refusals).into_iter().map(|c| (c, false)))
    {
        // Skip the widget's own codes and the words that name members (`fatal`).
        let member_name = members(errors).iter().any(|(n, ..)| *n == code);
        if code == "true" || member_name || WIDGET_CODES.contains(&code.as_str()) {
            continue;
        }
        let (status, _) = answered
            .iter()
            .find(|(_, c)| *c == code)
            .unwrap_or_else(|| panic!("{code} is not answered by a widget route"));
        assert_eq!(
            *status == 429 || *status >= 500,
            expect_retryable,
            "{code} ({status}) in ErrorDetail.retryable"
        );
    }
}

#[test]
fn the_verifiers_typings_use_the_wires_vocabulary() {
    let doc = document();
    let typings = read("www/npm/verify.d.ts");
    let claims = interface(&typings, "ResultClaims");
    for (member_name, schema_name) in [("status", "Status"), ("eci", "Eci"), ("method", "Method")] {
        let (_, kind, _) = member(claims, member_name);
        assert_eq!(
            union(&kind),
            enum_of(schema(&doc, schema_name)),
            "ResultClaims.{member_name}"
        );
    }
}

// ---- docs/api.md ----

/// Every property name in the document, and the enum values each name takes anywhere.
fn properties(value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                for (name, schema) in props {
                    out.push((name.clone(), schema.clone()));
                }
            }
            map.values().for_each(|v| properties(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| properties(v, out)),
        _ => {}
    }
}

/// The enum values a property schema allows, following a `$ref` or a nullable `oneOf`.
fn values(doc: &Value, property: &Value) -> BTreeSet<String> {
    if let Some(reference) = property["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return values(doc, schema(doc, name));
    }
    let mut out: BTreeSet<String> = property["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for part in property["oneOf"].as_array().into_iter().flatten() {
        out.extend(values(doc, part));
    }
    out
}

/// The documented operation `method path`, `path` concrete or a template.
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let matches = |template: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter()
                .zip(&p)
                .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
    };
    let (_, item) = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(template, _)| matches(template))
        .unwrap_or_else(|| panic!("{path} is not documented"));
    let op = &item[method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {path} is not documented");
    op
}

/// Whether a response of `op` (or of any operation, when `None`) has `status` with `code`.
fn answers(doc: &Value, op: Option<&Value>, status: &str, code: &str) -> bool {
    // The router's fallbacks, stated in the document's description.
    if (status, code) == ("404", "not_found") || (status, code) == ("405", "method_not_allowed") {
        return true;
    }
    let ops: Vec<&Value> = match op {
        Some(op) => vec![op],
        None => doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .collect(),
    };
    ops.iter().any(|op| {
        let schema = &op["responses"][status]["content"]["application/json"]["schema"];
        schema["allOf"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|part| values(doc, &part["properties"]["error"]).contains(code))
    })
}

#[test]
fn api_md_agrees_with_the_document() {
    let doc = document();
    let text = read("docs/api.md");
    let mut props = Vec::new();
    properties(&doc, &mut props);
    let names: BTreeSet<&str> = props.iter().map(|(n, _)| n.as_str()).collect();

    // Members: every `"name":` in a code span, and every bare `"name",` or `"name"}` where a
    // member stands (`{"id", "state": …}`), is a property of the document.
    let spans: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
    let key = Regex::new(r#""(\w+)"\s*:|[{,]\s*"(\w+)"\s*[,}]"#).unwrap();
    let mut checked = 0;
    for span in spans.iter().filter(|s| s.contains('{')) {
        for found in key.captures_iter(span) {
            let name = found.get(1).or(found.get(2)).unwrap().as_str();
            assert!(names.contains(name), "docs/api.md: \"{name}\" in `{span}`");
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} members");

    // Values: `"name": "value"` (or `"a"|"b"|null`) is one of the values the document allows
    // for a member of that name, wherever it has an enum.
    let pair =
        Regex::new(r#""(\w+)"\s*:\s*((?:"[^"]*"|null)(?:\s*\|\s*(?:"[^"]*"|null))*)"#).unwrap();
    let literal = Regex::new(r#""(\w+)""#).unwrap();
    let mut checked = 0;
    for span in &spans {
        for found in pair.captures_iter(span) {
            let allowed: BTreeSet<String> = props
                .iter()
                .filter(|(n, _)| *n == found[1])
                .flat_map(|(_, schema)| values(&doc, schema))
                .collect();
            if allowed.is_empty() {
                continue;
            }
            for value in literal.captures_iter(&found[2]) {
                assert!(
                    allowed.contains(&value[1]),
                    "docs/api.md: \"{}\": \"{}\" is not one of {allowed:?}",
                    &found[1],
                    &value[1]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 25, "{checked} values");

    // Statuses: in a route's bullet, each status and `NNN {"error":"code"}` or `NNN code` is a
    // response of that operation; elsewhere, of some operation.
    let bullet = Regex::new(r"^- `(GET|POST|PUT|PATCH|DELETE) (/[^` ]*)`").unwrap();
    let status = Regex::new(r#"→ `(\d{3})\b"#).unwrap();
    let error = Regex::new(r#"`(\d{3}) (?:\{"error":\s*"(\w+)"|(\w+)`)"#).unwrap();
    let mut item: Option<&Value> = None;
    let mut checked = 0;
    for line in text.lines() {
        if let Some(found) = bullet.captures(line) {
            item = Some(operation(&doc, &found[1], &found[2]));
        } else if !line.starts_with(' ') && !line.is_empty() {
            item = None;
        }
        for found in status.captures_iter(line) {
            let op = item.expect("a status after → belongs to a route");
            assert!(
                op["responses"][&found[1]].is_object(),
                "docs/api.md: {line}"
            );
            checked += 1;
        }
        for found in error.captures_iter(line) {
            let code = found.get(2).or(found.get(3)).unwrap().as_str();
            assert!(
                answers(&doc, item, &found[1], code),
                "docs/api.md: {} {code} in {line}",
                &found[1]
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} statuses");
}
