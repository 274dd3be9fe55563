//! The mamori verifier: the issuer side of checkout step-up authentication.
//!
//! # Layout
//!
//! - [`model`]: merchants, cardholders, devices, authentications and their states.
//! - [`risk`]: the risk engine, a pure function from evidence to a decision.
//! - [`store`]: persistence behind the [`store::Store`] trait, the SQLite backend and the
//!   conformance suite every backend passes.

pub mod model;
pub mod risk;
pub mod store;
