//! The WebAssembly module's exports: the crate's functions over one byte buffer that Rust owns,
//! called by the widget's JavaScript glue (`mamori_widget.js`).
//!
//! # The calling convention
//!
//! - [`buffer`]`(len)` makes the buffer `len` bytes long, keeping the bytes that fit, and
//!   answers its address in linear memory. JavaScript writes a call's input there, then calls
//!   the function. Text is UTF-8, but for [`normalize_code`], which reads characters: its input
//!   is code points, 32 bits each, little-endian (reading characters from UTF-8 would ship a
//!   UTF-8 validator, which weighs more than the few bytes this costs the glue).
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
//! lengths and flags, and the buffer is a `Vec<u8>` read and written by safe code only. Text is
//! only ever hashed, searched or copied as bytes, never read as `str`, so nothing relies on it
//! being UTF-8; the code's characters are made by `char::from_u32`, which refuses what is not
//! one. JavaScript can write any byte of linear memory anyway; what it writes into the buffer
//! is only ever input, as any `&[u8]` would be.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// What a function answers when it has no output: the input is not a code, a key or a
/// signature.
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

/// [`crate::normalize_code`] of the buffer's code points. A surrogate (which a JavaScript string
/// can hold alone) is U+FFFD, as `TextEncoder` would make it; a length that is not a multiple
/// of four is no code.
#[unsafe(no_mangle)]
pub extern "C" fn normalize_code() -> i32 {
    let input = take();
    let points = input.chunks_exact(4);
    let code = if points.remainder().is_empty() {
        crate::normalize_code(points.map(|point| {
            let point = u32::from_le_bytes([point[0], point[1], point[2], point[3]]);
            char::from_u32(point).unwrap_or(char::REPLACEMENT_CHARACTER)
        }))
    } else {
        None
    };
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
    let family = crate::browser_family(&input).as_bytes().to_vec();
    answer(input, Some(family))
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
        .map(|(id, value)| crate::hash_component(id, value));
    answer(input, hash.map(String::into_bytes))
}

/// [`crate::device_key_message`] of the buffer's text, for registration when `register` is not
/// zero.
#[unsafe(no_mangle)]
pub extern "C" fn device_key_message(register: u32) -> i32 {
    let input = take();
    let message = crate::device_key_message(register != 0, &input);
    answer(input, Some(message))
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

    /// `text` as the glue writes a code: its code points, 32 bits little-endian.
    fn code_points(text: &str) -> Vec<u8> {
        text.chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect()
    }

    #[test]
    fn texts_go_in_and_come_out_through_the_buffer() {
        let _serial = serial();
        let code = call(&code_points("１２３ ４５６"), || normalize_code());
        assert_eq!(code.as_deref(), Some(&b"123456"[..]));
        assert_eq!(call(&code_points("12345"), || normalize_code()), None);
        // UTF-8 is not what a code is sent as.
        assert_eq!(call("１２３ ４５６".as_bytes(), || normalize_code()), None);
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
        let expected = crate::hash_component(b"dpr", b"2").into_bytes();
        assert_eq!(call(b"dpr2", || hash_component(3)), Some(expected));
        // The same bytes split elsewhere are another component.
        assert_eq!(
            call(b"dpr2", || hash_component(2)),
            Some(crate::hash_component(b"dp", b"r2").into_bytes())
        );
        assert_eq!(call(b"dpr2", || hash_component(5)), None);
    }

    #[test]
    fn a_code_is_whole_code_points() {
        let _serial = serial();
        // A lone surrogate is U+FFFD, no digit; so is a value past U+10FFFF.
        let mut lone = code_points("12345");
        lone.extend(0xd800_u32.to_le_bytes());
        assert_eq!(call(&lone, || normalize_code()), None);
        let mut beyond = code_points("12345");
        beyond.extend(0x11_0036_u32.to_le_bytes());
        assert_eq!(call(&beyond, || normalize_code()), None);
        // A length that is not a multiple of four is no code, even if the rest would be.
        let mut ragged = code_points("123456");
        ragged.push(0);
        assert_eq!(call(&ragged, || normalize_code()), None);
        assert_eq!(call(&[], || normalize_code()), None);
    }

    #[test]
    fn text_is_taken_as_its_bytes() {
        let _serial = serial();
        assert_eq!(
            call(b"", || browser_family()).as_deref(),
            Some(&b"other"[..])
        );
        assert_eq!(
            call(&[b'a', 0xff, b'b'], || hash_component(1)),
            Some(crate::hash_component(b"a", &[0xff, b'b']).into_bytes())
        );
    }

    #[test]
    fn bytes_go_in_and_wire_forms_come_out() {
        let _serial = serial();
        assert_eq!(
            call(b"au_1", || device_key_message(1)),
            Some(crate::device_key_message(true, b"au_1"))
        );
        assert_eq!(
            call(b"au_1", || device_key_message(0)),
            Some(crate::device_key_message(false, b"au_1"))
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
        let input = code_points("12345");
        assert_eq!(call(&input, || normalize_code()), None);
        assert_eq!(contents(), input);
    }
}
