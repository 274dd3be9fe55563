//! Arbitrary bytes as the fingerprint JSON the widget sends, compared with a stored one.
//!
//! Parsing must never panic; what parses must re-encode to a canonical form that parses back to
//! the same fingerprint and re-encodes identically; `similarity` must stay within its scale,
//! be symmetric, and score a fingerprint against itself as all or nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_core::fingerprint::{
    Browser, Fingerprint, MAX_SCORE, SCHEMA, hash_component, similarity,
};

fuzz_target!(|data: &[u8]| {
    let Ok(presented) = serde_json::from_slice::<Fingerprint>(data) else {
        return;
    };

    let canonical = presented.to_json();
    let reparsed: Fingerprint = match serde_json::from_str(&canonical) {
        Ok(reparsed) => reparsed,
        Err(error) => panic!("canonical form {canonical} does not parse: {error}"),
    };
    assert_eq!(reparsed, presented);
    assert_eq!(reparsed.to_json(), canonical);
    assert!(presented.len() <= SCHEMA.len());

    let stored = complete(presented.browser());
    let score = similarity(&stored, &presented);
    assert!(score <= MAX_SCORE);
    assert_eq!(score, similarity(&presented, &stored));
    // Another browser family is another device.
    let other = match presented.browser() {
        Browser::Chromium => Browser::Firefox,
        _ => Browser::Chromium,
    };
    assert_eq!(similarity(&complete(other), &presented), 0);
    let own = similarity(&presented, &presented);
    assert!(own == 0 || own == MAX_SCORE, "self-similarity {own}");
});

/// A fingerprint with every component of the schema, as the verifier would have stored it.
fn complete(browser: Browser) -> Fingerprint {
    let mut stored = Fingerprint::new(browser);
    for component in SCHEMA {
        let hash = hash_component(component.id, component.canonical);
        if stored.insert(component.id, hash).is_err() {
            panic!("schema component {} refused", component.id);
        }
    }
    stored
}
