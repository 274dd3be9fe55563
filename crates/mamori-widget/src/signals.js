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

// The text drawn twice on the canvas, in two fonts: Latin, kana and kanji, punctuation and an
// emoji exercise different font fallbacks and rasterisers.
const TEXT = 'mamori 守り <canvas> 1.0 😃';

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

// Draws the fixed picture on a fresh 240 x 60 canvas of `win`'s document, whose context is kept
// in memory for reading back (`willReadFrequently`); answers that context, or undefined where
// there is no canvas.
export function drawCanvas(win) {
  return safely(() => {
    const canvas = win.document.createElement('canvas');
    canvas.width = 240;
    canvas.height = 60;
    const c = canvas.getContext('2d', { willReadFrequently: true });
    c.textBaseline = 'alphabetic';
    c.fillStyle = '#f60';
    c.fillRect(100, 1, 62, 20);
    c.fillStyle = '#069';
    c.font = "15px 'Arial'";
    c.fillText(TEXT, 2, 15);
    c.fillStyle = 'rgba(102, 204, 0, 0.7)';
    c.font = '18pt serif';
    c.fillText(TEXT, 4, 45);
    c.globalCompositeOperation = 'multiply';
    for (const [x, color] of [[40, '#f2f'], [80, '#2ff'], [60, '#ff2']]) {
      c.fillStyle = color;
      c.beginPath();
      c.arc(x, 30, 25, 0, Math.PI * 2);
      c.closePath();
      c.fill();
    }
    return c;
  });
}

// The drawing's pixels, as `getImageData` reads them back.
export function canvasPixels(context) {
  return safely(() => new Uint8Array(context.getImageData(0, 0, 240, 60).data.buffer));
}

// `[vendor, renderer]` of WebGL: the unmasked strings of `WEBGL_debug_renderer_info`, or the
// plain ones where that extension is gone (recent Chromium reports the unmasked strings there);
// read from a new context of `win`'s document, given back to the browser at once (browsers cap
// live contexts).
export function webgl(win) {
  return safely(() => {
    const gl = win.document.createElement('canvas').getContext('webgl');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const vendor = gl.getParameter(info ? 0x9245 : 0x1f00);
    const renderer = gl.getParameter(info ? 0x9246 : 0x1f01);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof vendor === 'string' && typeof renderer === 'string' ? [vendor, renderer] : undefined;
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
