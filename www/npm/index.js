// The widget for bundlers and browsers: `mount` loads the WebAssembly on first use (the URL is
// resolved next to this module, which bundlers such as Vite and webpack follow), then mounts.
import init, { mount as mountNow } from './widget/mamori_widget.js';
import { defineElement as define } from './element.js';

let ready;

// Starts loading the WebAssembly now (optional: `mount` does it). `wasm` overrides where it is
// fetched from: a URL, a Response or a compiled WebAssembly.Module.
export function load(wasm) {
  ready ??= init(wasm === undefined ? undefined : { module_or_path: wasm });
  return ready;
}

// Mounts the widget in `element`; resolves to a handle whose `destroy()` removes it.
export async function mount(element, options) {
  await load();
  return mountNow(element, options);
}

// Defines <mamori-challenge> (or `name`), with `defaults` for options its attributes omit.
export function defineElement(name = 'mamori-challenge', defaults = {}) {
  return define(mount, name, defaults);
}
