// `mount(element, options)`: the widget's whole surface, and the flow of one mounted widget:
// the device step, then (if asked) the challenge with its code entry, resend, cancel and
// countdowns, until a result or `destroy()`.
//
// Events (`mamori:*`) are raised on the merchant's element and bubble, so a page can listen on
// any ancestor: `ready` once mounted and about to check the device; `challenge` when a code was
// emailed (`{maskedEmail, expiresAt, attemptsLeft, resendsLeft}`, `expiresAt` in seconds);
// `resend` when a new one was (the same detail); `result` when the authentication is over
// (`{status, resultToken}` for the merchant's backend); `error` (`{code, message, fatal,
// retryable}`); `expired` when the code (or the whole authentication) ran out of time; `cancel`
// when the cardholder cancelled (`{status, resultToken}`, followed by `result`). Every
// authentication that is not cut short by a fatal error ends in exactly one `mamori:result`.
//
// A merchant's listener may call back into the widget (typically `destroy`) while an event is
// dispatched: every step after an `await` or an event checks `destroyed` first.

import { maxCodeInput, normalizeCode } from './mamori_widget.js';
import { Failure, TIMING, api } from './api.js';
import { evidence, registration, replaceKey, storageKey, storeToken } from './device.js';
import { post } from './net.js';
import { choose, clock, fill } from './texts.js';
import { build } from './ui.js';

// How often the countdowns are redrawn, in milliseconds.
const TICK_MS = 1000;

