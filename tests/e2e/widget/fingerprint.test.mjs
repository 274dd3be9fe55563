// The fingerprint in headless Chromium: every signal of mamori-core's schema, the same on the
// main thread and in the Worker, noisy canvases left out, one WebGL context and one collection
// per page, each idle step measured.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { root } from '../support/env.mjs';
import { inPage } from './support.mjs';

// The component ids of `mamori_core::fingerprint::SCHEMA`, read from its source: the one
// definition the verifier scores with.
const source = readFileSync(join(root, 'crates/mamori-core/src/fingerprint.rs'), 'utf8');
const schema = source.slice(source.indexOf('pub const SCHEMA'));
const SCHEMA_IDS = [...schema.slice(0, schema.indexOf('];')).matchAll(/id: "([a-z_]+)"/g)].map((m) => m[1]);

test('the schema ids are read', () => {
  if (SCHEMA_IDS.length < 20 || !SCHEMA_IDS.includes('canvas')) {
    throw new Error(`unexpected schema ids: ${SCHEMA_IDS}`);
  }
});

test('the fingerprint has the schema components and is stable', () =>
  inPage(async (ids) => {
    const { h } = window;
    const first = await h.signals.collect();
    const second = await h.signals.collect();
    const collected = first.values.map(([id]) => id);
    for (const id of collected) h.ok(ids.includes(id), `${id} is not in the schema`);
    h.eq(new Set(collected).size, collected.length, 'an id was collected twice');
    // Headless Chromium offers every signal but, without a GPU, possibly WebGL.
    for (const id of ids) {
      h.ok(collected.includes(id) || id.startsWith('webgl_'), `${id} missing`);
    }
    h.eq(first.browser, 'chromium');
    h.eq(first.values, second.values, 'two runs differ');
    h.ok(/^Chromium\/[0-9]+$/.test(Object.fromEntries(first.values).user_agent), 'the brand');
  }, SCHEMA_IDS));

// What a browser resisting fingerprinting does to read-backs: `getImageData` answers every call
// with one pixel changed differently (on the `OffscreenCanvas` the main thread draws on, as the
// Worker does); answers the function that restores it.
function noisyCanvas() {
  const p = OffscreenCanvasRenderingContext2D.prototype;
  const read = p.getImageData;
  let n = 0;
  p.getImageData = function (...args) {
    const image = read.apply(this, args);
    image.data[0] ^= ++n;
    return image;
  };
  return () => {
    p.getImageData = read;
  };
}

test('a canvas read-back with noise is left out', () =>
  inPage(async (install) => {
    const { h } = window;
    const { canvasHash } = h.signals;
    const steady = await canvasHash();
    h.ok(/^[0-9a-f]{64}$/.test(steady), 'two read-backs of one drawing differ');
    const restore = new Function(`return (${install})()`)();
    const noisy = await canvasHash();
    restore();
    h.eq(noisy, undefined, 'a noisy canvas gave a value');
    h.eq(await canvasHash(), steady);
  }, noisyCanvas.toString()));

test("a Worker's noisy canvas is left out and not read again; malformed answers are not taken", () =>
  inPage(async () => {
    const { h } = window;
    const { fromWorker } = h.signals;
    const noisy = fromWorker({ canvas: 'noisy', webgl: ['Vendor', 'Renderer'] });
    h.ok(noisy.canvas === null, 'a noisy canvas gave a value, or is read again');
    h.eq(noisy.webgl, ['Vendor', 'Renderer']);
    const none = fromWorker(undefined);
    h.ok(none.canvas === undefined && none.webgl === undefined, 'no answer gave values');
    for (const canvas of ['0f', '0F'.repeat(32), `${'0f'.repeat(31)}zz`, [1, 2]]) {
      h.ok(fromWorker({ canvas }).canvas === undefined, `${JSON.stringify(canvas)} was taken`);
    }
    h.eq(fromWorker({ webgl: ['Vendor', 7] }).webgl, undefined);
  }));

test('the Worker and the main thread read the same values', () =>
  inPage(async () => {
    const { h } = window;
    const onMainThread = await h.signals.collect();
    const offThread = await h.signals.collectOffThread();
    h.ok(offThread.offThread[0], 'the Worker did not read the canvas');
    // Headless Chromium without a GPU may have no WebGL; where the main thread has it, so must
    // the Worker.
    if (onMainThread.values.some(([id]) => id === 'webgl_vendor')) {
      h.ok(offThread.offThread[1], 'the Worker did not read WebGL');
    }
    const sorted = (values) => [...values].sort(([a], [b]) => (a < b ? -1 : 1));
    h.eq(sorted(offThread.values), sorted(onMainThread.values), 'the two paths read different values');
  }));

