//! The WebAssembly module's exports: the crate's functions over one byte buffer that Rust owns,
//! called by the widget's JavaScript glue (`mamori_widget.js`).
//!
//! # The calling convention
//!
//! - [`buffer`]`(len)` makes the buffer `len` bytes long, keeping the bytes that fit, and
//!   answers its address in linear memory. JavaScript writes a call's input there (text as
//!   UTF-8), then calls the function.
//! - Each function reads its input from the whole buffer, puts its output in the buffer's place
//!   and answers the output's length; or it answers [`NONE`] and the buffer's content means
//!   nothing. JavaScript then calls `buffer(length)`, which changes nothing but the address it
//!   answers is the output's, and copies the output out.
//! - [`hash_component`] takes two texts: the buffer holds the id's bytes, then the value's, and
//!   its argument is the id's length in bytes.
//! - Numbers and flags are plain arguments and results.
//!
//! JavaScript holds no allocation across calls and no string is leaked: the buffer is the only
//! memory it touches, and the next call reuses it. The address can change at every call (the
//! output may not fit where the input was, and memory may grow), so JavaScript asks for it after
//! each call and reads `memory.buffer` anew.
//!
//! # Safety
//!
//! The only unsafe code is `#[unsafe(no_mangle)]`, which exports each function under its own
//! name (unsafe because two items of the same name would clash at link time; these names are
//! used nowhere else). No pointer from JavaScript is ever dereferenced: the arguments are
//! lengths and flags, the buffer is a `Vec<u8>` read and written by safe code only, and text
//! is checked as UTF-8 before it is read as text. JavaScript can write any byte of linear
//! memory anyway; what it writes into the buffer is only ever input, as any `&[u8]` would be.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// What a function answers when it has no output: the input is not a code, a key or a
/// signature, or a text is not UTF-8 (which `TextEncoder` never writes).
pub const NONE: i32 = -1;

/// A call's input before it, its output after it. WebAssembly here has one thread (the lock
/// costs nothing) and panics abort, so the lock is never poisoned; a `static` rather than a
/// `thread_local!`, whose lazy registration weighs more.
static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// The buffer, locked.
fn locked() -> MutexGuard<'static, Vec<u8>> {
    BUFFER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The buffer's contents, taken out while a function works on them.
fn take() -> Vec<u8> {
    std::mem::take(&mut *locked())
}

/// Makes the buffer `len` bytes long, keeping the bytes that fit, and answers its address.
#[unsafe(no_mangle)]
pub extern "C" fn buffer(len: u32) -> u32 {
    let mut buffer = locked();
    buffer.resize(len as usize, 0);
    // An address in linear memory, 32 bits on wasm32; JavaScript only reads it as an offset.
    buffer.as_ptr() as u32
}

/// [`crate::normalize_code`] of the buffer's text.
#[unsafe(no_mangle)]
pub extern "C" fn normalize_code() -> i32 {
    let input = take();
    let code = text(&input).and_then(crate::normalize_code);
    answer(input, code.map(Vec::from))
}

/// [`crate::max_code_input`].
#[unsafe(no_mangle)]
pub extern "C" fn max_code_input() -> u32 {
    crate::max_code_input()
}

/// [`crate::browser_family`] of the buffer's text.
#[unsafe(no_mangle)]
pub extern "C" fn browser_family() -> i32 {
    let input = take();
    let family = text(&input).map(crate::browser_family);
    answer(input, family.map(|family| family.as_bytes().to_vec()))
}

/// [`crate::fingerprint_version`].
#[unsafe(no_mangle)]
pub extern "C" fn fingerprint_version() -> u32 {
    crate::fingerprint_version().into()
}

/// [`crate::hash_component`] of the id (the buffer's first `id_len` bytes) and the value (the
/// rest).
#[unsafe(no_mangle)]
pub extern "C" fn hash_component(id_len: u32) -> i32 {
    let input = take();
    let hash = input
        .split_at_checked(id_len as usize)
        .and_then(|(id, value)| Some(crate::hash_component(text(id)?, text(value)?)));
    answer(input, hash.map(String::into_bytes))
}

/// [`crate::device_key_message`] of the buffer's text, for registration when `register` is not
/// zero.
#[unsafe(no_mangle)]
pub extern "C" fn device_key_message(register: u32) -> i32 {
    let input = take();
    let message = text(&input).map(|id| crate::device_key_message(register != 0, id));
    answer(input, message)
}

/// [`crate::public_key_wire`] of the buffer's bytes.
#[unsafe(no_mangle)]
pub extern "C" fn public_key_wire() -> i32 {
    let input = take();
    let wire = crate::public_key_wire(&input);
    answer(input, wire.map(String::into_bytes))
}

