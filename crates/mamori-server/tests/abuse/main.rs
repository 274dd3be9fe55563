//! The abuse suite: what a hostile client holding a card number, a merchant's checkout and a
//! script on its page can make the verifier do to the cardholder — each attack reproduced over
//! HTTP against a real verifier (SQLite, or PostgreSQL when `MAMORI_TEST_STORE=postgres`, as
//! `cargo xtask test` runs it both ways).
//!
//! - [`lockout`]: a thousand created authentications, device steps past the hard velocity limit
//!   and a wrong-code lockout leave the trusted browser through; the victim hears of the
//!   refusals once; floods of creations and widget calls answer `429 rate_limited`.
//! - [`mail_flood`]: one alert per card and window however often the card is refused, and codes
//!   delivered ahead of a burst of alerts.
//! - [`browser_text`]: text the browser sends (language, time zone, user agent) never reaches a
//!   mail as prose.
//! - [`client_address`]: a spoofed `X-Forwarded-For` is believed only from a trusted proxy.
//! - [`metrics`]: made-up methods and paths add no metric series.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod browser_text;
mod client_address;
mod lockout;
mod mail_flood;
mod metrics;
