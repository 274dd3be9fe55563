//! The operations of protection cases — the issuer's, in the admin API, and the cardholder's
//! self-service page.

use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::{RefOr, Required, ResponseBuilder, Schema};

use super::admin::{WITH_BODY, admin_op, on_id};
use super::{Errors, answer, html, json_body, op, path_parameter, reference};
use crate::wire::ErrorCode::{self, CaseState, InvalidRequest};
use crate::wire::cases;

/// The admin API's case operations (`/admin/v1/cases`).
pub(super) fn admin_operations() -> Vec<(HttpMethod, &'static str, OperationBuilder)> {
    vec![
        (
            HttpMethod::Get,
            "/admin/v1/cases",
            admin_op(
                "Protection cases, oldest first; `?state=` keeps one state's (admin).",
                &[InvalidRequest],
            )
            .parameter(
                ParameterBuilder::new()
                    .name("state")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(reference::<cases::CaseState>()))
                    .description(Some(
                        "Only the cases in this state; any other query is 400 invalid_request.",
                    )),
            )
            .response("200", answer::<cases::CaseList>("The cases.")),
        ),
        (
            HttpMethod::Get,
            "/admin/v1/cases/{id}",
            on_id("A protection case (admin).", &[])
                .response("200", answer::<cases::CaseView>("The case.")),
        ),
        (
            HttpMethod::Post,
            "/admin/v1/cases/{id}/state",
            on_id(
                "Move a case and mail the cardholder: open → under_review → refunded or \
                 declined, or straight from open to a decision (admin).",
                &[WITH_BODY.as_slice(), &[CaseState]].concat(),
            )
            .description(Some(
                "A move the rule forbids (back to open, out of a decision), or one another \
                 move of the case came before, is 409 case_state and changes nothing. A note \
                 replaces the last one; without one the last note stays.",
            ))
            .request_body(Some(json_body(reference::<cases::MoveRequest>())))
            .response(
                "200",
                answer::<cases::MovedView>("The case as it now is, and the state it left."),
            ),
        ),
    ]
}

/// The schemas the admin API's case operations refer to.
pub(super) fn schemas() -> Vec<(String, RefOr<Schema>)> {
    fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
    let mut schemas = Vec::new();
    add::<cases::CaseState>(&mut schemas);
    add::<cases::CaseList>(&mut schemas);
    add::<cases::CaseView>(&mut schemas);
    add::<cases::MoveRequest>(&mut schemas);
    add::<cases::MovedView>(&mut schemas);
    schemas
}

/// The self-service page's operations.
pub(super) fn operations() -> Vec<(HttpMethod, &'static str, OperationBuilder)> {
    let invalid = || html("The link is invalid or has expired (a page in Japanese and English).");
    vec![
        (
            HttpMethod::Get,
            "/me/{token}",
            op("The cardholder's own page: the card's trusted browsers and open reports.")
                .description(Some(
                    "Reached from the signed link in every mail to the card (30 days). \
                     `?removed=1` adds the status line shown after a removal.",
                ))
                .parameter(path_parameter("token"))
                .response("200", html("The page, in the cardholder's language."))
                .response("404", invalid())
                .errors(&[ErrorCode::Internal, ErrorCode::Unavailable]),
        ),
        (
            HttpMethod::Post,
            "/me/{token}/browsers/{device_id}/remove",
            op("Remove one trusted browser from the card (a plain form post).")
                .description(Some(
                    "Revokes this card's trust in that browser only; its next purchase with \
                     the card is challenged. Other cards' trust in the browser stays.",
                ))
                .parameter(path_parameter("token"))
                .parameter(path_parameter("device_id"))
                .response(
                    "303",
                    ResponseBuilder::new()
                        .description("Removed: back to the page (`Location`), with a status line."),
                )
                .response(
                    "404",
                    html("The link is invalid or expired, or the card does not trust the browser."),
                )
                .errors(&[ErrorCode::Internal, ErrorCode::Unavailable]),
        ),
    ]
}
