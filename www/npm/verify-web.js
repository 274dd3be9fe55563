// Result-token verification for runtimes other than Node (browsers, Deno, edge workers that can
// fetch): the same WebAssembly, loaded with top-level await, so `verifyResult` and
// `createVerifier` are ready once the import resolves. Where fetching the .wasm is not allowed,
// import `initSync` from './verify-web/mamori_verify_wasm.js' and pass it the compiled module
// yourself.
import * as bindings from './verify-web/mamori_verify_wasm.js';
import { bind } from './verify-call.js';

await bindings.default();

export const { createVerifier, verifyResult } = bind(bindings);
