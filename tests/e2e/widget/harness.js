// The widget's test harness, in the test page (see support.mjs): the packaged widget's modules,
// mounted with a scripted transport and a clock each test sets, and small assertions. The real
// `fetch` path is covered by the end-to-end suites against a running verifier, and here only
// where nothing answers it (a closed port). Waits between tries are zero here, so tests of the
// network's failures wait for events, never for the clock; the widget's countdowns read a clock
// each test moves (`advance`), starting at `T0`.

import init from '/pkg/widget/mamori_widget.js';
import * as api from '/pkg/widget/api.js';
import * as device from '/pkg/widget/device.js';
import * as flow from '/pkg/widget/flow.js';
import * as signals from '/pkg/widget/signals.js';
import * as store from '/pkg/widget/store.js';

export { api, device, flow, signals, store };

// Resolves once the WebAssembly is instantiated.
export const ready = init();

// Where every test's clock starts, in milliseconds since the epoch: the challenges the scripts
// answer are timed from it.
export const T0 = 1_800_000_000_000;

// No wait between tries, and a time limit no scripted exchange comes near.
export const PROMPT = { timeoutMs: 10_000, backoffMs: [0, 0, 0] };

export const AUTHENTICATED =
  '{"outcome":"authenticated","status":"Y","result_token":"rt.y","device_token":"dt.new"}';
export const FRICTIONLESS = '{"outcome":"frictionless","status":"Y","result_token":"rt.f"}';

// A challenge answer: the code expires and a resend opens these many seconds after `now`.
export function challengeJson(expiresIn, resendIn, now = T0) {
  const at = now / 1000;
  return JSON.stringify({
    outcome: 'challenge',
    challenge: {
      masked_email: 't***@example.com',
      code_length: 6,
      expires_at: at + expiresIn,
      attempts_left: 5,
      resends_left: 3,
      resend_available_at: at + resendIn,
      locale: 'en',
    },
  });
}

export class AssertionError extends Error {}

// Fails unless `actual` and `expected` are the same JSON value.
export function eq(actual, expected, message = '') {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new AssertionError(`${message ? `${message}: ` : ''}got ${a}, expected ${e}`);
}

export function ok(condition, message = 'assertion failed') {
  if (!condition) throw new AssertionError(message);
}

export const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));
// Lets the flow's promises and the microtasks they queue run.
export const settle = () => sleep(20);

// The page's timers from this call on, for a test that must know that a timer was cleared, or
// what its end starts, without waiting for its time: `setTimeout` and `setInterval` are wrapped
// until `restore()`.
export function watchTimers() {
  const original = {
    setTimeout: window.setTimeout,
    clearTimeout: window.clearTimeout,
    setInterval: window.setInterval,
    clearInterval: window.clearInterval,
  };
  // The timeouts still to run, by id, each with what it runs; and the intervals not cleared.
  const timeouts = new Map();
  const intervals = new Set();
  window.setTimeout = (callback, millis, ...args) => {
    const run = () => {
      timeouts.delete(id);
      callback(...args);
    };
    const id = original.setTimeout.call(window, run, millis);
    timeouts.set(id, run);
    return id;
  };
  window.clearTimeout = (id) => {
    timeouts.delete(id);
    original.clearTimeout.call(window, id);
  };
  window.setInterval = (callback, millis, ...args) => {
    const id = original.setInterval.call(window, callback, millis, ...args);
    intervals.add(id);
    return id;
  };
  window.clearInterval = (id) => {
    intervals.delete(id);
    original.clearInterval.call(window, id);
  };
  return {
    intervals: () => intervals.size,
    timeouts: () => timeouts.size,
    // Runs every pending timeout now, as if its time had come, and resolves in a task queued
    // after them: what they started without waiting for anything else has run by then.
    async runPending() {
      for (const [id, run] of [...timeouts]) {
        original.clearTimeout.call(window, id);
        run();
      }
      await new Promise((resolve) => original.setTimeout.call(window, resolve, 0));
    },
    restore() {
      Object.assign(window, original);
    },
  };
}

