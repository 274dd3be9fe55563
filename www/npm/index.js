// The widget for bundlers and browsers: `mount` loads the WebAssembly on first use (the URL is
// resolved next to this module, which bundlers such as Vite and webpack follow), then mounts.
import init from './widget/mamori_widget.js';
import { mount as mountNow } from './widget/flow.js';
import { defineElement as define, loadOnce } from './element.js';

// Starts loading the WebAssembly now (optional: `mount` does it). `wasm` overrides where it is
// fetched from: a URL, a Response or a compiled WebAssembly.Module. A failed load rejects with
// an Error whose `code` is `network` or `bad_response` and is tried again by the next call.
export const load = loadOnce((wasm) => init(wasm));

// Mounts the widget in `element`; resolves to a handle whose `destroy()` removes it.
export async function mount(element, options) {
  await load();
  return mountNow(element, options);
}

// Defines <mamori-challenge> (or `name`), with `defaults` for options its attributes omit.
export function defineElement(name = 'mamori-challenge', defaults = {}) {
  return define(mount, name, defaults);
}