// The options of `mount`, checked once, up front, so a merchant's typo fails at `mount` with a
// message instead of half-way through a purchase: `{verifier, authentication, clientSecret,
// lang?, mode?: "inline" | "dialog", theme?}`. `theme` is a colour scheme, `"light"`, `"dark"`
// or `"auto"` (the default: the cardholder's `prefers-color-scheme`), or maps names to CSS
// values: `{accent: "#006fcf"}` sets `--mamori-accent` (names other than plain identifiers,
// and values other than strings, are ignored). Throws a `TypeError` naming the first missing or
// malformed option.
function readOptions(options) {
  const fail = (message) => {
    throw new TypeError(`mamori: ${message}`);
  };
  const get = (name) => (typeof options === 'object' && options !== null ? options[name] : undefined);
  const required = (name) => {
    const value = get(name);
    return typeof value === 'string' && value.trim() !== ''
      ? value
      : fail(`option \`${name}\` must be a non-empty string`);
  };
  const verifier = required('verifier').trim().replace(/\/+$/, '');
  if (!/^https?:\/\//.test(verifier)) fail('option `verifier` must be an http(s) URL');
  const mode = get('mode');
  if (typeof mode === 'string' && mode !== 'inline' && mode !== 'dialog') {
    fail('option `mode` must be "inline" or "dialog"');
  }
  const lang = get('lang');
  return {
    verifier,
    authentication: required('authentication'),
    clientSecret: required('clientSecret'),
    lang: typeof lang === 'string' ? lang : undefined,
    dialog: mode === 'dialog',
    theme: readTheme(get('theme'), fail),
  };
}

// A colour scheme as the custom property the stylesheet reads (`--mamori-color-scheme`, whose
// default `light dark` follows the cardholder's preference), or the theme's entries whose names
// are plain identifiers and whose values are strings, as `[name, value]`.
function readTheme(theme, fail) {
  if (typeof theme === 'string') {
    if (theme === 'light' || theme === 'dark') return [['--mamori-color-scheme', theme]];
    if (theme === 'auto') return [];
    fail('option `theme` must be "light", "dark", "auto" or an object of custom properties');
  }
  if (typeof theme !== 'object' || theme === null) return [];
  return Object.entries(theme)
    .filter(([name, value]) => /^[A-Za-z0-9-]+$/.test(name) && typeof value === 'string')
    .map(([name, value]) => [`--mamori-${name}`, value]);
}

// The transport of the real page: `fetch` to the verifier with the client secret, every request
// abandoned by one `AbortController`.
export function fetchTransport(verifier, clientSecret) {
  const controller = new AbortController();
  return {
    post: (path, body) => post(verifier + path, `Bearer ${clientSecret}`, body, controller.signal),
    abort: () => controller.abort(),
  };
}

// The text shown for each error code, and whether the error always ends the flow; any other code
// (one a proxy in front of the verifier made up, say) is shown as `unavailable`. A `Map`, not an
// object literal: a code such as `constructor` or `__proto__` must not find what every object
// inherits.
const SHOWN = new Map([
  ['network', ['network']],
  ['invalid_code', ['invalidCode']],
  ['resend_cooldown', ['resendIn']],
  ['resend_limit', ['resendLimit']],
  ['origin_not_allowed', ['originNotAllowed', true]],
  ['authentication_finished', ['finished', true]],
  ['unauthorized', ['unavailable', true]],
]);

// Mounts the widget in `element` and starts the authentication; answers a handle whose
// `destroy()` removes every node, listener and timer and abandons requests in flight. Throws a
// `TypeError` when `element` is not an element or an option is missing or malformed.
export function mount(element, options) {
  if (!(element instanceof Element)) throw new TypeError('mamori: mount needs an element');
  const checked = readOptions(options);
  const widget = start(element, checked, {
    transport: fetchTransport(checked.verifier, checked.clientSecret),
    timing: TIMING,
    now: Date.now,
  });
  return { destroy: widget.destroy };
}

// Mounts with checked options over `transport`, waiting as `timing` says and reading the time
// for countdowns from `now()` (milliseconds since the epoch): what `mount` does with `fetch`,
// `TIMING` and `Date.now`, and the widget's tests with a scripted transport and a set clock.
// Answers `{destroy, refresh}`; `refresh` redraws at once, as the next tick would.
export function start(element, options, { transport, timing, now }) {
  const texts = choose(options.lang);
  const ui = build(element, options.dialog, texts, options.theme, maxCodeInput());
  const verifier = api(transport, options.authentication, timing);
  const deviceKey = storageKey(options.verifier);
  // Set during a challenge.
  let challenge;
  // A request is in flight; every control that sends one is disabled meanwhile, which is what
  // keeps a double click or a retry from submitting a code twice.
  let busy = false;
  // The code's expiry was announced (it is announced once).
  let expired = false;
  // A result was reached or a fatal error shown; nothing more is sent.
  let over = false;
  let destroyed = false;
  let ticker;
  // The fresh device key sent with every code entry, made at the first one (`null` when this
  // browser cannot make one); stored only when a code is accepted.
  let fresh;

  const emit = (name, detail = {}) => {
    if (!destroyed) element.dispatchEvent(new CustomEvent(`mamori:${name}`, { bubbles: true, detail }));
  };
  const stopTicker = () => {
    clearInterval(ticker);
    ticker = undefined;
  };
  const canSend = () => !destroyed && !busy && !over && challenge !== undefined;
  const challengeDetail = (c) => ({
    maskedEmail: c.maskedEmail,
    expiresAt: c.expiresAt / 1000,
    attemptsLeft: c.attemptsLeft,
    resendsLeft: c.resendsLeft,
  });
  const resultDetail = (f) => ({ status: f.status, resultToken: f.resultToken });
  // Whole seconds from now until `at`, rounded up, never negative.
  const secondsUntil = (at) => Math.max(0, Math.ceil((at - now()) / 1000));

  // Redraws the countdowns and enables exactly the controls that may be used now (every second
  // while a challenge runs, and after each change).
  function refresh() {
    if (!challenge) return;
    const left = secondsUntil(challenge.expiresAt);
    const newlyExpired = left === 0 && !expired && !over;
    if (left === 0) expired = true;
    const cooldown = secondsUntil(challenge.resendAvailableAt);
    const resendOpen = challenge.resendsLeft > 0 && cooldown === 0;
    const locked = busy || over;
    ui.render({
      countdownText: fill(texts.expiresIn, { time: clock(left) }),
      resendText: challenge.resendsLeft > 0 && cooldown > 0 ? fill(texts.resendIn, { n: cooldown }) : texts.resend,
      resendOpen: !locked && resendOpen,
      submitOpen: !locked && !expired,
      cancelOpen: !locked,
      busy,
      locked,
    });
    if (newlyExpired) {
      ui.announce(texts.expired, 'error');
      emit('expired');
    }
  }

  const setBusy = (value) => {
    busy = value;
    refresh();
  };

  // Ends the flow with a result: stops the clock, closes the challenge, says `text` in `tone`
  // and raises `mamori:result`.
  function finish(finished, text, tone) {
    over = true;
    stopTicker();
    ui.endChallenge();
    ui.announce(text, tone);
    emit('result', resultDetail(finished));
  }

  // Shows an error and raises `mamori:error`. Errors the flow cannot continue after (and those
  // the caller says are) are fatal and end it.
  function report(failure, fatal) {
    const [key, always] = SHOWN.get(failure.code) ?? ['unavailable'];
    const end = fatal || always === true;
    const text = fill(texts[key], { n: failure.retryAfter ?? '' });
    if (end) {
      over = true;
      stopTicker();
      ui.endChallenge();
    }
    refresh();
    ui.announce(text, 'error');
    emit('error', { code: failure.code, message: text, fatal: end, retryable: failure.retryable });
  }

  async function deviceStep() {
    emit('ready');
    ui.announce(texts.checking, 'info');
    const body = await evidence(deviceKey, options.authentication);
    if (destroyed) return;
    let outcome;
    try {
      outcome = await verifier.device(body);
    } catch (failure) {
      // The API has already tried again where that was safe; without the device step the
      // widget has nothing to show. A retryable error tells the merchant that mounting again
      // later may work.
      if (!destroyed) report(failure, true);
      return;
    }
    if (destroyed) return;
    if (outcome.finished) {
      const ok = outcome.finished.status === 'Y';
      finish(outcome.finished, ok ? texts.verified : texts.unavailable, ok ? 'success' : 'error');
      return;
    }
    challenge = outcome.challenge;
    ui.showChallenge(fill(texts.sentTo, { email: challenge.maskedEmail }));
    ui.announce(texts.codeSent, 'info');
    ticker = setInterval(refresh, TICK_MS);
    refresh();
    emit('challenge', challengeDetail(challenge));
  }

  async function submit() {
    if (!canSend()) return;
    const code = normalizeCode(ui.value());
    if (code === undefined) {
      // Not six digits: nothing is sent, so no attempt is spent.
      ui.setInvalid(true);
      ui.announce(texts.invalidCode, 'error');
      return;
    }
    if (expired) {
      ui.announce(texts.expired, 'error');
      return;
    }
    setBusy(true);
    ui.announce(texts.verifying, 'info');
    // Made once: a browser that could not make one (`null`) does not try again. Only one code
    // entry runs at a time (`busy`), so nothing makes a key meanwhile.
    if (fresh === undefined) fresh = (await registration(options.authentication)) ?? null;
    if (destroyed) return;
    let outcome;
    try {
      outcome = await verifier.verify(code, fresh?.wire);
    } catch (failure) {
      // The code stays in the input and submit is enabled again, so the cardholder's own "try
      // again" sends it again. The widget never does that by itself: each submission that
      // reaches the verifier may cost an attempt.
      if (destroyed) return;
      setBusy(false);
      report(failure, false);
      return;
    }
    if (destroyed) return;
    if (outcome.attemptsLeft !== undefined) {
      setBusy(false);
      challenge.attemptsLeft = outcome.attemptsLeft;
      ui.clearInput();
      ui.setInvalid(true);
      ui.announce(fill(texts.wrongCode, { n: outcome.attemptsLeft }), 'error');
      ui.focusInput();
    } else if (outcome.over) {
      setBusy(false);
      const late = outcome.over === 'expired';
      if (late) emit('expired');
      finish(outcome.finished, late ? texts.expired : texts.failed, 'error');
    } else {
      // Token and key are replaced together: the key just registered is the one the new
      // token's device is bound to.
      if (outcome.deviceToken !== undefined) {
        await replaceKey(deviceKey, fresh?.pair);
        storeToken(deviceKey, outcome.deviceToken);
        if (destroyed) return;
      }
      setBusy(false);
      finish(outcome.finished, texts.verified, 'success');
    }
  }

  async function resend() {
    if (!challenge || challenge.resendsLeft === 0 || challenge.resendAvailableAt > now() || !canSend()) return;
    setBusy(true);
    let next;
    try {
      next = await verifier.resend();
    } catch (failure) {
      if (destroyed) return;
      setBusy(false);
      if (failure.retryAfter !== undefined) challenge.resendAvailableAt = now() + failure.retryAfter * 1000;
      else if (failure.code === 'resend_limit') challenge.resendsLeft = 0;
      refresh();
      report(failure, false);
      return;
    }
    if (destroyed) return;
    setBusy(false);
    challenge = next;
    expired = false;
    ui.clearInput();
    ui.setInvalid(false);
    ui.announce(texts.codeResent, 'info');
    refresh();
    ui.focusInput();
    emit('resend', challengeDetail(next));
  }

  async function cancel() {
    if (!canSend()) return;
    setBusy(true);
    let finished;
    try {
      finished = await verifier.cancel();
    } catch (failure) {
      if (destroyed) return;
      setBusy(false);
      report(failure, false);
      return;
    }
    if (destroyed) return;
    setBusy(false);
    emit('cancel', resultDetail(finished));
    finish(finished, texts.cancelled, 'info');
  }

  // Runs `step`; anything it did not expect (a bug, a browser breaking a promise it should keep)
  // ends the flow with an error the page hears, instead of leaving it waiting in silence.
  const guarded = (step) =>
    step().catch(() => {
      if (!destroyed && !over) report(new Failure('bad_response'), true);
    });

  const stopListening = ui.listen((action) => {
    if (action === 'submit') guarded(submit);
    else if (action === 'resend') guarded(resend);
    else guarded(cancel);
  });
  // After the caller returns, so a listener it adds right after `mount` still sees
  // `mamori:ready`.
  queueMicrotask(() => guarded(deviceStep));

  return {
    // Removes every node, listener and timer and abandons requests in flight. Calling it again
    // does nothing.
    destroy() {
      if (destroyed) return;
      destroyed = true;
      verifier.abort();
      stopListening();
      stopTicker();
      ui.remove();
    },
    refresh,
  };
}
