// Global declarations for pages that use the `<mamori-challenge>` element and the `mamori:*`
// events: the element in `document.createElement` and `querySelector`, and typed `detail`s in
// `addEventListener`. `import … from 'mamori'` brings them in; a page that loads the widget by
// script tag adds `/// <reference types="mamori/script-tag" />` (which also declares
// `window.mamori`) or names `mamori/globals` in its tsconfig's `types`.

import type { MamoriEventMap } from './index.js';

/** The `<mamori-challenge>` element. Set its properties (or attributes) before adding it to the
 * page: it mounts the widget when connected and removes it when disconnected. */
export interface MamoriChallengeElement extends HTMLElement {
  /** The `verifier` attribute: the verifier's base URL (the script tag's `data-verifier`, or
   * the origin it came from, when absent). */
  verifier: string;
  /** The `authentication` attribute: the authentication id your backend created (`au_…`). */
  authentication: string;
  /** The `client-secret` attribute: the authentication's client secret (`cs_…`). */
  clientSecret: string;
  /** The `mode` attribute: `inline` (default) or `dialog`. Reads back as written. */
  get mode(): string;
  set mode(value: 'inline' | 'dialog');
  /** The `theme` attribute: `light`, `dark` or `auto` (default, following the cardholder's
   * `prefers-color-scheme`). Reads back as written. */
  get theme(): string;
  set theme(value: 'light' | 'dark' | 'auto');
  // `lang` is HTMLElement's own: `ja` or `en`.

  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: MamoriChallengeElement, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: MamoriChallengeElement, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** The attributes of `<mamori-challenge>` as markup (JSX, templates) writes them. */
export interface MamoriChallengeAttributes {
  verifier?: string;
  authentication: string;
  'client-secret': string;
  lang?: string;
  mode?: 'inline' | 'dialog';
  theme?: 'light' | 'dark' | 'auto';
}

declare global {
  interface HTMLElementTagNameMap {
    'mamori-challenge': MamoriChallengeElement;
  }

  // The events bubble from the element to the document and the window, so they are typed on
  // every target of the global handlers' map, which HTMLElementEventMap, DocumentEventMap and
  // WindowEventMap extend.
  interface GlobalEventHandlersEventMap extends MamoriEventMap {}
}
