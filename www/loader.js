// The script-tag loader, bundled into `mamori.js` by `cargo xtask package`:
//
//   <script src="https://verifier.example/widget/mamori-<hash>.js" integrity="sha384-…"
//           crossorigin="anonymous" data-verifier="https://verifier.example"></script>
//   <mamori-challenge authentication="au_…" client-secret="cs_…"></mamori-challenge>
//
// It reads its own data-* attributes (data-verifier, data-lang, data-mode, data-element), defines
// the custom element and exposes `window.mamori.mount`. The WebAssembly is fetched only when a
// widget is first mounted, with streaming instantiation and the integrity hash of the .wasm, so
// the one SRI hash on the script tag covers everything. A build without that hash cannot load
// the widget at all (`mamori:error`, `bad_response`).

import { initSync } from './widget/mamori_widget.js';
import { mount as mountNow } from './widget/flow.js';
import { MissingIntegrity, defineElement, loadOnce } from './element.js';

// Filled in by the build: the wasm file's content-addressed name and its sha384 SRI hash.
const WASM_FILE = '__MAMORI_WASM_FILE__';
const WASM_INTEGRITY = '__MAMORI_WASM_INTEGRITY__';

const script = document.currentScript;
const data = script?.dataset ?? {};
const base = new URL('.', script?.src ?? location.href);
const wasmUrl = new URL(WASM_FILE, base);

// A failed load (`network`, `bad_response`) is tried again by the next `load` or `mount`.
const load = loadOnce(async () => {
  // A build that left the placeholder could not check the .wasm: nothing runs unchecked.
  if (!WASM_INTEGRITY.startsWith('sha384-')) {
    throw new MissingIntegrity('this mamori.js has no integrity hash for its WebAssembly');
  }
  // Compiled while it downloads (the verifier serves it as `application/wasm`), then
  // instantiated at once: the glue's own loader, with its fallback for other servers, would only
  // add to the script.
  const response = fetch(wasmUrl, { integrity: WASM_INTEGRITY, credentials: 'omit' });
  initSync(await WebAssembly.compileStreaming(response));
});

const defaults = {};
// The verifier serves this script, so its origin is the default verifier.
defaults.verifier = data.verifier ?? base.origin;
if (data.lang) defaults.lang = data.lang;
if (data.mode) defaults.mode = data.mode;

async function mount(element, options) {
  await load();
  return mountNow(element, { ...defaults, ...options });
}

window.mamori = Object.freeze({ mount, load });
defineElement(mount, data.element ?? 'mamori-challenge', defaults);
