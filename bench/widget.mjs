// The widget in headless Chromium, with FingerprintJS and ThumbmarkJS (both open source)
// measured in the same page loads, and the transfer sizes of all three.
//
// Set-up, as a merchant and an issuer would do it: a static server on 127.0.0.1 plays the
// merchant's checkout origin and serves the script-tag build (target/www: mamori.js and the
// .wasm its manifest.json names) and the browser bundles of FingerprintJS and ThumbmarkJS; the
// verifier is the `mamori` release binary, its merchant registered for that origin and a card
// enrolled with the `mamori` CLI. Each run is a fresh page: the merchant's backend (this
// script) creates an authentication, the page mounts the widget and, in the same page, runs
// FingerprintJS and ThumbmarkJS; which of the three goes first rotates between runs.
//
// Measured in the page with `performance.now()`:
// - fingerprint collection: from the widget's `mamori:ready` event, emitted as the device
//   step begins, to the moment it calls `fetch` for the device step (the resource timing
//   entry's start), which is reading every signal in idle time, hashing them and reading the
//   device token and key;
// - the fingerprint's main-thread time: the sum of the widget's `mamori:fingerprint` user-timing
//   measures (one per step of the collection), and the long tasks (>= 50 ms, by the page's
//   `longtask` observer) that overlap one of them;
// - a second device step in the same page: the widget mounted again (same authentication; the
//   verifier answers with the challenge already running), `mamori:ready` to its `fetch`;
// - mount to interactive: from `mamori.mount()` (which loads and instantiates the wasm) to the
//   `mamori:challenge` event, when the code input is shown; this includes the device step's
//   round trip to the verifier on loopback;
// - FingerprintJS: `FingerprintJS.load()` and `agent.get()`;
// - ThumbmarkJS: `new Thumbmark().get()` (its own API and logging off: it only computes).
//
// Usage: node widget.mjs <out.json>   (MAMORI_BIN: the `mamori` binary; MAMORI_WWW: the
// script-tag build, default target/www; CHROMIUM: default /usr/bin/chromium; BENCH_RUNS)

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const out = process.argv[2] ?? join(root, 'target/bench/widget.json');
const www = process.env.MAMORI_WWW ?? join(root, 'target/www');
const mamori = process.env.MAMORI_BIN ?? join(root, 'target/release/mamori');
const runs = Number(process.env.BENCH_RUNS ?? 60);
const fpjsDir = join(here, 'node_modules/@fingerprintjs/fingerprintjs');
const thumbmarkDir = join(here, 'node_modules/@thumbmarkjs/thumbmarkjs');
const CARD = '378282246310005';

// The loader fetches the wasm by its content-addressed name, next to itself.
const wasmName = JSON.parse(readFileSync(join(www, 'manifest.json'), 'utf8')).wasm;
const files = {
  '/mamori.js': { path: join(www, 'mamori.js'), type: 'text/javascript' },
  [`/${wasmName}`]: { path: join(www, wasmName), type: 'application/wasm' },
  '/fp.min.js': { path: join(fpjsDir, 'dist/fp.min.js'), type: 'text/javascript' },
  '/thumbmark.umd.js': { path: join(thumbmarkDir, 'dist/thumbmark.umd.js'), type: 'text/javascript' },
};

