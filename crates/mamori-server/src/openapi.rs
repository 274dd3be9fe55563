//! The OpenAPI 3.1 document served at `/openapi.json`, written by hand next to the routes.
//!
//! A test checks that every route of [`crate::api::app`] appears here, so the two cannot drift.

use serde_json::{Value, json};

/// The routes this document describes, as `(method, path)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/authentications"),
    ("get", "/v1/authentications/{id}"),
    ("post", "/v1/authentications/{id}/device"),
    ("post", "/v1/authentications/{id}/challenge/verify"),
    ("post", "/v1/authentications/{id}/challenge/resend"),
    ("post", "/v1/authentications/{id}/cancel"),
    ("get", "/report/{token}"),
    ("post", "/report/{token}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/v1/sandbox/mail"),
    ("get", "/widget/{file}"),
];

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn json_body(schema: &str) -> Value {
    json!({
        "required": true,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn ok(schema: &str, description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn widget_op(summary: &str, body: &str, answer: &str) -> Value {
    json!({
        "summary": summary,
        "security": [{"clientSecret": []}],
        "parameters": [{"$ref": "#/components/parameters/id"}, {"$ref": "#/components/parameters/origin"}],
        "requestBody": json_body(body),
        "responses": {
            "200": ok(answer, "The outcome."),
            "400": error_response("invalid_body, invalid_request or invalid_code."),
            "401": error_response("unauthorized: unknown id or wrong client secret."),
            "403": error_response("origin_not_allowed."),
            "409": error_response("authentication_finished, challenge_not_started or resend_limit."),
            "413": error_response("payload_too_large."),
            "415": error_response("unsupported_media_type."),
            "429": error_response("resend_cooldown, with retry_after.")
        }
    })
}

/// The document; `server` is the verifier's public URL.
pub fn document(server: &str) -> Value {
    let text = |d: &str| json!({"description": d, "content": {"text/plain": {}}});
    let html = |d: &str| json!({"description": d, "content": {"text/html": {}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mamori verifier",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Risk-based checkout authentication with emailed one-time codes. \
                Errors are {\"error\": code, \"message\": text} and change no state."
        },
        "servers": [{"url": server}],
        "paths": {
            "/v1/authentications": {"post": {
                "summary": "Start an authentication (merchant backend).",
                "security": [{"merchantSecret": []}],
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Retries with the same key and body answer the first \
                        authentication (with Idempotent-Replayed: true); another body is 409."}],
                "requestBody": json_body("CreateAuthentication"),
                "responses": {
                    "201": ok("Created", "Created; give id and client_secret to the widget."),
                    "400": error_response("invalid_body, invalid_request, invalid_card_number or \
                        sandbox_card_required (a sandbox merchant named a card that is not a test card)."),
                    "401": error_response("unauthorized."),
                    "409": error_response("idempotency_key_reused: the key came with another request."),
                    "413": error_response("payload_too_large."),
                    "415": error_response("unsupported_media_type.")
                }
            }},
            "/v1/authentications/{id}": {"get": {
                "summary": "State, result and reasons of an authentication (merchant backend).",
                "security": [{"merchantSecret": []}],
                "parameters": [{"$ref": "#/components/parameters/id"}],
                "responses": {
                    "200": ok("AuthenticationView", "The authentication."),
                    "401": error_response("unauthorized."),
                    "404": error_response("not_found: no such authentication for this merchant.")
                }
            }},
            "/v1/authentications/{id}/device": {"post": widget_op(
                "Device step: frictionless, challenge or rejected (widget).", "DeviceRequest", "DeviceOutcome")},
            "/v1/authentications/{id}/challenge/verify": {"post": widget_op(
                "Check a one-time code (widget).", "VerifyRequest", "VerifyOutcome")},
            "/v1/authentications/{id}/challenge/resend": {"post": widget_op(
                "Send a new code, replacing the old one (widget).", "Empty", "ResendOutcome")},
            "/v1/authentications/{id}/cancel": {"post": widget_op(
                "Cancel the authentication (widget).", "Empty", "CancelOutcome")},
            "/report/{token}": {
                "get": {"summary": "The \"I did not make this purchase\" page.",
                    "parameters": [{"$ref": "#/components/parameters/token"}],
                    "responses": {"200": html("The page."), "404": error_response("invalid_report_link.")}},
                "post": {"summary": "Confirm the report: revokes the card's trusted devices.",
                    "parameters": [{"$ref": "#/components/parameters/token"}],
                    "responses": {"200": html("Confirmation page."), "404": error_response("invalid_report_link.")}}
            },
            "/healthz": {"get": {"summary": "Liveness.", "responses": {"200": {"description": "Up."}}}},
            "/readyz": {"get": {"summary": "Readiness: the database answers.",
                "responses": {"200": {"description": "Ready."}, "503": error_response("unavailable.")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics.", "responses": {"200": text("Text exposition format 0.0.4.")}}},
            "/openapi.json": {"get": {"summary": "This document.", "responses": {"200": {"description": "OpenAPI 3.1."}}}},
            "/v1/sandbox/mail": {"get": {
                "summary": "A sandbox merchant's kept mail, newest first (merchant backend).",
                "security": [{"merchantSecret": []}],
                "responses": {
                    "200": ok("SandboxMail", "The mail its test cards caused; none is ever sent."),
                    "401": error_response("unauthorized."),
                    "404": error_response("not_found: the merchant is not a sandbox.")
                }
            }},
            "/widget/{file}": {"get": {
                "summary": "The widget's release files, for any origin (CORS *, CORP cross-origin): \
                    mamori-<hash>.js and .wasm (immutable), mamori.js and manifest.json (5 minutes).",
                "parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The file; gzip when accepted."},
                    "404": error_response("not_found: no such file, or widget_dir unset.")}}}
        },
        "components": {
            "securitySchemes": {
                "merchantSecret": {"type": "http", "scheme": "bearer",
                    "description": "The merchant's secret key, mamori_sk.<kid>.<secret>."},
                "clientSecret": {"type": "http", "scheme": "bearer",
                    "description": "The authentication's client_secret (cs_…); the Origin must be registered."}
            },
            "parameters": {
                "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                "token": {"name": "token", "in": "path", "required": true, "schema": {"type": "string"}},
                "origin": {"name": "Origin", "in": "header", "required": true, "schema": {"type": "string"}}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"},
                    "retry_after": {"type": "integer"}}},
                "Empty": {"type": "object", "additionalProperties": false},
                "CreateAuthentication": {"type": "object", "additionalProperties": false,
                    "required": ["amount", "currency", "order_ref"],
                    "properties": {
                        "card_number": {"type": "string", "description": "12–19 digits, Luhn-valid."},
                        "card_ref": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "amount": {"type": "integer", "minimum": 1, "description": "Minor units."},
                        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "order_ref": {"type": "string", "minLength": 1, "maxLength": 128},
                        "challenge_preference": {"enum": ["01", "02", "03", "04"]}}},
                "Created": {"type": "object", "required": ["id", "client_secret", "expires_at"],
                    "properties": {"id": {"type": "string"}, "client_secret": {"type": "string"},
                        "expires_at": {"type": "integer"}}},
                "AuthenticationView": {"type": "object", "properties": {
                    "id": {"type": "string"},
                    "state": {"enum": ["pending", "challenging", "succeeded", "failed", "rejected", "expired", "cancelled"]},
                    "status": {"enum": ["Y", "A", "N", "U", "R", null]},
                    "eci": {"enum": ["05", "06", "07", null]},
                    "method": {"enum": ["frictionless", "challenge", null]},
                    "trans_status_reason": {"type": ["string", "null"]},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "risk_score": {"type": ["integer", "null"]},
                    "amount": {"type": "integer"}, "currency": {"type": "string"},
                    "order_ref": {"type": "string"},
                    "created_at": {"type": "integer"}, "expires_at": {"type": "integer"},
                    "result_token": {"type": ["string", "null"]}}},
                "DeviceRequest": {"type": "object", "additionalProperties": false, "required": ["fingerprint"],
                    "properties": {
                        "fingerprint": {"type": "object", "required": ["v", "browser", "components"],
                            "properties": {"v": {"const": 1},
                                "browser": {"enum": ["chromium", "firefox", "safari", "other"]},
                                "components": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}}},
                        "device_token": {"type": ["string", "null"]},
                        "browser": {"type": "object", "additionalProperties": false, "properties": {
                            "language": {"type": "string"}, "timezone": {"type": "string"},
                            "user_agent": {"type": "string"}}}}},
                "Challenge": {"type": "object", "properties": {
                    "masked_email": {"type": "string"}, "code_length": {"const": 6},
                    "expires_at": {"type": "integer"}, "attempts_left": {"type": "integer"},
                    "resends_left": {"type": "integer"}, "resend_available_at": {"type": "integer"},
                    "locale": {"enum": ["ja", "en"]}}},
                "DeviceOutcome": {"type": "object", "required": ["outcome"], "properties": {
                    "outcome": {"enum": ["frictionless", "challenge", "rejected"]},
                    "status": {"enum": ["Y", "A", "N", "U", "R"],
                        "description": "Y or R; A, N and U only for sandbox test cards."},
                    "result_token": {"type": "string"},
                    "challenge": {"$ref": "#/components/schemas/Challenge"}}},
                "VerifyRequest": {"type": "object", "additionalProperties": false, "required": ["code"],
                    "properties": {"code": {"type": "string", "description": "Six ASCII or full-width digits; spaces and hyphens ignored."}}},
                "VerifyOutcome": {"type": "object", "required": ["outcome"], "properties": {
                    "outcome": {"enum": ["authenticated", "wrong_code", "failed", "expired"]},
                    "status": {"enum": ["Y", "N", "U"]}, "result_token": {"type": "string"},
                    "device_token": {"type": ["string", "null"]}, "attempts_left": {"type": "integer"}}},
                "SandboxMail": {"type": "object", "required": ["mail"], "properties": {
                    "mail": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "authentication_id": {"type": ["string", "null"]},
                        "kind": {"type": "string"}, "to": {"type": "string"},
                        "subject": {"type": "string"}, "text": {"type": "string"},
                        "html": {"type": "string"}, "created_at": {"type": "integer"}}}}}},
                "ResendOutcome": {"type": "object", "required": ["challenge"], "properties": {
                    "challenge": {"$ref": "#/components/schemas/Challenge"}}},
                "CancelOutcome": {"type": "object", "properties": {
                    "outcome": {"const": "cancelled"}, "status": {"const": "N"},
                    "result_token": {"type": "string"}}}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented() {
        let doc = document("http://127.0.0.1:8080");
        for (method, path) in ROUTES {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|ops| ops.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, ROUTES.len());
    }
}
