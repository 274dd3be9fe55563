//! The issuer admin API's operations (`/admin/v1`) in the document, behind the `adminToken`
//! bearer scheme.

use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{RefOr, Required, Schema};

use super::{Errors, NO_SCOPES, answer, json_body, op, path_parameter, reference};
use crate::wire::ErrorCode::{self, *};
use crate::wire::admin;

/// The security scheme of the admin API.
pub(super) const ADMIN_TOKEN: &str = "adminToken";

/// What every admin operation may answer besides its own.
const ALWAYS: [ErrorCode; 4] = [Unauthorized, RateLimited, Internal, Unavailable];
/// What an operation with a JSON body may answer besides.
pub(super) const WITH_BODY: [ErrorCode; 4] = [
    InvalidBody,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
];

/// An admin operation: the bearer scheme and the errors every one may answer, plus `errors`.
pub(super) fn admin_op(summary: &str, errors: &[ErrorCode]) -> OperationBuilder {
    let errors: Vec<ErrorCode> = ALWAYS.iter().chain(errors).copied().collect();
    op(summary)
        .security(SecurityRequirement::new(ADMIN_TOKEN, NO_SCOPES))
        .errors(&errors)
}

/// An admin operation on the thing `{id}` names: `404 not_found` when it names none.
pub(super) fn on_id(summary: &str, errors: &[ErrorCode]) -> OperationBuilder {
    let errors: Vec<ErrorCode> = [NotFound].iter().chain(errors).copied().collect();
    admin_op(summary, &errors).parameter(path_parameter("id"))
}

/// The admin API's operations, as [`super::operations`] lists them.
pub(super) fn operations() -> Vec<(HttpMethod, &'static str, OperationBuilder)> {
    let cardholder = || answer::<admin::Cardholder>("The card as it now is.");
    let merchant = || answer::<admin::Merchant>("The merchant and its keys.");
    vec![
        (
            HttpMethod::Post,
            "/admin/v1/cardholders",
            admin_op(
                "Enrol cards, each on its own: one result per card, in order (admin).",
                &WITH_BODY,
            )
            .description(Some(
                "A refused card (invalid_card_number, invalid_request, card_already_enrolled) \
                 does not stop the others; its result carries the error code and message a \
                 single request would answer. A card enrolled before and unenrolled since, \
                 enrolled again with another address, queues in the same transaction the notice \
                 a change of address sends, to the address it had (see PATCH).",
            ))
            .request_body(Some(json_body(reference::<admin::EnrolRequest>())))
            .response("200", answer::<admin::EnrolResults>("One result per card.")),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/cardholders",
            admin_op(
                "Every card, oldest first, unenrolled ones included (admin).",
                &[],
            )
            .response("200", answer::<admin::CardholderList>("The cards.")),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/cardholders/{id}",
            on_id("A card (admin).", &[]).response("200", answer::<admin::Cardholder>("The card.")),
        ),
        (
            HttpMethod::Patch,
            "/admin/v1/cardholders/{id}",
            on_id(
                "Change a card's address, language or ceilings; 404 once unenrolled (admin).",
                &WITH_BODY,
            )
            .description(Some(
                "A new email (not the same address once its domain's case is ignored) queues, in \
                 the same transaction, a notice to the former address in Japanese and English, \
                 the card's language first: the card's last four digits, that its address was \
                 changed to another one and when, and to call the issuer if the cardholder did \
                 not ask for it, naming no address and with no link. It also ends every \
                 self-service link mailed before it, even if the card later gets the former \
                 address back. The same address, or only locale or ceilings, mails nothing.",
            ))
            .request_body(Some(json_body(reference::<admin::CardholderPatch>())))
            .response("200", cardholder()),
        ),
        (
            HttpMethod::Delete,
            "/admin/v1/cardholders/{id}",
            on_id(
                "Unenrol a card: kept for its authentications and reports, treated as not \
                 enrolled, its trusted browsers revoked, its card free to enrol again (admin).",
                &[],
            )
            .response("200", cardholder()),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/cardholders/{id}/block",
            on_id("Block a card: every purchase is rejected (admin).", &[])
                .response("200", cardholder()),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/cardholders/{id}/unblock",
            on_id("Unblock a card (admin).", &[]).response("200", cardholder()),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/cardholders/{id}/devices",
            on_id(
                "An enrolled card's live trusted browsers, oldest first; 404 once unenrolled \
                 (admin).",
                &[],
            )
            .response("200", answer::<admin::TrustedBrowserList>("The browsers.")),
        ),
        (
            HttpMethod::Delete,
            "/admin/v1/cardholders/{id}/devices/{device_id}",
            on_id(
                "Remove one trusted browser from a card: its next purchase with the card is \
                 challenged; 404 (nothing changed) when the card does not trust it (admin).",
                &[],
            )
            .description(Some(
                "Revokes this card's trust in that browser only, as the cardholder's own page \
                 does: the card's other browsers, and other cards' trust in this one, stay.",
            ))
            .parameter(path_parameter("device_id"))
            .response(
                "200",
                answer::<admin::TrustedBrowserList>("The browsers the card still trusts."),
            ),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/merchants",
            admin_op("Every merchant with its keys, oldest first (admin).", &[])
                .response("200", answer::<admin::MerchantList>("The merchants.")),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/merchants",
            admin_op("Register a merchant (admin).", &WITH_BODY)
                .request_body(Some(json_body(reference::<admin::NewMerchant>())))
                .response(
                    "201",
                    answer::<admin::MerchantCreated>(
                        "Registered; the secret key is shown this once.",
                    ),
                ),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/merchants/{id}",
            on_id("A merchant and its keys (admin).", &[]).response("200", merchant()),
        ),
        (
            HttpMethod::Put,
            "/admin/v1/merchants/{id}/origins",
            on_id("Replace a merchant's origins (admin).", &WITH_BODY)
                .request_body(Some(json_body(reference::<admin::Origins>())))
                .response("200", merchant()),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/merchants/{id}/keys",
            on_id(
                "Issue a merchant a new key; older keys keep working for security.key_overlap \
                 seconds (admin).",
                &[],
            )
            .response(
                "201",
                answer::<admin::KeyRotated>("The new key; its secret is shown this once."),
            ),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/reports",
            admin_op("Fraud reports, oldest first (admin).", &[InvalidRequest])
                .parameter(
                    ParameterBuilder::new()
                        .name("open")
                        .parameter_in(ParameterIn::Query)
                        .required(Required::False)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Boolean)))
                        .description(Some("true: open reports only.")),
                )
                .response("200", answer::<admin::ReportList>("The reports.")),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/reports/{id}/resolve",
            on_id(
                "Resolve a report: the card is no longer forced to challenge; a resolved \
                 report is answered unchanged (admin).",
                &[],
            )
            .response("200", answer::<admin::Report>("The report.")),
        ),
    ]
}

