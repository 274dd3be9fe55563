//! Arbitrary text as a one-time code typed by a person, then its digest and check.
//!
//! `normalize` must never panic, must accept only six digits in at most `MAX_INPUT_CHARS`
//! characters, and what it accepts must digest and verify as the code it is.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_core::otp::{self, CODE_LEN, MAX_INPUT_CHARS};

const KEY: &[u8] = b"otp fuzz key, any length will do";
const AUTHENTICATION_ID: &str = "au_01JD8Z7Q3N4V";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(code) = otp::normalize(text) else {
        return;
    };
    assert!(text.chars().count() <= MAX_INPUT_CHARS);
    let digits = code.as_str();
    assert_eq!(digits.len(), CODE_LEN);
    assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    // Normal form is a fixed point, and `Debug` never shows the digits.
    assert_eq!(otp::normalize(digits), Ok(code));
    assert_eq!(format!("{code:?}"), "Code(******)");

    let digest = otp::digest(KEY, AUTHENTICATION_ID, &code);
    assert!(otp::verify(KEY, AUTHENTICATION_ID, &code, &digest));
    // Bound to the authentication: the same digest checks nothing anywhere else.
    assert!(!otp::verify(KEY, "au_other", &code, &digest));
    assert!(!otp::verify(
        KEY,
        AUTHENTICATION_ID,
        &code,
        &digest[..digest.len() - 1]
    ));
});
