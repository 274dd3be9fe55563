//! The issuer's admin API under `/admin/v1`: one sub-router per part, each with paths relative
//! to `/admin/v1`.
//!
//! - [`cases`]: protection cases (list, show, move).
//!
//! Not routed by [`crate::api::routes`] until every handler takes the admin token extractor:
//! an admin route must never answer without it.

pub mod cases;