test('without a Worker the main thread reads the graphics', () =>
  inPage(async () => {
    const { h } = window;
    const onMainThread = await h.signals.collect();
    // A page whose Content Security Policy refuses `blob:` Workers, as Chromium tells it: the
    // constructor throws.
    const worker = window.Worker;
    window.Worker = function () {
      throw new DOMException('refused', 'SecurityError');
    };
    const fallenBack = await h.signals.collectOffThread();
    window.Worker = worker;
    h.eq(fallenBack.offThread, [false, false], 'a refused Worker answered');
    h.eq(fallenBack.values, onMainThread.values);
  }));

test('without crypto.subtle the canvas is left out on either path, and nothing else', () =>
  inPage(async () => {
    const { h } = window;
    const steady = await h.signals.collect();
    // As in an insecure context, where `crypto.subtle` is undefined, in the page and in the
    // Worker (a Worker of a page inherits its context).
    Object.defineProperty(crypto, 'subtle', { value: undefined, configurable: true });
    const mainThread = await h.signals.collect();
    const worker = window.Worker;
    window.Worker = function () {
      throw new DOMException('refused', 'SecurityError');
    };
    const fallenBack = await h.signals.collectOffThread();
    window.Worker = worker;
    delete crypto.subtle;
    const withoutCanvas = steady.values.filter(([id]) => id !== 'canvas');
    h.eq(mainThread.values, withoutCanvas);
    h.eq(fallenBack.values, withoutCanvas);
  }));

test('WebGL is read from one context per page', () =>
  inPage(async () => {
    const { h } = window;
    const first = h.signals.webglOnce();
    const p = OffscreenCanvas.prototype;
    const get = p.getContext;
    let contexts = 0;
    p.getContext = function (kind, ...args) {
      if (kind === 'webgl') contexts++;
      return get.call(this, kind, ...args);
    };
    const second = h.signals.webglOnce();
    p.getContext = get;
    h.eq(contexts, 0, 'a second WebGL context was made');
    h.eq(first, second);
  }));

test("the page's fingerprint is collected once, shared, and measured", () =>
  inPage(async () => {
    const { h } = window;
    const measures = () => performance.getEntriesByName('mamori:fingerprint', 'measure').length;
    const first = await h.signals.page();
    const measured = measures();
    h.ok(measured >= 3, 'each idle step is measured');
    const second = await h.signals.page();
    h.ok(first === second, 'a second collection');
    h.eq(measures(), measured, 'a second reading');
    h.eq(first, h.signals.wire(await h.signals.collect()), 'the idle collection and a direct one differ');
    h.eq(first.v, 1);
    h.ok(Object.values(first.components).every((hash) => /^[0-9a-f]{32}$/.test(hash)), 'hashed');
  }));

test("each component is hashed as mamori-core's golden vectors say", () =>
  inPage(
    async (cases) => {
      const { h } = window;
      for (const c of cases) h.eq(h.signals.wire({ browser: 'x', values: [[c.component, c.value]] }).components, { [c.component]: c.expect.ok }, c.id);
    },
    JSON.parse(readFileSync(join(root, 'crates/mamori-core/tests/vectors/fingerprint.json'), 'utf8')).cases.filter(
      (c) => c.op === 'hash',
    ),
  ));

test('brands are family and major version', () =>
  inPage(async () => {
    const { h } = window;
    const cases = [
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36', 'chromium', 'Chromium/156'],
      ['Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0', 'firefox', 'Firefox/140'],
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1', 'safari', 'Safari/18'],
    ];
    for (const [userAgent, family, brand] of cases) {
      const { browserFamily } = await import('/pkg/widget/mamori_widget.js');
      h.eq(browserFamily(userAgent), family, userAgent);
      h.eq(h.signals.brand(userAgent, family), brand, userAgent);
    }
    h.eq(h.signals.brand('curl/8', 'other'), undefined);
    h.eq(h.signals.brand('Firefox/', 'firefox'), undefined, 'no version');
  }));
