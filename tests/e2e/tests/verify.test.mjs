// `mamori/verify` outside Node: the packed npm package's default (browser and edge) entry,
// imported by a page in headless Chromium the way the package's `exports` resolve it, fetching
// its WebAssembly with top-level await, and run on every result-token golden vector of
// mamori-core with the outcome the native run has. No verifier is involved: the page and the
// installed package are served by a plain file server.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';

import { launch } from '../support/browser.mjs';
import { npmPackage, root } from '../support/env.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

const vectors = join(root, 'crates/mamori-core/tests/vectors');
const resultCases = readdirSync(vectors)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => JSON.parse(readFileSync(join(vectors, name), 'utf8')).cases ?? [])
  .filter((c) => c.kind === 'result' && typeof c.token === 'string');

let project;
let server;
let browser;
let page;
let entry;
const requested = [];

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'mamori-e2e-verify-'));
  const npm = (args) => execFileSync('npm', args, { cwd: project, encoding: 'utf8' });
  const packed = JSON.parse(npm(['pack', npmPackage, '--json', '--pack-destination', project]));
  writeFileSync(join(project, 'package.json'), '{"name":"edge","private":true,"type":"module"}');
  npm(['install', join(project, packed[0].filename), '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  const installed = join(project, 'node_modules/mamori');
  // What a bundler or a browser-targeting runtime picks: the `default` condition.
  const { exports } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  entry = `/mamori/${normalize(exports['./verify'].default)}`;
  server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    try {
      const body = path === '/' ? '<!DOCTYPE html><title>verify</title>' : readFileSync(join(installed, normalize(path.replace(/^\/mamori\//, ''))));
      response.writeHead(200, { 'Content-Type': TYPES[extname(path) || '.html'] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launch();
  page = await browser.newPage();
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (project) rmSync(project, { recursive: true, force: true });
});

test('the default export is the browser build, which fetches its own .wasm', async () => {
  assert.equal(entry, '/mamori/verify-web.js');
  const loaded = await page.evaluate(async (path) => typeof (await import(path)).verifyResult, entry);
  assert.equal(loaded, 'function');
  assert.ok(requested.includes('/mamori/verify-web/mamori_verify_wasm_bg.wasm'), requested.join(' '));
});

test('every result-token golden vector, verified in Chromium as natively', async () => {
  assert.ok(resultCases.length > 0, `no result-token cases in ${vectors}`);
  const outcomes = await page.evaluate(
    async ({ path, cases }) => {
      const { verifyResult } = await import(path);
      return cases.map((c) => {
        const options = { audience: c.audience, now: c.now };
        if (c.leeway !== undefined) options.leeway = c.leeway;
        if (c.allow_attempted !== undefined) options.allowAttempted = c.allow_attempted;
        if (c.order) options.order = c.order;
        try {
          return { ok: verifyResult(c.token, c.keys, options) };
        } catch (error) {
          if (typeof error?.code !== 'string') return { thrown: String(error) };
          return error.code === 'status' ? { error: error.code, claims: error.claims } : { error: error.code };
        }
      });
    },
    { path: entry, cases: resultCases },
  );
  assert.deepEqual(
    outcomes.map((outcome, i) => ({ id: resultCases[i].id, ...outcome })),
    resultCases.map((c) => ({ id: c.id, ...c.expect })),
  );
});