/// [`crate::signature_wire`] of the buffer's bytes.
#[unsafe(no_mangle)]
pub extern "C" fn signature_wire() -> i32 {
    let input = take();
    let wire = crate::signature_wire(&input);
    answer(input, wire.map(String::into_bytes))
}

/// Puts a function's `output` in the buffer, or its `input` back when there is none; answers
/// the output's length, or [`NONE`]. Not generic, so that every export shares one copy.
fn answer(input: Vec<u8>, output: Option<Vec<u8>>) -> i32 {
    let (buffer, answer) = match output {
        // Outputs are a few dozen bytes, far below `i32::MAX`.
        Some(output) => {
            let len = output.len() as i32;
            (output, len)
        }
        None => (input, NONE),
    };
    *locked() = buffer;
    answer
}

/// `bytes` as text, if they are UTF-8.
///
/// Checked by `utf8_chunks`, whose byte-at-a-time validation is smaller than that of
/// `str::from_utf8` (which reads ASCII a word at a time): speed does not matter for these few
/// short texts, download size does.
fn text(bytes: &[u8]) -> Option<&str> {
    let mut chunks = bytes.utf8_chunks();
    match (chunks.next(), chunks.next()) {
        (None, _) => Some(""),
        (Some(chunk), None) if chunk.invalid().is_empty() => Some(chunk.valid()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests run in parallel threads and share the one buffer: each holds this while it uses it.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls `function` the way the JavaScript glue does: the input in the buffer, then the
    /// output read back from it.
    fn call(input: &[u8], function: impl FnOnce() -> i32) -> Option<Vec<u8>> {
        *locked() = input.to_vec();
        let len = function();
        (len != NONE).then(|| {
            buffer(len as u32);
            contents()
        })
    }

    #[test]
    fn texts_go_in_and_come_out_through_the_buffer() {
        let _serial = serial();
        let code = call("１２３ ４５６".as_bytes(), || normalize_code());
        assert_eq!(code.as_deref(), Some(&b"123456"[..]));
        assert_eq!(call(b"12345", || normalize_code()), None);
        assert_eq!(
            call(b"curl/8", || browser_family()).as_deref(),
            Some(&b"other"[..])
        );
        assert_eq!(max_code_input(), crate::max_code_input());
        assert_eq!(
            fingerprint_version(),
            u32::from(crate::fingerprint_version())
        );
    }

    #[test]
    fn a_component_is_its_id_then_its_value() {
        let _serial = serial();
        let expected = crate::hash_component("dpr", "2").into_bytes();
        assert_eq!(call(b"dpr2", || hash_component(3)), Some(expected));
        // The same bytes split elsewhere are another component.
        assert_ne!(
            call(b"dpr2", || hash_component(2)),
            Some(crate::hash_component("dpr", "2").into_bytes())
        );
        assert_eq!(call(b"dpr2", || hash_component(5)), None);
    }

    #[test]
    fn text_that_is_not_utf8_answers_nothing() {
        let _serial = serial();
        assert_eq!(call(&[0xff, b'1'], || normalize_code()), None);
        assert_eq!(call(&[0xc3], || browser_family()), None);
        assert_eq!(call(&[b'a', 0xff, b'b'], || hash_component(1)), None);
        assert_eq!(call(&[0xff], || device_key_message(1)), None);
        assert_eq!(call(b"au_1\xff", || device_key_message(1)), None);
        // The empty text is text.
        assert_eq!(
            call(b"", || browser_family()).as_deref(),
            Some(&b"other"[..])
        );
    }

    #[test]
    fn bytes_go_in_and_wire_forms_come_out() {
        let _serial = serial();
        assert_eq!(
            call(b"au_1", || device_key_message(1)),
            Some(crate::device_key_message(true, "au_1"))
        );
        assert_eq!(
            call(b"au_1", || device_key_message(0)),
            Some(crate::device_key_message(false, "au_1"))
        );
        let signature = call(&[7; 64], || signature_wire());
        assert_eq!(
            signature,
            crate::signature_wire(&[7; 64]).map(String::into_bytes)
        );
        assert_eq!(call(&[7; 63], || signature_wire()), None);
        assert_eq!(call(&[4; 64], || public_key_wire()), None);
    }

    /// A copy of what the buffer holds.
    fn contents() -> Vec<u8> {
        locked().clone()
    }

    #[test]
    fn the_buffer_keeps_what_fits() {
        let _serial = serial();
        *locked() = b"abc".to_vec();
        buffer(2);
        assert_eq!(contents(), b"ab");
        buffer(4);
        assert_eq!(contents(), b"ab\0\0");
    }

    #[test]
    fn no_output_leaves_the_input() {
        let _serial = serial();
        assert_eq!(call(b"12345", || normalize_code()), None);
        assert_eq!(contents(), b"12345");
    }
}
