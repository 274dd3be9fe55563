// Result-token verification for runtimes other than Node (browsers, Deno, edge workers that can
// fetch): the same WebAssembly, loaded with top-level await, so `verifyResult` is ready once the
// import resolves. Where fetching the .wasm is not allowed, import `initSync` from
// './verify-web/mamori_verify_wasm.js' and pass it the compiled module yourself.
import init, { verifyResult } from './verify-web/mamori_verify_wasm.js';

await init();

export { verifyResult };
