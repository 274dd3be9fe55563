// The fingerprint's readings that the browser does natively, for `fingerprint.rs` and
// `graphics.rs`: each signal as the canonical string its schema entry in mamori-core documents.
// The WebAssembly keeps what must agree with the verifier byte for byte (the browser family,
// the `user_agent` brand, hashing and the wire form) and the order, deadline and caching of the
// readings; written here, the readings cost a fraction of their size as calls through
// wasm-bindgen. Every reading fails soft: a missing API or a throwing getter leaves that signal
// out.

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

// The Worker's whole script: both graphics readings, posted back as `{canvas, webgl}`. `canvas`
// is the SHA-256 of the pixels in lowercase hex when the two read-backs agree, `'noisy'`
// when they differ (the browser adds noise: the value is left out), undefined where the Worker
// could not read it; hashing the 57,600 bytes here rather than in the page's WebAssembly is most
// of what the Worker saves the main thread. `webgl` as `readWebgl` answers. Anything undefined,
// or everything without `OffscreenCanvas` or `crypto.subtle` in the Worker, the main thread reads
// itself.
async function worker(make, draw, webgl) {
  const answer = {};
  if (typeof OffscreenCanvas === 'function') {
    const readBacks = typeof crypto === 'object' && crypto.subtle ? draw(make) : undefined;
    if (readBacks) {
      const [first, second] = readBacks;
      const same = first.length === second.length && first.every((byte, i) => byte === second[i]);
      answer.canvas = same
        ? await crypto.subtle.digest('SHA-256', first).then(
            (digest) => Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join(''),
            () => undefined,
          )
        : 'noisy';
    }
    answer.webgl = webgl(make);
  }
  postMessage(answer);
}

// The fixed drawing read back twice on the main thread (see `drawAndRead`).
export function canvasReadBacks() {
  return drawAndRead(newCanvas);
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
      const script = `(${worker})(${newCanvas},${drawAndRead},${readWebgl})`;
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
