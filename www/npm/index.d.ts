/// <reference path="./globals.d.ts" />

export type { MamoriChallengeAttributes, MamoriChallengeElement } from './globals.js';

/** Options of {@link mount}. */
export interface MountOptions {
  /** The verifier's base URL, e.g. `https://safekey.issuer.example`. */
  verifier: string;
  /** The authentication id your backend created (`au_…`). */
  authentication: string;
  /** Its client secret (`cs_…`). */
  clientSecret: string;
  /** `ja` or `en`; defaults to `<html lang>`, then the browser's languages. */
  lang?: string;
  /** `inline` (default) in the element, or `dialog`: a modal opened only for a challenge. */
  mode?: 'inline' | 'dialog';
  /** The colour scheme: `light`, `dark`, or `auto` (the default), which follows the
   * cardholder's `prefers-color-scheme`. Or CSS custom properties: `{ accent: '#006fcf' }` sets
   * `--mamori-accent` (and `{ 'color-scheme': 'dark' }` the scheme). */
  theme?: 'light' | 'dark' | 'auto' | Record<string, string>;
}

/** A mounted widget. */
export interface Handle {
  /** Removes every node, listener and timer; requests in flight are abandoned. */
  destroy(): void;
}

/** `mamori:result` detail: hand `resultToken` to your backend, which verifies it. */
export interface ResultDetail {
  status: 'Y' | 'A' | 'N' | 'U' | 'R';
  resultToken: string;
}

/** `mamori:error` detail. */
export interface ErrorDetail {
  /** `network`, `origin_not_allowed`, `unauthorized`, `authentication_finished`, `invalid_code`,
   * `resend_cooldown`, `rate_limited`, `resend_limit`, `server_error`, `bad_response`,
   * `invalid_options`. */
  code: string;
  message: string;
  /** Whether the widget stopped; otherwise the cardholder can go on. */
  fatal: boolean;
  /** Whether the same step may work later: `true` for `network`, `server_error` and rate limits
   * such as `resend_cooldown` and `rate_limited`; `false` for refusals (`origin_not_allowed`, `unauthorized`,
   * `authentication_finished`, `invalid_code`, `resend_limit`, `bad_response`,
   * `invalid_options`). When `fatal` too, mount again later. */
  retryable: boolean;
}

/** The error `load` and `mount` reject with when the WebAssembly does not load; a later call
 * loads it anew. */
export interface LoadError extends Error {
  /** `network` (fetch failed or timed out) or `bad_response` (the module does not compile). */
  code: 'network' | 'bad_response';
  retryable: boolean;
}

/** `mamori:challenge` and `mamori:resend` detail. */
export interface ChallengeDetail {
  maskedEmail: string;
  /** Seconds since the Unix epoch. */
  expiresAt: number;
  attemptsLeft?: number;
  resendsLeft: number;
}

export interface MamoriEventMap {
  'mamori:ready': CustomEvent<Record<string, never>>;
  'mamori:challenge': CustomEvent<ChallengeDetail>;
  'mamori:resend': CustomEvent<ChallengeDetail>;
  'mamori:result': CustomEvent<ResultDetail>;
  'mamori:error': CustomEvent<ErrorDetail>;
  'mamori:expired': CustomEvent<Record<string, never>>;
  'mamori:cancel': CustomEvent<ResultDetail>;
}

/** Starts loading the WebAssembly; `mount` calls it. Rejects with a {@link LoadError}. */
export function load(wasm?: string | URL | Response | WebAssembly.Module): Promise<unknown>;

/** Mounts the widget in `element` and starts the authentication. */
export function mount(element: Element, options: MountOptions): Promise<Handle>;

/** Defines the `<mamori-challenge>` custom element. */
export function defineElement(
  name?: string,
  defaults?: Partial<MountOptions>,
): CustomElementConstructor;
