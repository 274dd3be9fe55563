//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the wire types.
//!
//! Every schema comes from a type of [`crate::wire`] (`ToSchema`); this module only says which
//! route takes and answers which type, and which error codes it may answer. An error response
//! is generated from its [`ErrorCode`]s: grouped by the one status each code has, its schema
//! the `Error` body with `error` narrowed to those codes, so the document cannot list a code
//! under the wrong status.
//!
//! The HTTP suites hold the server to this document: every answer they receive is validated
//! against the schema of its method, route and status, and every documented operation is
//! requested (`tests/openapi.rs`).
//!
//! Each part of the admin API lists its operations and schemas in its own submodule (`admin`:
//! cardholders, merchants, reports; `cases`: protection cases, beside the cardholder's
//! self-service page; `webhooks`: webhook endpoints), chained into `operations` and `schemas`.

use std::collections::BTreeMap;

use utoipa::ToSchema;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AdditionalProperties, AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Required,
    ResponseBuilder, Schema, ServerBuilder,
};

use crate::wire::{self, ErrorCode};

mod admin;
mod cases;
mod webhooks;

/// The security scheme of the merchant backend's routes.
const MERCHANT_SECRET: &str = "merchantSecret";
/// The security scheme of the widget's routes.
const CLIENT_SECRET: &str = "clientSecret";

/// The document; `server` is the verifier's public URL.
pub fn document(server: &str) -> OpenApi {
    let mut paths = Paths::new();
    for (method, path, operation) in operations() {
        paths.add_path_operation(path, vec![method], operation.build());
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("mamori verifier")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Risk-based checkout authentication with emailed one-time codes. Errors are \
                     {\"error\": code, \"message\": text} (the Error schema) and change no state; \
                     each code has one HTTP status. A path not listed here answers 404 not_found, \
                     a listed path with another method 405 method_not_allowed.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url(server).build()]))
        .paths(paths)
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    MERCHANT_SECRET,
                    bearer("The merchant's secret key, mamori_sk.<kid>.<secret>."),
                )
                .security_scheme(
                    admin::ADMIN_TOKEN,
                    bearer(
                        "An admin API token, mamori_admin_… (mamori admin token create). A \
                         client address that fails authentication \
                         rate_limits.admin_failures_per_address times (default 20) in a window \
                         is answered 429 rate_limited, with Retry-After, until the window ends, \
                         before its token is looked up: a correct token too. A request \
                         past as many lookups running at once from its address is answered \
                         429 too, with Retry-After: 1 (a moment's crowd, not a lockout).",
                    ),
                )
                .security_scheme(
                    CLIENT_SECRET,
                    bearer(
                        "The authentication's client_secret (cs_…); the Origin must be \
                         registered.",
                    ),
                )
                .schemas_from_iter(
                    schemas()
                        .into_iter()
                        .map(|(name, schema)| (name, closed(schema))),
                )
                .build(),
        ))
        .build()
}

/// Every operation, as `(method, path, operation)`, in the order the document lists them.
fn operations() -> Vec<(HttpMethod, &'static str, OperationBuilder)> {
    let parts = admin::operations()
        .into_iter()
        .chain(cases::admin_operations())
        .chain(webhooks::operations());
    verifier_operations().into_iter().chain(parts).collect()
}

