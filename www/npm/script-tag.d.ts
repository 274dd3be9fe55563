// Declarations for a page that loads the widget by script tag (`<script src="…/mamori-….js">`):
// `/// <reference types="mamori/script-tag" />` declares `window.mamori` and, through
// `mamori/globals`, the `<mamori-challenge>` element and the `mamori:*` events.

/// <reference path="./globals.d.ts" />

import type { Handle, MountOptions } from './index.js';

/** `window.mamori`, defined by the script-tag loader. */
export interface MamoriScriptTag {
  /** Mounts the widget in `element`; `verifier`, `lang` and `mode` default to the script tag's
   * `data-verifier` (else the origin the script came from), `data-lang` and `data-mode`. */
  mount(
    element: Element,
    options: Omit<MountOptions, 'verifier'> & Partial<Pick<MountOptions, 'verifier'>>,
  ): Promise<Handle>;
  /** Starts loading the WebAssembly (`mount` does it); rejects with a `LoadError`. */
  load(): Promise<unknown>;
}

declare global {
  interface Window {
    readonly mamori: MamoriScriptTag;
  }
}
