// The device fingerprint: each signal of `mamori-core`'s fingerprint schema read as the
// canonical string its schema entry documents, then hashed by the WebAssembly with the same
// `mamori_core::fingerprint::hash_component` the verifier uses, so the verifier scores exactly
// what was collected here. The browser family comes from the WebAssembly too (the verifier leaves
// out each family's noisy components by it).
//
// Every reading fails soft: a missing API, a throwing getter or a blocked canvas leaves that
// component absent, which the verifier counts as one mismatch rather than an error. The readings
// are synchronous and cannot be interrupted, so the time bound is a deadline on the main thread's
// time checked between them, with the costly ones (canvas, WebGL) last: on a device slow enough
// to reach it, the rest is left absent and the purchase goes on.
//
// The device step takes its fingerprint from `page()`: collected once per page in the browser's
// idle time, the costly graphics readings in a Worker and on the main thread only where no Worker
// runs, so the page never stalls on it in one long task.

import { browserFamily, fingerprintVersion, hashComponent } from './mamori_widget.js';

// The `Math` functions of the `math` signal and their arguments: results whose last bits differ
// between JavaScript engines and the math libraries under them.
const MATH = [
  ['acos', 0.12312423423423424], ['acosh', 1e308], ['asin', 0.12312423423423424],
  ['asinh', 1], ['atan', 0.5], ['atanh', 0.5], ['cbrt', 100], ['cos', 10.000000000123],
  ['cosh', 1], ['exp', 1], ['expm1', 1], ['log1p', 10], ['sin', -1e300], ['sinh', 1],
  ['tan', -1e300], ['tanh', 1],
];

// `read()`, or undefined when it throws.
const safely = (read) => {
  try {
    return read();
  } catch {
    return undefined;
  }
};

const matches = (query) => safely(() => matchMedia(query).matches) === true;
const pick = (query, yes, no) => (matches(query) ? yes : no);
// A number as JavaScript writes it, e.g. `8`, `1.5`.
const decimal = (value) => (typeof value === 'number' ? String(value) : undefined);
const nonEmpty = (text) => (typeof text === 'string' && text !== '' ? text : undefined);

// Two of `screen`'s dimensions as `larger x smaller`, so rotating the device does not change it.
function size(width, height) {
  const ok = (n) => Number.isInteger(n) && n > 0 && n <= 0xffffffff;
  return ok(width) && ok(height)
    ? `${Math.max(width, height)}x${Math.min(width, height)}`
    : undefined;
}