/// The operations of the verifier's own routes (the merchant backend's, the widget's, the
/// report page and operations).
fn verifier_operations() -> Vec<(HttpMethod, &'static str, OperationBuilder)> {
    use ErrorCode::*;
    let widget_errors = [
        Unauthorized,
        OriginNotAllowed,
        RateLimited,
        InvalidBody,
        PayloadTooLarge,
        UnsupportedMediaType,
        AuthenticationFinished,
        Internal,
        Unavailable,
    ];
    let widget =
        |summary: &str, body: RefOr<Schema>, answer: ResponseBuilder, errors: &[ErrorCode]| {
            let errors: Vec<ErrorCode> = widget_errors.iter().chain(errors).copied().collect();
            op(summary)
                .security(SecurityRequirement::new(CLIENT_SECRET, NO_SCOPES))
                .parameter(path_parameter("id"))
                .parameter(
                    ParameterBuilder::new()
                        .name("Origin")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::True)
                        .schema(Some(string()))
                        .description(Some("The checkout page's origin; one of the merchant's.")),
                )
                .request_body(Some(json_body(body)))
                .response("200", answer)
                .errors(&errors)
        };
    let preflight = || {
        op("CORS preflight, for any origin; the request itself checks the origin.")
            .parameter(path_parameter("id"))
            .response("204", ResponseBuilder::new().description("No content."))
    };
    vec![
        (
            HttpMethod::Post,
            "/v1/authentications",
            op("Start an authentication (merchant backend).")
                .description(Some(
                    "An order has one live authentication at a time: while one of the \
                     merchant's with the same order_ref is pending or challenging (and not past \
                     its expires_at), another is 409 order_in_progress and nothing is created. \
                     Keep the returned id with the order: the result token's sub is this id.",
                ))
                .security(SecurityRequirement::new(MERCHANT_SECRET, NO_SCOPES))
                .parameter(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .min_length(Some(1))
                                .max_length(Some(255)),
                        ))
                        .description(Some(
                            "Retries with the same key and body answer the first \
                             authentication (with Idempotent-Replayed: true); another body is \
                             409 idempotency_key_reused.",
                        )),
                )
                .request_body(Some(json_body(reference::<wire::CreateRequest>())))
                .response(
                    "201",
                    answer::<wire::Created>("Created; give id and client_secret to the widget."),
                )
                .errors(&[
                    Unauthorized,
                    RateLimited,
                    InvalidBody,
                    InvalidRequest,
                    InvalidCardNumber,
                    SandboxCardRequired,
                    IdempotencyKeyReused,
                    OrderInProgress,
                    PayloadTooLarge,
                    UnsupportedMediaType,
                    Internal,
                    Unavailable,
                ]),
        ),
        (
            HttpMethod::Get,
            "/v1/authentications/{id}",
            op("State, result and reasons of an authentication (merchant backend).")
                .security(SecurityRequirement::new(MERCHANT_SECRET, NO_SCOPES))
                .parameter(path_parameter("id"))
                .response(
                    "200",
                    answer::<wire::AuthenticationView>("The authentication."),
                )
                .errors(&[Unauthorized, NotFound, Internal, Unavailable]),
        ),
        (
            HttpMethod::Post,
            "/v1/authentications/{id}/device",
            widget(
                "Device step: frictionless, challenge or rejected (widget).",
                reference::<wire::DeviceRequest>(),
                answer::<wire::DeviceOutcome>("The outcome."),
                &[InvalidRequest],
            ),
        ),
        (
            HttpMethod::Options,
            "/v1/authentications/{id}/device",
            preflight(),
        ),
        (
            HttpMethod::Post,
            "/v1/authentications/{id}/challenge/verify",
            widget(
                "Check a one-time code (widget).",
                reference::<wire::VerifyRequest>(),
                answer::<wire::VerifyOutcome>("The outcome."),
                &[InvalidCode, InvalidRequest, ChallengeNotStarted],
            ),
        ),
        (
            HttpMethod::Options,
            "/v1/authentications/{id}/challenge/verify",
            preflight(),
        ),
        (
            HttpMethod::Post,
            "/v1/authentications/{id}/challenge/resend",
            widget(
                "Send a new code, replacing the old one (widget).",
                reference::<wire::Empty>(),
                answer::<wire::ResendAnswer>("The new code's challenge."),
                &[ChallengeNotStarted, ResendLimit, ResendCooldown],
            ),
        ),
        (
            HttpMethod::Options,
            "/v1/authentications/{id}/challenge/resend",
            preflight(),
        ),
        (
            HttpMethod::Post,
            "/v1/authentications/{id}/cancel",
            widget(
                "Cancel the authentication (widget).",
                reference::<wire::Empty>(),
                answer::<wire::CancelOutcome>("The outcome."),
                &[],
            ),
        ),
        (
            HttpMethod::Options,
            "/v1/authentications/{id}/cancel",
            preflight(),
        ),
        (
            HttpMethod::Get,
            "/report/{token}",
            op("The \"I did not make this purchase\" page.")
                .parameter(path_parameter("token"))
                .response("200", html("The page."))
                .errors(&[InvalidReportLink, Internal, Unavailable]),
        ),
        (
            HttpMethod::Post,
            "/report/{token}",
            op("Confirm the report: revokes the card's trusted devices.")
                .parameter(path_parameter("token"))
                .response("200", html("The confirmation page."))
                .errors(&[InvalidReportLink, Internal, Unavailable]),
        ),
        (
            HttpMethod::Get,
            "/healthz",
            op("Liveness.").response("200", answer::<wire::Health>("Up: `ok`.")),
        ),
        (
            HttpMethod::Get,
            "/readyz",
            op("Readiness: the database answers.")
                .response("200", answer::<wire::Health>("Ready: `ready`."))
                .errors(&[Unavailable]),
        ),
        (
            HttpMethod::Get,
            "/metrics",
            op("Prometheus metrics.").response(
                "200",
                ResponseBuilder::new()
                    .description("Text exposition format 0.0.4.")
                    .content("text/plain", Content::new(Some(string()))),
            ),
        ),
        (
            HttpMethod::Get,
            "/openapi.json",
            op("This document.").response(
                "200",
                ResponseBuilder::new().description("OpenAPI 3.1.").content(
                    "application/json",
                    Content::new(Some(ObjectBuilder::new().schema_type(Type::Object))),
                ),
            ),
        ),
        (
            HttpMethod::Get,
            "/v1/sandbox/mail",
            op("A sandbox merchant's kept mail, newest first (merchant backend).")
                .security(SecurityRequirement::new(MERCHANT_SECRET, NO_SCOPES))
                .response(
                    "200",
                    answer::<wire::SandboxMail>("The mail its test cards caused; none is sent."),
                )
                .errors(&[Unauthorized, NotFound, Internal, Unavailable]),
        ),
        (
            HttpMethod::Get,
            "/widget/{file}",
            op(
                "The widget's release files, for any origin (CORS *, CORP cross-origin): \
                 mamori-<hash>.js and .wasm (immutable), mamori.js and manifest.json (5 minutes).",
            )
            .parameter(path_parameter("file"))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The file; gzip when accepted.")
                    .content("text/javascript", Content::new(Some(string())))
                    .content(
                        "application/wasm",
                        Content::new(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .content_media_type("application/wasm"),
                        )),
                    )
                    .content(
                        "application/json",
                        Content::new(Some(reference::<wire::WidgetManifest>())),
                    ),
            )
            .errors(&[NotFound]),
        ),
    ]
    .into_iter()
    .chain(cases::operations())
    .collect()
}

