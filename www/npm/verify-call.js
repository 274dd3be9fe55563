// `createVerifier`: the JavaScript half of a pre-keyed verifier, shared by the Node and the
// browser/edge entries. The wasm `Verifier` keeps the keyed HMAC state and a buffer in wasm
// memory; this file checks each call's options strictly (a misspelt member is refused, never
// ignored), writes the token and order into that buffer with `encodeInto`, and builds the claims
// from the numbers and the one run of UTF-8 the verifier writes back. The layout is described
// in crates/mamori-verify-wasm/src/exchange.rs; whole numbers are checked again on the Rust side.

const CALL_MEMBERS = ['order', 'now'];
const ORDER_MEMBERS = ['authentication', 'reference', 'amount', 'currency'];
/** The size of a verifier's buffer (`exchange::BYTES`). */
const BUFFER_BYTES = 8192;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A wrong call, thrown as the wasm throws its refusals. */
function wrongCall(message) {
  const error = new Error(`mamori: ${message}`);
  error.name = 'MamoriVerifyError';
  error.code = 'invalid_options';
  return error;
}

/** Checks a call's options; returns the order, or `undefined` for none. */
function orderOf(call) {
  if (call === null || typeof call !== 'object' || Array.isArray(call)) {
    throw wrongCall('options must be an object');
  }
  for (const name in call) {
    if (!CALL_MEMBERS.includes(name)) throw wrongCall(`options: unknown member \`${name}\``);
  }
  if (call.now !== undefined && typeof call.now !== 'number') {
    throw wrongCall('options: now must be a number');
  }
  const { order } = call;
  if (order === undefined) return undefined;
  if (order === null || typeof order !== 'object' || Array.isArray(order)) {
    throw wrongCall('options: order must be an object');
  }
  let members = 0;
  for (const name in order) {
    if (!ORDER_MEMBERS.includes(name)) throw wrongCall(`options: order: unknown member \`${name}\``);
    members++;
  }
  if (
    members !== ORDER_MEMBERS.length ||
    typeof order.authentication !== 'string' ||
    typeof order.reference !== 'string' ||
    typeof order.amount !== 'number' ||
    typeof order.currency !== 'string'
  ) {
    throw wrongCall('options: order must be {authentication, reference, amount, currency}');
  }
  return order;
}

/**
 * `createVerifier`, and `verifyResult` built on it, over one build's bindings (Node's or the
 * web's).
 */
export function bind({ Verifier, wasmMemory }) {
  const memory = wasmMemory();
  // Views of the whole memory, made again when it grows (its old ArrayBuffer is then detached
  // and the views empty). Every verifier's buffer is a fixed range of it.
  let bytes = new Uint8Array(0);
  let view;
  const views = () => {
    if (bytes.byteLength === 0) {
      bytes = new Uint8Array(memory.buffer);
      view = new DataView(memory.buffer);
    }
  };

  /** One call of `verifier`, whose buffer starts at `start`. */
  function call(verifier, start, token, options) {
    if (typeof token !== 'string') throw wrongCall('token must be a string');
    const order = options === undefined ? undefined : orderOf(options);
    const now = options?.now;
    views();
    // The token and the order's strings back to back; the lengths are -1 for one that does
    // not fit, and then everything goes as strings.
    const length = put(bytes, start, start, token);
    if (order === undefined) {
      if (length < 0) verifier.verifyStrings(token, undefined, undefined, undefined, undefined, now);
      else verifier.verify(length, undefined, 0, 0, undefined, now);
    } else {
      let at = start + Math.max(length, 0);
      const authentication = length < 0 ? -1 : put(bytes, start, at, order.authentication);
      at += Math.max(authentication, 0);
      const reference = authentication < 0 ? -1 : put(bytes, start, at, order.reference);
      at += Math.max(reference, 0);
      const currency = reference < 0 ? -1 : put(bytes, start, at, order.currency);
      if (currency < 0) {
        verifier.verifyStrings(token, order.authentication, order.reference, order.currency, order.amount, now);
      } else {
        verifier.verify(length, authentication, reference, currency, order.amount, now);
      }
    }
    // The call may have grown the memory.
    views();
    return read(bytes, view, start);
  }

  function createVerifier(secretKeys, options) {
    const verifier = new Verifier(secretKeys, options);
    const start = verifier.buffer();
    // The wasm side is freed when this function is garbage-collected.
    return function verifyResult(token, options) {
      return call(verifier, start, token, options);
    };
  }

  function verifyResult(token, secretKeys, options) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw wrongCall('options must be an object');
    }
    // The verifier is made with the rest, so a misspelt member is refused there.
    const { order, now, ...setup } = options;
    const verifier = new Verifier(secretKeys, setup);
    try {
      return call(verifier, verifier.buffer(), token, { order, now });
    } finally {
      verifier.free();
    }
  }

  return { createVerifier, verifyResult };
}

/** Strings up to this length are tried as ASCII first (order fields are nearly always short). */
const SHORT = 64;

/**
 * Writes `string` at `at`, not past the buffer that starts at `start`; its byte length, or -1
 * when it does not fit.
 */
function put(bytes, start, at, string) {
  const length = string.length;
  // A short ASCII string is copied unit by unit: cheaper than a view and a call to
  // `encodeInto`, which takes over (from `at` again) at the first other character.
  if (length <= SHORT && at + length <= start + BUFFER_BYTES) {
    let i = 0;
    while (i < length) {
      const unit = string.charCodeAt(i);
      if (unit >= 0x80) break;
      bytes[at + i++] = unit;
    }
    if (i === length) return length;
  }
  const { read, written } = encoder.encodeInto(string, bytes.subarray(at, start + BUFFER_BYTES));
  return read === length ? written : -1;
}

/** The claims the verifier wrote, as the plain object `JSON.parse` of them would give. */
function read(bytes, view, start) {
  const text = decoder.decode(bytes.subarray(start + 72, start + 72 + view.getUint32(start + 64, true)));
  let at = 0;
  const next = (i) => text.slice(at, (at += view.getUint32(start + 24 + 4 * i, true)));
  const claims = {
    iss: next(0),
    aud: next(1),
    sub: next(2),
    iat: view.getFloat64(start, true),
    exp: view.getFloat64(start + 8, true),
    jti: next(3),
    txn: { ref: next(4), amount: view.getFloat64(start + 16, true), currency: next(5) },
    status: next(6),
    eci: next(7),
    method: next(8),
  };
  const reason = next(9);
  if (reason !== '') claims.reason = reason;
  return claims;
}
