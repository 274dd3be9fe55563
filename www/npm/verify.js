// Result-token verification for Node 20+: mamori-core's `verify_result`, compiled to WebAssembly.
// The module is instantiated synchronously on import, so `verifyResult` is ready to call.
export { verifyResult } from './verify/mamori_verify_wasm.js';
