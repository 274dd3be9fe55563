// The WebAssembly module: loading it, and its functions for the other modules, which must agree
// with the verifier byte for byte (`lib.rs`).
//
// The module's exports take no pointers and no strings (`exports.rs`): Rust owns one byte
// buffer, `buffer(len)` makes it `len` bytes long and answers its address, the input is written
// there and the function called, which puts its output in the buffer and answers its length (or
// -1 for none); `buffer(length)` then answers the output's address. The address can change at
// every call and memory can grow, so both are read anew after each call. Text goes in as UTF-8
// (the code as code points, which its normalisation reads) and comes out as ASCII.

let wasm;
const encoder = new TextEncoder();

// Calls `function` (an export) with `input` (bytes, or parts of them) in the buffer; answers
// the output's bytes, or undefined when the function answers none.
function call(function_, ...input) {
  let at = wasm.buffer(input.reduce((length, part) => length + part.length, 0));
  for (const part of input) {
    // `buffer` may have grown memory: the view is made after it.
    new Uint8Array(wasm.memory.buffer).set(part, at);
    at += part.length;
  }
  const length = function_();
  if (length >= 0) {
    at = wasm.buffer(length);
    return new Uint8Array(wasm.memory.buffer).slice(at, at + length);
  }
}

// The functions' text outputs are ASCII: one byte, one character.
const text = (bytes) => bytes && String.fromCharCode(...bytes);

// A code as typed, pasted or autofilled, as the six ASCII digits the verifier takes; undefined
// when it is not a code. Sent as its code points, 32 bits little-endian (`Uint8Array` keeps each
// value's low byte); a lone surrogate goes as itself and is read as U+FFFD.
export function normalizeCode(input) {
  const points = Array.from(input, (character) => character.codePointAt(0));
  const bytes = Uint8Array.from({ length: 4 * points.length }, (_, i) => points[i >> 2] >> (8 * (i & 3)));
  return text(call(wasm.normalize_code, bytes));
}

// The longest entry the code input takes, the bound `normalizeCode` reads.
export const maxCodeInput = () => wasm.max_code_input();

// The browser family of a `User-Agent` string as the fingerprint's wire form names it.
export const browserFamily = (userAgent) => text(call(wasm.browser_family, encoder.encode(userAgent)));

// The fingerprint's wire-format version (`v`).
export const fingerprintVersion = () => wasm.fingerprint_version();

// The component hash of `value` for the component `id`, in hex.
export function hashComponent(id, value) {
  const idBytes = encoder.encode(id);
  return text(call(() => wasm.hash_component(idBytes.length), idBytes, encoder.encode(value)));
}

// The bytes the device key signs, for registration when `register`, else for the device step.
export const deviceKeyMessage = (register, authentication) =>
  call(() => wasm.device_key_message(register), encoder.encode(authentication));

// A public key's wire form from WebCrypto's `raw` export; undefined when it is not such a point.
export const publicKeyWire = (sec1) => text(call(wasm.public_key_wire, sec1));

// A signature's wire form from WebCrypto's ECDSA signature; undefined when it is not 64 bytes.
export const signatureWire = (p1363) => text(call(wasm.signature_wire, p1363));

// Instantiates the compiled `module` at once (the script-tag loader compiles it while it
// downloads). The module imports nothing.
export function initSync(module) {
  wasm ??= new WebAssembly.Instance(module).exports;
}

// Loads the module from `source`: a URL (by default the `.wasm` next to this file), a Request,
// a Response (or a promise of one) or a compiled WebAssembly.Module. Rejects with a TypeError
// when the fetch fails, an Error for an error status, a CompileError when it is not this
// module.
export default async function init(source = new URL('mamori_widget_bg.wasm', import.meta.url)) {
  if (wasm) return;
  if (source instanceof WebAssembly.Module) return initSync(source);
  if (typeof source === 'string' || source instanceof URL || source instanceof Request) {
    source = fetch(source);
  }
  const response = await source;
  if (!response.ok) {
    throw new Error(`failed to fetch the WebAssembly: ${response.status} ${response.url}`);
  }
  let module;
  try {
    // Compiled while it downloads, where the server sends `application/wasm`.
    module = await WebAssembly.compileStreaming(response.clone());
  } catch (error) {
    // Other servers' WebAssembly is compiled from its bytes; a module that does not compile
    // fails the same either way.
    if (response.headers.get('Content-Type') === 'application/wasm') throw error;
    module = await WebAssembly.compile(await response.arrayBuffer());
  }
  initSync(module);
}
