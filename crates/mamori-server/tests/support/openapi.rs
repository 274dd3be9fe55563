//! Holds the verifier to its OpenAPI document: [`Checker::check`] validates one answer against
//! the schema the document gives for its method, route and status, and [`checked`] runs it on
//! every answer a router gives, so every HTTP scenario checks the document as it goes.
//!
//! An answer fails when its route, method or status is not documented, when its media type is
//! not one the document lists for that status, or when a JSON body does not match the schema
//! (JSON Schema 2020-12, as OpenAPI 3.1 uses; `#/components/schemas/…` resolve against the
//! document). A path no route matches must answer `404 not_found`, and a documented path with
//! another method `405 method_not_allowed`, as the document's description says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use jsonschema::Validator;
use serde_json::{Value, json};

/// The document, the validators built from it so far, and what failed.
pub struct Checker {
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
    /// Routes that are not the verifier's (the demo's shop and mailbox), left unchecked.
    foreign: fn(&str) -> bool,
    checked: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl Checker {
    /// A checker of the verifier's document; `foreign` names routes it does not describe.
    pub fn new(foreign: fn(&str) -> bool) -> Self {
        let document = mamori_server::openapi::document("http://127.0.0.1");
        Self {
            document: serde_json::to_value(document).unwrap(),
            validators: Mutex::default(),
            foreign,
            checked: AtomicUsize::new(0),
            failures: Mutex::default(),
        }
    }

    /// How many answers were checked.
    pub fn checked(&self) -> usize {
        self.checked.load(Ordering::SeqCst)
    }

    /// Every failure so far.
    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }

    /// Checks one answer; `route` is the matched route's template (`None` when no route
    /// matched), `content_type` the `Content-Type` header, `body` the body (`None` when it was
    /// not read: compressed).
    ///
    /// # Errors
    ///
    /// What does not match the document, with the answer.
    pub fn check(
        &self,
        method: &str,
        route: Option<&str>,
        status: u16,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        self.checked.fetch_add(1, Ordering::SeqCst);
        let text = String::from_utf8_lossy(body.unwrap_or(b"(compressed)"));
        let context = format!(
            "{method} {} → {status} {} {text}",
            route.unwrap_or("(no route)"),
            content_type.unwrap_or("(no content type)")
        );
        self.answer(method, route, status, content_type, body)
            .map_err(|why| format!("{context}: {why}"))
    }

    fn answer(
        &self,
        method: &str,
        route: Option<&str>,
        status: u16,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        let Some(route) = route else {
            return self.fallback(status, 404, "not_found", content_type, body);
        };
        let item = &self.document["paths"][route];
        if !item.is_object() {
            return Err("the route is not in the document".into());
        }
        let method = method.to_ascii_lowercase();
        if !item[&method].is_object() {
            return self.fallback(status, 405, "method_not_allowed", content_type, body);
        }
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            route.replace('~', "~0").replace('/', "~1")
        );
        let response = self
            .document
            .pointer(&pointer)
            .ok_or("the status is not documented for this operation")?;
        let Some(content) = response["content"].as_object() else {
            return match body.unwrap_or_default().is_empty() {
                true => Ok(()),
                false => Err("the document gives this status no body".into()),
            };
        };
        let media_type = content_type
            .and_then(|c| c.split(';').next())
            .map(str::trim)
            .ok_or("the answer has no Content-Type")?;
        if !content.contains_key(media_type) {
            return Err(format!("{media_type} is not documented for this status"));
        }
        match body {
            Some(body) if media_type == "application/json" => {
                self.validate(&format!("{pointer}/content/application~1json/schema"), body)
            }
            _ => Ok(()),
        }
    }

    /// An answer of the router's fallbacks: `expected` with `code`, as an `Error`.
    fn fallback(
        &self,
        status: u16,
        expected: u16,
        code: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        let body = body.unwrap_or_default();
        if status != expected || content_type != Some("application/json") {
            return Err(format!("expected the fallback's {expected} {code} as JSON"));
        }
        self.validate("/components/schemas/Error", body)?;
        let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        match value["error"] == code {
            true => Ok(()),
            false => Err(format!("expected error {code}")),
        }
    }

    /// Validates `body` against the schema at `pointer` in the document.
    fn validate(&self, pointer: &str, body: &[u8]) -> Result<(), String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        let validator = self.validator(pointer)?;
        if validator.is_valid(&value) {
            return Ok(());
        }
        // Every failing keyword, inside each `oneOf` branch too: which member is missing says
        // more than "no branch matches".
        let evaluation = validator.evaluate(&value);
        let errors: Vec<String> = evaluation
            .iter_errors()
            .map(|e| format!("{} ({})", e, e.schema_location))
            .collect();
        Err(format!("does not match {pointer}: {}", errors.join("; ")))
    }

    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, String> {
        let mut validators = self.validators.lock().unwrap();
        if let Some(validator) = validators.get(pointer) {
            return Ok(Arc::clone(validator));
        }
        let schema = self
            .document
            .pointer(pointer)
            .ok_or_else(|| format!("no schema at {pointer}"))?;
        // The schema with the document's components beside it, so its references resolve.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema],
        });
        let validator = Arc::new(
            jsonschema::draft202012::new(&root)
                .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?,
        );
        validators.insert(pointer.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }
}

/// Whether `route` is one of `mamori demo`'s own (its shop, mailbox and pages), which the
/// verifier's document does not describe.
pub fn demo_route(route: &str) -> bool {
    route == "/" || route.starts_with("/demo/") || route.starts_with("/assets")
}

/// `router` with every answer checked by `checker`. A failure is kept for
/// [`Checker::failures`] rather than raised here: the server runs in its own task, where a
/// panic would only cut the connection; the test server fails the test with the list.
pub fn checked(router: Router, checker: Arc<Checker>) -> Router {
    router.layer(middleware::from_fn_with_state(checker, check_answer))
}

async fn check_answer(
    State(checker): State<Arc<Checker>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    if route.as_deref().is_some_and(checker.foreign) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    // A compressed body (a widget file) is checked for its media type only.
    let body = match parts.headers.contains_key(header::CONTENT_ENCODING) {
        true => None,
        false => Some(&bytes[..]),
    };
    let checked = checker.check(
        &method,
        route.as_deref(),
        parts.status.as_u16(),
        content_type.as_deref(),
        body,
    );
    if let Err(failure) = checked {
        checker.failures.lock().unwrap().push(failure);
    }
    Response::from_parts(parts, Body::from(bytes))
}
