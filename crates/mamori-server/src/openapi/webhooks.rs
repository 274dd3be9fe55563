//! The admin API's webhook endpoint operations: the issuer's at `/admin/v1/webhook`, a
//! merchant's at `/admin/v1/merchants/{id}/webhook`.

use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::{RefOr, ResponseBuilder, Schema};

use super::admin::{WITH_BODY, admin_op, on_id};
use super::{answer, json_body, reference};
use crate::wire::ErrorCode::NotFound;
use crate::wire::webhooks;

/// The webhook operations, the issuer's then a merchant's.
pub(super) fn operations() -> Vec<(HttpMethod, &'static str, OperationBuilder)> {
    let endpoint = || answer::<webhooks::WebhookEndpoint>("The endpoint (never its secrets).");
    let set_secret = || {
        answer::<webhooks::WebhookSecret>(
            "The endpoint and its new signing secret, shown this once; every older secret \
             stops signing at once.",
        )
    };
    let rotated_secret = || {
        answer::<webhooks::WebhookSecret>(
            "The endpoint and its new signing secret, shown this once; the older ones keep \
             signing beside it for a day.",
        )
    };
    let set = || json_body(reference::<webhooks::SetWebhook>());
    let removed = || ResponseBuilder::new().description("Removed: no event goes to it any more.");
    vec![
        (
            HttpMethod::Get,
            "/admin/v1/webhook",
            admin_op(
                "The issuer's webhook endpoint; 404 when none is set (admin).",
                &[NotFound],
            )
            .response("200", endpoint()),
        ),
        (
            HttpMethod::Put,
            "/admin/v1/webhook",
            admin_op(
                "Set the issuer's webhook endpoint (a new URL, or the same one again) with a \
                 new signing secret (admin).",
                &WITH_BODY,
            )
            .request_body(Some(set()))
            .response("200", set_secret()),
        ),
        (
            HttpMethod::Delete,
            "/admin/v1/webhook",
            admin_op("Remove the issuer's webhook endpoint (admin).", &[NotFound])
                .response("204", removed()),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/webhook/secrets",
            admin_op(
                "Rotate the issuer's webhook signing secret (admin).",
                &[NotFound],
            )
            .response("200", rotated_secret()),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/merchants/{id}/webhook",
            on_id(
                "A merchant's webhook endpoint; 404 for an unknown merchant or none set \
                 (admin).",
                &[],
            )
            .response("200", endpoint()),
        ),
        (
            HttpMethod::Put,
            "/admin/v1/merchants/{id}/webhook",
            on_id(
                "Set a merchant's webhook endpoint with a new signing secret (admin).",
                &WITH_BODY,
            )
            .request_body(Some(set()))
            .response("200", set_secret()),
        ),
        (
            HttpMethod::Delete,
            "/admin/v1/merchants/{id}/webhook",
            on_id("Remove a merchant's webhook endpoint (admin).", &[]).response("204", removed()),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/merchants/{id}/webhook/secrets",
            on_id("Rotate a merchant's webhook signing secret (admin).", &[])
                .response("200", rotated_secret()),
        ),
    ]
}

/// The schemas the webhook operations refer to.
pub(super) fn schemas() -> Vec<(String, RefOr<Schema>)> {
    fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
    let mut schemas = Vec::new();
    add::<webhooks::SetWebhook>(&mut schemas);
    add::<webhooks::WebhookSecret>(&mut schemas);
    add::<webhooks::WebhookEndpoint>(&mut schemas);
    schemas
}