/// The schemas the admin operations refer to.
pub(super) fn schemas() -> Vec<(String, RefOr<Schema>)> {
    fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
    let mut schemas = Vec::new();
    add::<admin::EnrolRequest>(&mut schemas);
    add::<admin::EnrolResults>(&mut schemas);
    add::<admin::CardholderList>(&mut schemas);
    add::<admin::Cardholder>(&mut schemas);
    add::<admin::CardholderPatch>(&mut schemas);
    add::<admin::TrustedBrowserList>(&mut schemas);
    add::<admin::MerchantList>(&mut schemas);
    add::<admin::Merchant>(&mut schemas);
    add::<admin::NewMerchant>(&mut schemas);
    add::<admin::Origins>(&mut schemas);
    add::<admin::MerchantCreated>(&mut schemas);
    add::<admin::KeyRotated>(&mut schemas);
    add::<admin::ReportList>(&mut schemas);
    add::<admin::Report>(&mut schemas);
    schemas
}

#[cfg(test)]
mod tests {
    use super::ADMIN_TOKEN;
    use crate::openapi::document;

    /// Every admin operation may answer `429` with `Retry-After`: past its token's rate, and to
    /// a client address past its failed authentications, which the scheme describes.
    #[test]
    fn every_admin_operation_declares_its_429_and_the_wait() {
        let doc = serde_json::to_value(document("http://127.0.0.1:8080")).unwrap();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            if !path.starts_with("/admin/v1/") {
                continue;
            }
            for (method, operation) in item.as_object().unwrap() {
                let refused = &operation["responses"]["429"];
                assert!(
                    refused["headers"]["Retry-After"].is_object(),
                    "{method} {path}: {refused}"
                );
                operations += 1;
            }
        }
        assert!(operations > 20, "{operations} admin operations");
        let scheme = doc["components"]["securitySchemes"][ADMIN_TOKEN]["description"]
            .as_str()
            .unwrap();
        assert!(scheme.contains("admin_failures_per_address"), "{scheme}");
    }
}
