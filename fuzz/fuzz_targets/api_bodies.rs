//! Arbitrary bytes as the body of every JSON request the verifier accepts.
//!
//! Each type of `mamori-server`'s `wire` module is parsed exactly as its handler parses it
//! (`serde_json::from_slice`); none may panic, whatever the body. What parses must hold what the
//! types promise: `Empty` is only `{}`, and a device request's fingerprint re-encodes
//! canonically.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_core::fingerprint::Fingerprint;
use mamori_server::wire::{CreateRequest, DeviceRequest, Empty, VerifyRequest};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<CreateRequest>(data);
    let _ = serde_json::from_slice::<VerifyRequest>(data);
    if let Ok(request) = serde_json::from_slice::<DeviceRequest>(data) {
        let canonical = request.fingerprint.to_json();
        assert_eq!(
            serde_json::from_str::<Fingerprint>(&canonical).ok(),
            Some(request.fingerprint)
        );
    }
    if serde_json::from_slice::<Empty>(data).is_ok() {
        let value: Result<serde_json::Value, _> = serde_json::from_slice(data);
        assert!(matches!(value, Ok(serde_json::Value::Object(map)) if map.is_empty()));
    }
});