/// Every schema the operations refer to, and the ones those refer to.
fn schemas() -> Vec<(String, RefOr<Schema>)> {
    fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
    let mut schemas = Vec::new();
    add::<wire::ErrorBody>(&mut schemas);
    add::<wire::CreateRequest>(&mut schemas);
    add::<wire::Created>(&mut schemas);
    add::<wire::AuthenticationView>(&mut schemas);
    add::<wire::SandboxMail>(&mut schemas);
    add::<wire::DeviceRequest>(&mut schemas);
    add::<wire::DeviceOutcome>(&mut schemas);
    add::<wire::VerifyRequest>(&mut schemas);
    add::<wire::VerifyOutcome>(&mut schemas);
    add::<wire::Empty>(&mut schemas);
    add::<wire::ResendAnswer>(&mut schemas);
    add::<wire::CancelOutcome>(&mut schemas);
    add::<wire::Health>(&mut schemas);
    add::<wire::WidgetManifest>(&mut schemas);
    schemas.extend(admin::schemas());
    schemas.extend(cases::schemas());
    schemas.extend(webhooks::schemas());
    // Each schema once, in a stable order.
    let unique: BTreeMap<String, RefOr<Schema>> = schemas.into_iter().collect();
    unique.into_iter().collect()
}

/// `schema` with each variant of a tagged enum closed (`additionalProperties: false`) like the
/// structs are: utoipa closes a struct that denies unknown members, but has no way to say so of
/// an enum variant, and every variant of the wire's enums is an answer with exactly its members.
fn closed(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::OneOf(mut one_of)) => {
            for variant in &mut one_of.items {
                if let RefOr::T(Schema::Object(object)) = variant {
                    object
                        .additional_properties
                        .get_or_insert(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
            RefOr::T(Schema::OneOf(one_of))
        }
        other => other,
    }
}

/// No OAuth scopes: every scheme is a bearer secret.
pub(super) const NO_SCOPES: [&str; 0] = [];

pub(super) fn op(summary: &str) -> OperationBuilder {
    OperationBuilder::new().summary(Some(summary))
}

fn bearer(description: &str) -> SecurityScheme {
    let mut http = Http::new(HttpAuthScheme::Bearer);
    http.description = Some(description.to_owned());
    SecurityScheme::Http(http)
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

pub(super) fn path_parameter(name: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string()))
}

