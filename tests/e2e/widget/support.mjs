// The widget's suite in headless Chromium: a loopback server for the packaged widget
// (`cargo xtask package`'s npm package, whose `widget/` holds the WebAssembly, its bindings and
// the widget's JavaScript modules, and its script-tag build) and the harness, and a fresh page
// per test.
//
// Each test's body runs in the page, where `window.h` is the harness (harness.js); a thrown
// error, an assertion of the harness's included, fails the test, and so does an uncaught error
// or unhandled rejection in the page. Each test gets its own browser context, so no storage
// (localStorage, IndexedDB) is shared between tests.

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join, normalize, sep } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launch } from '../support/browser.mjs';
import { npmPackage, widgetAssets } from '../support/env.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>mamori widget tests</title>
<body><script type="module">import * as h from '/harness.js'; window.h = h; await h.ready; window.ready = true;</script>`;

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm' };

// `/` (the page), `/harness.js`, `/pkg/…` (the npm package) and `/www/…` (the script-tag
// build); nothing outside them.
async function serve(request, response) {
  const path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
  let file;
  if (path === '/') {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(PAGE);
    return;
  } else if (path === '/harness.js') {
    file = join(here, 'harness.js');
  } else {
    for (const [prefix, dir] of [
      ['/pkg/', npmPackage],
      ['/www/', widgetAssets],
    ]) {
      if (!path.startsWith(prefix)) continue;
      file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(dir + sep)) file = undefined;
    }
  }
  const type = file && TYPES[file.slice(file.lastIndexOf('.'))];
  try {
    const body = await readFile(file);
    response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    response.end(body);
  } catch {
    response.writeHead(404);
    response.end();
  }
}

let server;
let browser;
let origin;

before(async () => {
  server = createServer((request, response) => void serve(request, response));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve) ?? resolve());
});

// Runs `body(arg)` in a fresh page with the harness loaded; resolves to what it answers.
export async function inPage(body, arg) {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.ready === true);
    const answer = await page.evaluate(body, arg);
    if (errors.length > 0) throw new Error(`error in the page: ${errors.join('; ')}`);
    return answer;
  } finally {
    await context.close();
  }
}