function sizes(path) {
  const bytes = readFileSync(path);
  return { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

// The merchant's checkout origin.
async function startShop(verifier) {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>checkout</title>
<script>window.longTasks = []; new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push({ start: e.startTime, end: e.startTime + e.duration });
}).observe({ type: 'longtask' });</script>
<script src="/mamori.js" data-verifier="${verifier}"></script>
<script src="/fp.min.js"></script><script src="/thumbmark.umd.js"></script></head><body><main id="checkout"></main></body></html>`;
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (path === '/checkout') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page);
      return;
    }
    const file = files[path];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    // Cacheable, as a CDN would serve them: later page loads take them from the HTTP cache.
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'max-age=3600' });
    response.end(readFileSync(file.path));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

function freePort() {
  return new Promise((ok) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

// A mail server that accepts every message and keeps none: a verifier delivers its codes over
// SMTP, and nobody reads them here. Just enough of RFC 5321 for one client: a reply per
// command, and the message body skipped up to its lone dot.
async function startMailSink() {
  const server = createTcpServer((socket) => {
    let inData = false;
    let pending = '';
    socket.write('220 bench ready\r\n');
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = pending.indexOf('\r\n.\r\n');
          if (end < 0) return;
          pending = pending.slice(end + 5);
          inData = false;
          socket.write('250 ok\r\n');
          continue;
        }
        const end = pending.indexOf('\r\n');
        if (end < 0) return;
        const command = pending.slice(0, end).toUpperCase();
        pending = pending.slice(end + 2);
        if (command.startsWith('DATA')) {
          inData = true;
          // A body that starts at once is a dot-terminated block like any other.
          pending = `\r\n${pending}`;
          socket.write('354 go on\r\n');
        } else if (command.startsWith('QUIT')) {
          socket.end('221 bye\r\n');
          return;
        } else {
          socket.write('250 ok\r\n');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

// The verifier, set up with its own CLI.
async function startVerifier(dir, port, shopOrigin, smtpPort) {
  const config = join(dir, 'mamori.toml');
  const unlimited = 1000000000;
  writeFileSync(config, [
    `listen = "127.0.0.1:${port}"`,
    `database_url = "sqlite://${join(dir, 'mamori.db')}"`,
    `public_url = "http://127.0.0.1:${port}"`,
    `secrets_file = "${join(dir, 'secrets.key')}"`,
    '',
    // Every run is a purchase on the same card within minutes, which the default velocity
    // limits would (rightly) refuse; the history is still counted on each device step.
    '[risk]',
    `velocity_card_hard = ${unlimited}`,
    `velocity_card = ${unlimited}`,
    `velocity_device = ${unlimited}`,
    `velocity_ip = ${unlimited}`,
    '',
    // Codes go over SMTP to the sink, as a verifier delivers them.
    '[mail]',
    'delivery = "smtp"',
    'from = "mamori <no-reply@bench.example>"',
    '',
    '[mail.smtp]',
    'host = "127.0.0.1"',
    `port = ${smtpPort}`,
    'tls = "none"',
    '',
  ].join('\n'));
  const cli = (...args) => execFileSync(mamori, ['--config', config, ...args], { encoding: 'utf8' });
  // The secrets file: `serve` and the administration commands never create one.
  cli('init');
  const added = cli('merchant', 'add', '--name', 'Bench Shop', '--origin', shopOrigin);
  const key = added.match(/mamori_sk\.\S+/)?.[0];
  if (!key) throw new Error(`no secret key in: ${added}`);
  cli('cardholder', 'enroll', '--card', CARD, '--email', 'shopper@bench.example', '--locale', 'en',
    '--ceiling', 'JPY:1000000');
  const child = spawn(mamori, ['--config', config, 'serve'], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, key, base };
    } catch {
      // Not listening yet.
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  child.kill();
  throw new Error('the verifier did not start');
}

async function createAuthentication(verifier, n) {
  const response = await fetch(`${verifier.base}/v1/authentications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${verifier.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ card_number: CARD, amount: 4200, currency: 'JPY', order_ref: `w-${n}` }),
  });
  if (response.status !== 201) throw new Error(`create answered ${response.status}`);
  return response.json();
}

// Runs in the page: mounts the widget until its challenge shows, then once more in the same
// page (same authentication), as a page that mounts a second widget would.
async function widgetRun({ authentication, clientSecret }) {
  async function once() {
    const element = document.createElement('div');
    document.querySelector('#checkout').append(element);
    const times = {};
    const shown = new Promise((ok, fail) => {
      element.addEventListener('mamori:ready', () => { times.ready = performance.now(); });
      element.addEventListener('mamori:challenge', () => { times.interactive = performance.now(); ok(); });
      element.addEventListener('mamori:error', (e) => fail(new Error(JSON.stringify(e.detail))));
      element.addEventListener('mamori:result', (e) => fail(new Error(`no challenge: ${e.detail.status}`)));
    });
    times.mount = performance.now();
    const handle = await window.mamori.mount(element, { authentication, clientSecret });
    await shown;
    const device = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/device')).pop();
    handle.destroy();
    return { fingerprint_ms: device.startTime - times.ready, mount_to_interactive_ms: times.interactive - times.mount };
  }
  const first = await once();
  const steps = performance.getEntriesByName('mamori:fingerprint', 'measure');
  const second = await once();
  const long = window.longTasks.filter((t) => steps.some((s) => t.start < s.startTime + s.duration && s.startTime < t.end));
  return {
    ...first,
    fingerprint_main_thread_ms: steps.reduce((sum, s) => sum + s.duration, 0),
    fingerprint_longest_step_ms: Math.max(...steps.map((s) => s.duration)),
    fingerprint_steps_ms: steps.map((s) => s.duration),
    fingerprint_long_tasks: long.length,
    second_fingerprint_ms: second.fingerprint_ms,
    second_fingerprint_steps: performance.getEntriesByName('mamori:fingerprint', 'measure').length - steps.length,
  };
}

async function fingerprintjsRun() {
  const start = performance.now();
  // `monitoring: false`: no usage report to FingerprintJS's servers (this machine has no
  // network but loopback, and a benchmark has no business phoning home).
  const agent = await window.FingerprintJS.load({ monitoring: false });
  const loaded = performance.now();
  const result = await agent.get();
  const done = performance.now();
  if (!result.visitorId) throw new Error('FingerprintJS returned no visitorId');
  return { fpjs_load_ms: loaded - start, fpjs_get_ms: done - loaded };
}

async function thumbmarkRun() {
  const start = performance.now();
  const result = await new window.ThumbmarkJS.Thumbmark({ logging: false }).get();
  const done = performance.now();
  if (!result.thumbmark) throw new Error('ThumbmarkJS returned no thumbmark');
  return { thumbmark_get_ms: done - start };
}

