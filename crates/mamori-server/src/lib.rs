//! The mamori verifier: the issuer side of checkout step-up authentication.
//!
//! A merchant's backend starts an authentication for a purchase; the widget in the shopper's
//! browser sends its device evidence; the [`risk`] engine lets a known device through
//! frictionless, challenges with a one-time code emailed to the cardholder, or rejects; the
//! outcome is a result token the merchant verifies with `mamori-core` before capturing.
//!
//! # Layout
//!
//! - [`api`]: the router ([`app`]), its layers (security headers, metrics, body limit), the
//!   merchant and widget routes, and the client's address behind trusted proxies
//!   ([`api::forwarded`]). Each handler parses its request, calls one operation of
//!   [`flow`] and renders the answer.
//! - [`flow`]: the purchase as domain operations — starting an authentication, the device
//!   step, the code check, resend, cancel, expiry, the cardholder's report — over the store,
//!   settings, keys and clock, with their decisions as pure functions. Knows no HTTP; its
//!   [`flow::FlowError`] becomes an [`ApiError`] in one place.
//! - [`admin`]: the issuer's administration operations, which the CLI and the admin API
//!   ([`api::admin`]) share.
//! - [`error`]: [`ApiError`], the one error type, rendered as `{"error","message"}`.
//! - [`risk`]: the risk engine, a pure function from evidence to a decision.
//! - [`store`]: persistence behind the [`store::Store`] trait, chosen by the database URL: SQLite
//!   (embedded, the default) or PostgreSQL (several instances over one database), and the
//!   conformance suite both pass (feature `conformance`).
//! - [`mail`]: the transactional outbox, its delivery worker, SMTP and the demo mailbox;
//!   [`mail::templates`] renders the code mail and fraud alerts in Japanese and English.
//! - [`webhooks`]: Standard Webhooks v1 events for the issuer and merchants, their signatures,
//!   and the worker that delivers them from their outbox.
//! - [`report`]: the cardholder's "I did not make this purchase" page.
//! - [`selfservice`]: the cardholder's own page (trusted browsers, open cases).
//! - [`sandbox`]: sandbox merchants' test cards, their forced outcomes and kept mail.
//! - [`tokens`]: signing result and device tokens and report links, reading them back.
//! - [`wire`]: every JSON request and answer of the HTTP API as a Rust type.
//! - [`ops`] and [`openapi`]: health, readiness, metrics, and the OpenAPI document generated
//!   from [`wire`].
//! - [`model`], [`config`], [`clock`], [`secrets`], [`card`], [`text`], [`metrics`],
//!   [`state`]: the vocabulary, settings, time, keys, card numbers, formatting, counters and
//!   the shared handler state.
//! - [`server`]: [`run`], which serves the router and the outbox worker together.
//! - [`cli`]: the `mamori` command; `demo` (feature `demo`): its seeded demo.
//!
//! # Features
//!
//! None is on by default, so `cargo build --release -p mamori-server` — the build `deploy/`
//! documents — makes a `mamori` that holds nothing but the verifier:
//!
//! - `demo`: `mamori demo` and the `demo` module: the demo shop, its in-database mailbox of
//!   live codes and its public merchant key. `cargo xtask demo` and the end-to-end suites build
//!   with it.
//! - `conformance`: `store::conformance`, the suite every store backend must pass.
//!
//! The crate's own tests turn both on (a dev-dependency on itself), so a plain `cargo test`
//! runs every test; `cargo xtask test` also checks that a build without them has no `demo`
//! command and no demo key.
//!
//! # Not revealing cards
//!
//! `POST /v1/authentications` succeeds for any well-formed card number. At the device step an
//! unknown, unenrolled or blocked card is *rejected* exactly like a purchase refused for
//! velocity: `{"outcome":"rejected","status":"R"}` with reason `12` in the token. The browser
//! learns only "rejected"; the merchant's authenticated `GET` carries the reason names.

pub mod admin;
pub mod api;
pub mod card;
pub mod cli;
pub mod clock;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod flow;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod ops;
pub mod report;
pub mod risk;
pub mod sandbox;
pub mod secrets;
pub mod selfservice;
pub mod server;
pub mod state;
pub mod store;
pub mod text;
pub mod tokens;
pub mod webhooks;
pub mod wire;

pub use api::app;
pub use error::ApiError;
pub use server::run;
pub use state::AppState;
