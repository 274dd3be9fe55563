//! The operations of protection cases and the cardholder's self-service page.

use utoipa::openapi::ResponseBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};

use super::{Errors, html, op, path_parameter};
use crate::wire::ErrorCode;

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
                .errors(&[ErrorCode::Internal]),
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
                .errors(&[ErrorCode::Internal]),
        ),
    ]
}