// Runs in a page of its own: what two of the costliest signals cost in this browser by
// themselves, as a reference for the fingerprint's time (headless Chromium without a GPU
// renders WebGL in software).
async function referenceRun() {
  const start = performance.now();
  const gl = document.createElement('canvas').getContext('webgl');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl ? gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : 'none';
  const webgl = performance.now();
  const canvas = document.createElement('canvas');
  canvas.width = 240;
  canvas.height = 60;
  const context = canvas.getContext('2d');
  context.font = '16px serif';
  context.fillText('mamori 守り \u{1F600}', 2, 20);
  canvas.toDataURL();
  const done = performance.now();
  return { webgl_ms: webgl - start, canvas_ms: done - webgl, renderer: String(renderer) };
}

const REFERENCE_RUNS = 20;

const dir = mkdtempSync(join(tmpdir(), 'mamori-widget-bench-'));
let verifier;
let shop;
let mail;
let browser;
try {
  const verifierPort = await freePort();
  shop = await startShop(`http://127.0.0.1:${verifierPort}`);
  const shopOrigin = `http://127.0.0.1:${shop.address().port}`;
  mail = await startMailSink();
  verifier = await startVerifier(dir, verifierPort, shopOrigin, mail.address().port);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run'],
  });
  const context = await browser.newContext();
  // Loopback only: anything else a script tries is refused, and counted.
  let blocked = 0;
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => {
    blocked += 1;
    return route.abort();
  });
  const samples = [];
  for (let n = 0; n < runs; n++) {
    const created = await createAuthentication(verifier, n);
    const page = await context.newPage();
    await page.goto(`${shopOrigin}/checkout`);
    const input = { authentication: created.id, clientSecret: created.client_secret };
    // The three in turn, each one first in a third of the runs.
    const order = [
      ['widget', () => page.evaluate(widgetRun, input)],
      ['fingerprintjs', () => page.evaluate(fingerprintjsRun)],
      ['thumbmarkjs', () => page.evaluate(thumbmarkRun)],
    ];
    const rotated = [...order.slice(n % 3), ...order.slice(0, n % 3)];
    const sample = { first: rotated[0][0], widget_first: rotated[0][0] === 'widget' };
    for (const [, run] of rotated) Object.assign(sample, await run());
    samples.push(sample);
    await page.close();
  }
  const references = [];
  for (let n = 0; n < REFERENCE_RUNS; n++) {
    const page = await context.newPage();
    await page.goto(`${shopOrigin}/checkout`);
    references.push(await page.evaluate(referenceRun));
    await page.close();
  }
  const result = {
    chromium: browser.version(),
    renderer: references[0]?.renderer,
    references: references.map(({ webgl_ms, canvas_ms }) => ({ webgl_ms, canvas_ms })),
    fingerprintjs: JSON.parse(readFileSync(join(fpjsDir, 'package.json'), 'utf8')).version,
    thumbmarkjs: JSON.parse(readFileSync(join(thumbmarkDir, 'package.json'), 'utf8')).version,
    runs,
    blocked_requests: blocked,
    sizes: {
      'mamori.js': sizes(files['/mamori.js'].path),
      'mamori.wasm': sizes(files[`/${wasmName}`].path),
      'fp.min.js': sizes(files['/fp.min.js'].path),
      'thumbmark.umd.js': sizes(files['/thumbmark.umd.js'].path),
    },
    samples,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const median = (key) => samples.map((s) => s[key]).sort((a, b) => a - b)[samples.length >> 1];
  const keys = ['fingerprint_ms', 'fingerprint_main_thread_ms', 'fingerprint_longest_step_ms',
    'second_fingerprint_ms', 'mount_to_interactive_ms', 'fpjs_load_ms', 'fpjs_get_ms', 'thumbmark_get_ms'];
  for (const key of keys) {
    console.log(`${key.padEnd(28)} median ${median(key).toFixed(1)} ms`);
  }
  const longTasks = samples.reduce((sum, s) => sum + s.fingerprint_long_tasks, 0);
  console.log(`long tasks during the fingerprint: ${longTasks} in ${runs} page loads`);
  const mainThread = median('fingerprint_main_thread_ms');
  console.log(`FingerprintJS get / widget main thread: ${(median('fpjs_get_ms') / mainThread).toFixed(2)}x; `
    + `ThumbmarkJS get / widget main thread: ${(median('thumbmark_get_ms') / mainThread).toFixed(2)}x`);
  const gzip = (name) => result.sizes[name].gzip;
  console.log(`gzipped: widget ${gzip('mamori.js') + gzip('mamori.wasm')} B (JS ${gzip('mamori.js')} + wasm ${gzip('mamori.wasm')}), `
    + `FingerprintJS ${gzip('fp.min.js')} B, ThumbmarkJS ${gzip('thumbmark.umd.js')} B`);
} finally {
  await browser?.close();
  verifier?.child.kill();
  shop?.close();
  mail?.close();
  rmSync(dir, { recursive: true, force: true });
}