/// `#/components/schemas/<T's name>`.
pub(super) fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

pub(super) fn json_body(schema: RefOr<Schema>) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", Content::new(Some(schema)))
        .build()
}

/// A JSON answer of type `T`.
pub(super) fn answer<T: ToSchema>(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(reference::<T>())))
}

pub(super) fn html(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("text/html", Content::new(Some(string())))
}

/// Error responses for an operation.
pub(super) trait Errors {
    /// One response per status among `codes`, each an `Error` whose `error` is one of that
    /// status's codes; `resend_cooldown` and `rate_limited` also require `retry_after`.
    fn errors(self, codes: &[ErrorCode]) -> Self;
}

impl Errors for OperationBuilder {
    fn errors(self, codes: &[ErrorCode]) -> Self {
        let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
        for code in codes {
            by_status
                .entry(code.status().as_u16())
                .or_default()
                .push(*code);
        }
        by_status.into_iter().fold(self, |op, (status, codes)| {
            op.response(status.to_string(), error_response(&codes))
        })
    }
}

/// An `Error` whose `error` is one of `codes`, all of one status.
fn error_response(codes: &[ErrorCode]) -> ResponseBuilder {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let mut narrowed = ObjectBuilder::new().property(
        "error",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names.clone())),
    );
    let waits = |c: &ErrorCode| matches!(c, ErrorCode::ResendCooldown | ErrorCode::RateLimited);
    if codes.iter().any(waits) {
        narrowed = narrowed.required("retry_after");
    }
    let schema = AllOfBuilder::new()
        .item(reference::<wire::ErrorBody>())
        .item(narrowed);
    let response = ResponseBuilder::new()
        .description(format!("`{}`.", names.join("`, `")))
        .content("application/json", Content::new(Some(schema)));
    if codes.iter().any(waits) {
        // The same seconds as `retry_after`, for clients that read only the header.
        response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait, as retry_after."))
                .build(),
        )
    } else {
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` names a schema the document holds.
    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(document("http://127.0.0.1:8080")).unwrap();
        let text = doc.to_string();
        let mut found = 0;
        for (at, _) in text.match_indices("\"$ref\":\"#/components/schemas/") {
            let rest = &text[at + "\"$ref\":\"#/components/schemas/".len()..];
            let name = &rest[..rest.find('"').unwrap()];
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
            found += 1;
        }
        assert!(found > 20, "{found} references");
    }

    /// The tagged enums' variants are closed like the structs.
    #[test]
    fn every_answer_variant_is_closed() {
        let doc = serde_json::to_value(document("http://127.0.0.1:8080")).unwrap();
        let mut variants = 0;
        for schema in doc["components"]["schemas"].as_object().unwrap().values() {
            for variant in schema["oneOf"].as_array().into_iter().flatten() {
                if variant["type"] == "object" {
                    assert_eq!(variant["additionalProperties"], false, "{variant}");
                    variants += 1;
                }
            }
        }
        assert_eq!(variants, 10, "device 3, verify 4, cancel 1, enrol result 2");
    }
}
