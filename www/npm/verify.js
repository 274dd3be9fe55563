// Result-token verification for Node 20+: mamori-core's `verify_result`, compiled to WebAssembly.
// The module is instantiated synchronously on import, so `verifyResult` and `createVerifier` are
// ready to call.
import * as bindings from './verify/mamori_verify_wasm.js';
import { bind } from './verify-call.js';

export const { createVerifier, verifyResult } = bind(bindings);