// The IANA time zone the browser reports, e.g. `Asia/Tokyo`.
export function timeZone() {
  return nonEmpty(safely(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
}

// Every plain signal (all but the graphics and the brand) as `[id, value]`, the value undefined
// where the browser does not offer it.
export function plain() {
  const nav = safely(() => navigator) ?? {};
  const scr = safely(() => screen) ?? {};
  const get = (object, name) => safely(() => object[name]);
  const math = safely(() => MATH.map(([name, argument]) => decimal(Math[name](argument))));
  const dpr = get(globalThis, 'devicePixelRatio');
  return [
    ['avail_screen', size(get(scr, 'availWidth'), get(scr, 'availHeight'))],
    ['screen', size(get(scr, 'width'), get(scr, 'height'))],
    ['color_depth', decimal(get(scr, 'colorDepth'))],
    ['color_gamut', ['rec2020', 'p3', 'srgb'].find((g) => matches(`(color-gamut: ${g})`)) ?? 'none'],
    ['color_scheme', pick('(prefers-color-scheme: dark)', 'dark', 'light')],
    ['device_memory', decimal(get(nav, 'deviceMemory'))],
    // Rounded to hundredths: `1.25`, `1.5`, `2`.
    ['dpr', typeof dpr === 'number' ? String(Math.round(dpr * 100) / 100) : undefined],
    ['dynamic_range', pick('(dynamic-range: high)', 'high', 'standard')],
    ['forced_colors', pick('(forced-colors: active)', 'active', 'none')],
    ['hardware_concurrency', decimal(get(nav, 'hardwareConcurrency'))],
    ['languages', nonEmpty(safely(() => nav.languages.join(',')))],
    ['math', math?.every((r) => r !== undefined) ? math.join(',') : undefined],
    // `navigator.userAgentData.platform` where there is one (Chromium), else `navigator.platform`.
    ['platform', nonEmpty(safely(() => nav.userAgentData.platform)) ?? nonEmpty(get(nav, 'platform'))],
    [
      'pointer',
      (['fine', 'coarse'].find((k) => matches(`(pointer: ${k})`)) ?? 'none') +
        (matches('(hover: hover)') ? ',hover' : ',none'),
    ],
    ['reduced_motion', pick('(prefers-reduced-motion: reduce)', 'reduce', 'no-preference')],
    ['timezone', timeZone()],
    ['touch_points', decimal(get(nav, 'maxTouchPoints'))],
  ];
}

// The graphics readings below run in a dedicated Worker where the browser allows one (`offThread`)
// and on the main thread otherwise, from the same functions on the same kind of canvas, an
// `OffscreenCanvas` wherever one exists, so both paths give the same values. The Worker's script
// is the source text of these functions in a `blob:` URL: a Worker must be same-origin with the
// page, while the widget's files come from the verifier's origin, and the text is already here.
// So they must stay self-contained: no name from this module, only their parameters and the
// browser's globals (the minifier renames module names, not the ones a function declares).

// A fresh 240 x 60 canvas: an `OffscreenCanvas` wherever there is one (also in a Worker), else
// an element of the page's document.
function newCanvas() {
  return typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(240, 60)
    : document.createElement('canvas');
}

// Draws the fixed picture on a canvas from `make`, its context kept in memory for reading back
// (`willReadFrequently`), and reads it back twice: `[pixels, pixels]` as two `Uint8Array`s,
// which differ where the browser adds noise to read-backs; undefined where there is no canvas.
function drawAndRead(make) {
  try {
    const canvas = make();
    canvas.width = 240;
    canvas.height = 60;
    const c = canvas.getContext('2d', { willReadFrequently: true });
    // Latin, kana and kanji, punctuation and an emoji, in two fonts, exercise different font
    // fallbacks and rasterisers.
    const text = 'mamori 守り <canvas> 1.0 😃';
    c.textBaseline = 'alphabetic';
    c.fillStyle = '#f60';
    c.fillRect(100, 1, 62, 20);
    c.fillStyle = '#069';
    c.font = "15px 'Arial'";
    c.fillText(text, 2, 15);
    c.fillStyle = 'rgba(102, 204, 0, 0.7)';
    c.font = '18pt serif';
    c.fillText(text, 4, 45);
    c.globalCompositeOperation = 'multiply';
    for (const [x, color] of [[40, '#f2f'], [80, '#2ff'], [60, '#ff2']]) {
      c.fillStyle = color;
      c.beginPath();
      c.arc(x, 30, 25, 0, Math.PI * 2);
      c.closePath();
      c.fill();
    }
    const read = () => new Uint8Array(c.getImageData(0, 0, 240, 60).data.buffer);
    return [read(), read()];
  } catch {
    return undefined;
  }
}

// `[vendor, renderer]` of WebGL from a new context on a canvas from `make`: the unmasked strings
// of `WEBGL_debug_renderer_info`, or the plain ones where that extension is gone (recent
// Chromium reports the unmasked strings there); the context is given back to the browser at
// once (browsers cap live contexts).
function readWebgl(make) {
  try {
    const gl = make().getContext('webgl');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const vendor = gl.getParameter(info ? 0x9245 : 0x1f00);
    const renderer = gl.getParameter(info ? 0x9246 : 0x1f01);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof vendor === 'string' && typeof renderer === 'string' ? [vendor, renderer] : undefined;
  } catch {
    return undefined;
  }
}

// The canvas signal's value from two read-backs `[first, second]` of one drawing: the SHA-256 of
// the pixels in lowercase hex when they agree, `'noisy'` when they differ (the browser adds noise
// to read-backs: the value is left out, since one component missing costs the device less trust
// than a value that changes every time), undefined where there are none or `crypto.subtle` is
// missing (an insecure context) or fails. Compared before hashing, so one digest of the 57,600
// bytes instead of two; `crypto.subtle` hashes them off the page's main thread.
async function canvasValue(readBacks) {
  if (!readBacks) return undefined;
  const [first, second] = readBacks;
  if (!(first.length === second.length && first.every((byte, i) => byte === second[i]))) return 'noisy';
  try {
    const digest = await crypto.subtle.digest('SHA-256', first);
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
  } catch {
    return undefined;
  }
}

// The Worker's whole script: both graphics readings, posted back as `{canvas, webgl}`, `canvas`
// as `canvasValue` answers and `webgl` as `readWebgl` does; anything undefined, or everything
// without `OffscreenCanvas` in the Worker, the main thread reads itself. Hashing the pixels here
// is most of what the Worker saves the main thread after drawing.
async function worker(make, draw, webgl, value) {
  const answer = {};
  if (typeof OffscreenCanvas === 'function') {
    answer.canvas = await value(draw(make));
    answer.webgl = webgl(make);
  }
  postMessage(answer);
}

// The WebGL strings read on the main thread (see `readWebgl`).
export function webgl() {
  return readWebgl(newCanvas);
}

// Starts both graphics readings in a dedicated Worker: a promise of its answer `{canvas, webgl}`,
// or of undefined where no Worker runs (no `Worker`, a Content Security Policy without
// `worker-src blob:`, a script error) or none answers within `timeout` milliseconds. The Worker
// ends once it has answered.
export function offThread(timeout) {
  return new Promise((resolve) => {
    let url;
    let thread;
    const done = (answer) => {
      clearTimeout(timer);
      thread?.terminate();
      if (url) URL.revokeObjectURL(url);
      resolve(answer);
    };
    const timer = setTimeout(done, timeout);
    try {
      const script = `(${worker})(${newCanvas},${drawAndRead},${readWebgl},${canvasValue})`;
      url = URL.createObjectURL(new Blob([script], { type: 'text/javascript' }));
      thread = new Worker(url);
      thread.onmessage = (event) => done(event.data);
      // A refused or failing script (Chromium reports a CSP refusal here or by throwing).
      thread.onerror = () => done();
    } catch {
      done();
    }
  });
}

// Resolves to the `IdleDeadline` of the browser's next idle period (`requestIdleCallback`,
// waiting at most `timeout` milliseconds), or to undefined in the next task where there is no
// such call (Safari).
export function idle(timeout) {
  return new Promise((resolve) => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(resolve, { timeout });
    else setTimeout(resolve, 0);
  });
}

// Collection starts no further reading once it has spent this many milliseconds.
const DEADLINE_MS = 150;

// How long the Worker may take to answer, in milliseconds, before the main thread reads the
// graphics itself: ample for starting a thread and a software WebGL context on a slow device,
// short enough that a Worker that never answers delays the device step only this much.
const WORKER_TIMEOUT_MS = 1000;

// The longest wait for an idle moment, in milliseconds: a page that is never idle still gets its
// fingerprint, one step per task, this much later.
const IDLE_TIMEOUT_MS = 100;

// The idle time a further step needs, in milliseconds: more than the costliest step (a WebGL
// context or the canvas drawing) takes in headless Chromium without a GPU.
const IDLE_LEFT_MS = 20;

// `Family/major`, e.g. `Chromium/156`, from the `User-Agent` string and its browser family.
export function brand(userAgent, family) {
  const [name, marker] =
    { chromium: ['Chromium/', 'Chrome/'], firefox: ['Firefox/', 'Firefox/'], safari: ['Safari/', 'Version/'] }[
      family
    ] ?? [];
  const major = marker && userAgent.split(marker)[1]?.match(/^[0-9]+/)?.[0];
  return major ? name + major : undefined;
}

// The canvas signal read on the main thread: a promise of its hex digest, or of undefined where
// the read-backs are noisy or cannot be read or hashed (see `canvasValue`).
export async function canvasHash() {
  const value = await canvasValue(drawAndRead(newCanvas));
  return value === 'noisy' ? undefined : value;
}

// The Worker's answer as `{canvas, webgl}`: `canvas` the hex digest, `null` where the Worker
// found its read-backs noisy (which the main thread's would be too: left out), undefined where it
// did not read it (then the main thread does); `webgl` `[vendor, renderer]`, undefined where not
// read. The digest goes into the fingerprint as it is, so its form is checked.
export function fromWorker(answer) {
  const canvas = answer?.canvas;
  const webgl = answer?.webgl;
  return {
    canvas: canvas === 'noisy' ? null : typeof canvas === 'string' && /^[0-9a-f]{64}$/.test(canvas) ? canvas : undefined,
    webgl: strings(webgl),
  };
}

// `[vendor, renderer]` if both are strings.
const strings = (pair) =>
  Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string' ? [pair[0], pair[1]] : undefined;

// The WebGL strings read on the main thread, once per page: creating a context is the costliest
// reading of all, and cannot change its answer while the page lives.
let mainWebgl;
export function webglOnce() {
  mainWebgl ??= [strings(webgl())];
  return mainWebgl[0];
}

// A collection: `browser` (the family) and `values`, `[id, canonical value]` for each signal
// read, in reading order. `timed` collections stop at the deadline and mark each step as a
// `mamori:fingerprint` user-timing measure, where a page or a benchmark can see what the
// fingerprint cost its main thread.
function reading(timed) {
  let userAgent = '';
  try {
    userAgent = String(navigator.userAgent);
  } catch {}
  const browser = browserFamily(userAgent);
  const values = [];
  const put = (id, value) => {
    if (typeof value === 'string') values.push([id, value]);
  };
  const putWebgl = (pair) => {
    put('webgl_vendor', pair?.[0]);
    put('webgl_renderer', pair?.[1]);
  };
  let spent = 0;
  const r = {
    browser,
    values,
    // Whether the Worker read the canvas (a noisy one included) and WebGL.
    offThread: [false, false],
    // Runs `read` unless the time spent has reached the deadline, counts its time and answers
    // what it answered.
    step(read) {
      if (timed && spent >= DEADLINE_MS) return undefined;
      const start = performance.now();
      const result = read();
      const end = performance.now();
      if (timed) {
        spent += end - start;
        try {
          performance.measure('mamori:fingerprint', { start, end });
        } catch {}
      }
      return result;
    },
    plain() {
      for (const [id, value] of plain()) put(id, value);
      put('user_agent', brand(userAgent, browser));
    },
    answer(answer) {
      const { canvas, webgl: pair } = fromWorker(answer);
      r.offThread = [canvas !== undefined, pair !== undefined];
      put('canvas', canvas);
      putWebgl(pair);
    },
    // The canvas drawn and read on the main thread in a step of its own; its digest, computed
    // by `crypto.subtle` after the step, is put in before any later reading.
    async canvas() {
      put('canvas', await r.step(canvasHash));
    },
    webgl: () => r.step(() => putWebgl(webglOnce())),
  };
  return r;
}

// Every signal on the main thread, without the deadline: a promise of `{browser, values}`.
export async function collect() {
  const r = reading(false);
  r.step(r.plain);
  await r.canvas();
  r.webgl();
  return { browser: r.browser, values: r.values };
}

// Every signal as `page()` reads them, the graphics in a Worker, without the deadline and without
// waiting for idle time: `{browser, values, offThread}`, `offThread` saying whether the Worker
// read the canvas and WebGL (neither where it could not run).
export async function collectOffThread() {
  const r = reading(false);
  r.step(r.plain);
  const answer = await offThread(WORKER_TIMEOUT_MS);
  r.step(() => r.answer(answer));
  if (!r.offThread[0]) await r.canvas();
  if (!r.offThread[1]) r.webgl();
  return { browser: r.browser, values: r.values, offThread: r.offThread };
}

// `{v, browser, components}`, each value hashed, as the device step sends it.
export function wire({ browser, values }) {
  const components = {};
  for (const [id, value] of values) components[id] = hashComponent(id, value);
  return { v: fingerprintVersion(), browser, components };
}

// The collection in idle time, hashed into the wire form: the Worker started and the plain
// signals read in one idle period; once the Worker has answered, its answer taken, and whatever
// it did not read (everything where no Worker runs) read on the main thread, the costly readings
// last and each in its own step. A step runs in the idle period the previous one ran in while at
// least `IDLE_LEFT_MS` of it remain, and otherwise waits for the next one: a quiet page is
// fingerprinted in one idle period, a busy one or a browser without idle callbacks one step per
// task.
async function collectWhenIdle() {
  const r = reading(true);
  // The `IdleDeadline` of the period the last step ran in (undefined after a plain task).
  let period = await idle(IDLE_TIMEOUT_MS);
  let worker;
  r.step(() => {
    worker = offThread(WORKER_TIMEOUT_MS);
  });
  r.step(r.plain);
  if (worker) {
    const answer = await worker;
    period = undefined;
    r.step(() => r.answer(answer));
  }
  for (const [done, read] of [
    [r.offThread[0], r.canvas],
    [r.offThread[1], r.webgl],
  ]) {
    if (done) continue;
    if (!(period?.timeRemaining() >= IDLE_LEFT_MS)) period = await idle(IDLE_TIMEOUT_MS);
    await read();
  }
  return wire(r);
}

// The fingerprint of this page in its wire form: a promise of it, the same one for every device
// step in the page. The first call starts the collection, while the device step waits for
// IndexedDB; later calls (a second `mount`) answer the promise of the first. The signals cannot
// change meanwhile in a way worth a second collection. It never rejects: a collection that
// fails (a trap in the WebAssembly, a browser API that throws) leaves the fingerprint out, and
// the device step goes on without it.
let pagePromise;
export function page() {
  pagePromise ??= collectWhenIdle().catch(() => undefined);
  return pagePromise;
}