// Replies given in order, and every request kept; `hold` keeps replies back until `release`.
export class Script {
  replies = [];
  sent = [];
  hold = false;
  waiting = [];

  reply(status, json) {
    this.replies.push({ status, body: JSON.parse(json) });
  }

  fail() {
    this.replies.push(undefined);
  }

  release() {
    this.hold = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  paths() {
    return this.sent.map(([path]) => path);
  }

  body(index) {
    return JSON.parse(this.sent[index][1]);
  }

  lastField(name) {
    return this.body(this.sent.length - 1)[name];
  }

  // The transport the flow sends through.
  transport() {
    return {
      post: async (path, body) => {
        this.sent.push([path, body]);
        const reply = this.replies.shift();
        if (this.hold) await new Promise((resolve) => this.waiting.push(resolve));
        if (!reply) throw new TypeError('no answer');
        return [reply.status, reply.body];
      },
      abort() {},
    };
  }
}

// The options the tests mount with.
export function options({ lang = 'en', mode = 'inline', verifier = 'https://verifier.test' } = {}) {
  return {
    verifier,
    authentication: 'au_test',
    clientSecret: 'cs_test',
    lang,
    dialog: mode === 'dialog',
    theme: [['--mamori-accent', '#123456']],
  };
}

const EVENTS = ['ready', 'challenge', 'resend', 'result', 'error', 'expired', 'cancel'];

// Mounts with the device step answered by `device` (`[status, json]`) or with `script`'s
// replies, over `transport` if given; waits until the device step is sent (it reads the device
// key from IndexedDB first) unless the transport is a real one, whose requests are not recorded.
export async function mount({ device: answer, script = new Script(), transport, timing = PROMPT, ...rest } = {}) {
  if (answer) script.reply(...answer);
  const host = document.createElement('div');
  document.body.append(host);
  const events = [];
  for (const name of EVENTS) {
    host.addEventListener(`mamori:${name}`, (event) => events.push([`mamori:${name}`, event.detail]));
  }
  let now = T0;
  const widget = flow.start(host, options(rest), {
    transport: transport ?? script.transport(),
    timing,
    now: () => now,
  });
  const find = (name) => {
    const node = host.querySelector('[data-mamori=root]').shadowRoot.querySelector(`[data-mamori=${name}]`);
    ok(node, `no [data-mamori=${name}]`);
    return node;
  };
  const m = {
    host,
    widget,
    script,
    events,
    now: () => now,
    // Moves the widget's clock on by `millis` and redraws, as its next tick would.
    advance(millis) {
      now += millis;
      widget.refresh();
    },
    find,
    input: () => find('code'),
    button: find,
    text: (name) => find(name).textContent,
    eventNames: () => events.map(([name]) => name),
    detail(name, field) {
      const found = events.findLast(([n]) => n === name);
      ok(found, `no ${name} event; got ${JSON.stringify(m.eventNames())}`);
      return found[1][field];
    },
    count: (name) => events.filter(([n]) => n === name).length,
    // Types `code` and submits it, and waits until it is sent (the device key is made first).
    async enter(code) {
      const before = script.sent.length;
      await m.enterUnsent(code);
      await m.sentMoreThan(before);
    },
    // Types `code` and submits it, for an entry the widget must not send.
    async enterUnsent(code) {
      m.input().value = code;
      find('submit').click();
      await settle();
    },
    // Waits until more than `count` requests were sent; the limit is only there to fail
    // instead of hanging.
    async sentMoreThan(count) {
      for (let i = 0; i < 500; i++) {
        if (script.sent.length > count) return settle();
        await sleep(20);
      }
      throw new AssertionError(`no request after the first ${count}: ${JSON.stringify(script.paths())}`);
    },
    // Waits until `name` was raised.
    async until(name) {
      for (let i = 0; i < 500; i++) {
        if (m.count(name) > 0) return;
        await sleep(20);
      }
      throw new AssertionError(`no ${name} event; got ${JSON.stringify(m.eventNames())}`);
    },
  };
  if (!transport) await m.sentMoreThan(0);
  return m;
}
