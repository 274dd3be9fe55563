//! The mamori widget: on a merchant's checkout page it proves the device (fingerprint, stored
//! device token and device key) to the card issuer's verifier and, when the verifier asks for
//! it, shows the one-time-code challenge.
//!
//! # Layout
//!
//! The widget is small hand-written JavaScript around this WebAssembly module. The WebAssembly
//! holds only what must agree with the verifier byte for byte, from the same `mamori-core` code
//! the verifier runs: code normalisation, the browser family and the component hashing of the
//! fingerprint, and the device key's signed messages and wire encodings. Everything the browser
//! does natively is JavaScript beside it (`src/*.js`, shipped next to the WebAssembly as
//! `widget/*.js` in the npm package and bundled into the script-tag loader):
//!
//! - `flow.js`: `mount(element, options)` and the flow of one mounted widget: the device step,
//!   then (if asked) the challenge with code entry, resend, cancel and countdowns, until a result
//!   or `destroy()`; the options and the `mamori:*` events.
//! - `api.js`: the verifier's endpoints, the strict reading of their answers, time limits and
//!   repeats.
//! - `net.js`: `fetch`, the one transport of the real page.
//! - `ui.js`: the challenge's DOM in a Shadow DOM, its stylesheet, listening and redrawing.
//! - `texts.js`: Japanese and English texts, and how the language is chosen.
//! - `device.js`: the device token in `localStorage`, the device key (WebCrypto, IndexedDB) and
//!   the device step's evidence.
//! - `store.js`: IndexedDB.
//! - `signals.js`: the fingerprint's readings, their order, deadline and idle-time scheduling,
//!   the graphics in a Worker.
//! - `mamori_widget.js`: loading this WebAssembly module and calling it, the glue between the
//!   modules above and [`exports`].
//!
//! Their tests run in headless Chromium against the packaged widget (`tests/e2e/widget`, run by
//! `cargo xtask test`); the functions here are tested natively below and, through the widget's
//! flow, in those tests.
//!
//! The functions here keep no state and cannot panic on input. JavaScript reaches them through
//! [`exports`]: plain WebAssembly exports over one byte buffer that Rust owns, instead of
//! generated bindings, whose glue and per-function shims weighed more than the functions.

use mamori_core::device_key::{self, PublicKey, Purpose, Signature};
use mamori_core::fingerprint::{self, Browser};
use mamori_core::otp;

#[allow(unsafe_code)] // `#[unsafe(no_mangle)]` only; see the module docs.
pub mod exports;

/// A free-list allocator of about a kilobyte instead of dlmalloc's five: the widget makes few,
/// small allocations, so dlmalloc's coalescing and size classes would only cost download size.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// A code as the cardholder typed, pasted or autofilled it, as the six ASCII digits the verifier
/// takes; `None` (`undefined` in JavaScript) when it is not a code (see
/// [`mamori_core::otp::normalize`]), and then nothing is sent, so no attempt is spent.
#[must_use]
pub fn normalize_code(input: impl IntoIterator<Item = char>) -> Option<[u8; otp::CODE_LEN]> {
    // Its bytes rather than `as_str` or a `String`: JavaScript reads them as they are, and
    // neither a UTF-8 check nor building a string from chars has to ship for six ASCII digits.
    otp::normalize_chars(input)
        .ok()
        .map(|code| *code.as_bytes())
}

/// The longest entry the code input takes, the same bound [`normalize_code`] reads.
#[must_use]
pub fn max_code_input() -> u32 {
    otp::MAX_INPUT_CHARS as u32
}

/// The browser family of a `User-Agent` string (its UTF-8) as the fingerprint's wire form names
/// it (`chromium`, `firefox`, `safari`, `other`): the verifier leaves out each family's noisy
/// components by it.
#[must_use]
pub fn browser_family(user_agent: &[u8]) -> &'static str {
    match Browser::from_user_agent(user_agent) {
        Browser::Chromium => "chromium",
        Browser::Firefox => "firefox",
        Browser::Safari => "safari",
        Browser::Other => "other",
    }
}

/// The fingerprint's wire-format version (`v`).
#[must_use]
pub fn fingerprint_version() -> u8 {
    fingerprint::VERSION
}

/// The component hash of `value` for the component `id` (both UTF-8), in hex, as the verifier
/// compares it (see [`mamori_core::fingerprint::hash_component`]).
#[must_use]
pub fn hash_component(id: &[u8], value: &[u8]) -> String {
    fingerprint::hash_component(id, value).to_hex()
}

/// The bytes the device key signs: for code entry's registration of a new key when `register`,
/// else for the device step (see [`mamori_core::device_key::message`]).
#[must_use]
pub fn device_key_message(register: bool, authentication: &[u8]) -> Vec<u8> {
    let purpose = if register {
        Purpose::Register
    } else {
        Purpose::Device
    };
    device_key::message(purpose, authentication)
}

/// A public key's wire form (base64url of the 65-byte uncompressed point) from WebCrypto's
/// `raw` export; `None` when the bytes are not such a point.
#[must_use]
pub fn public_key_wire(sec1: &[u8]) -> Option<String> {
    PublicKey::from_sec1(sec1)
        .ok()
        .map(|key| key.to_base64url())
}

/// A signature's wire form (base64url of the 64-byte `r || s`) from WebCrypto's ECDSA
/// signature; `None` when it is not 64 bytes.
#[must_use]
pub fn signature_wire(p1363: &[u8]) -> Option<String> {
    Signature::from_p1363(p1363)
        .ok()
        .map(|signature| signature.to_base64url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_or_refused() {
        assert_eq!(normalize_code("１２３ ４５６".chars()), Some(*b"123456"));
        assert_eq!(normalize_code("123-456".chars()), Some(*b"123456"));
        assert_eq!(normalize_code("12345".chars()), None);
        assert_eq!(normalize_code("12345a".chars()), None);
        assert_eq!(max_code_input() as usize, otp::MAX_INPUT_CHARS);
    }

    #[test]
    fn families_as_the_wire_names_them() {
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                        HeadlessChrome/156.0.0.0 Safari/537.36";
        assert_eq!(browser_family(headless.as_bytes()), "chromium");
        assert_eq!(
            browser_family(b"Mozilla/5.0 (X11; rv:140.0) Gecko/20100101 Firefox/140.0"),
            "firefox"
        );
        assert_eq!(browser_family(b"curl/8"), "other");
    }

    #[test]
    fn hashes_are_the_cores_in_hex() {
        let expected = fingerprint::hash_component("dpr", "2").to_hex();
        assert_eq!(hash_component(b"dpr", b"2"), expected);
        assert_eq!(expected.len(), 32);
    }

    #[test]
    fn device_key_messages_and_encodings_are_the_cores() {
        assert_eq!(
            device_key_message(true, b"au_1"),
            device_key::message(Purpose::Register, "au_1")
        );
        assert_eq!(
            device_key_message(false, b"au_1"),
            device_key::message(Purpose::Device, "au_1")
        );
        assert_eq!(signature_wire(&[7; 64]).map(|s| s.len()), Some(86));
        assert_eq!(signature_wire(&[7; 63]), None);
        assert_eq!(public_key_wire(&[4; 64]), None);
    }
}
