// The loader checks the WebAssembly it fetches against the hash built into it, so the one
// `integrity` on the script tag covers both files (www/README.md). Here the verifier serves an
// altered release, and the guide's `<mamori-challenge>` page (pages/element) must refuse it:
// a fatal `mamori:error`, no widget rendered, and no device step sent to the verifier.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { assets, elementPage, elementPath } from '../support/assets.mjs';
import { setup } from '../support/fixture.mjs';

test('a .wasm with one byte flipped is refused', async () => {
  await withRelease(
    (dir, manifest) => {
      const path = join(dir, manifest.wasm);
      const wasm = readFileSync(path);
      // A byte of the data section, so the altered module still compiles and would run: only
      // the hash check can stop it.
      wasm[lastDataByte(wasm)] ^= 0x01;
      writeFileSync(path, wasm);
    },
    async (shop, seen, manifest) => {
      const { code } = await refused(shop, seen);
      assert.equal(code, 'network');
      assert.ok(seen.some((url) => url.endsWith(`/widget/${manifest.wasm}`)), 'the .wasm was fetched');
    },
  );
});

test('a loader built without the .wasm hash loads nothing', async () => {
  await withRelease(
    (dir, manifest) => {
      // The build placeholder in place of the hash; the page pins this script by its new hash.
      const path = join(dir, manifest.script);
      const script = readFileSync(path, 'utf8');
      const unhashed = script.replaceAll(manifest.wasm_integrity, '__MAMORI_WASM_INTEGRITY__');
      assert.notEqual(unhashed, script, 'the bundled loader holds the .wasm hash');
      writeFileSync(path, unhashed);
      const integrity = `sha384-${createHash('sha384').update(unhashed).digest('base64')}`;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, integrity }));
    },
    async (shop, seen) => {
      const { code } = await refused(shop, seen);
      assert.equal(code, 'bad_response');
      assert.ok(!seen.some((url) => url.endsWith('.wasm')), 'no .wasm was fetched');
    },
  );
});

// Serves a copy of this run's release changed by `alter(dir, manifest)`, opens the element page
// on a new device recording every request URL, and runs `check(shop, urls, manifest)`.
async function withRelease(alter, check) {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-e2e-altered-'));
  let env;
  try {
    cpSync(await assets(), dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    alter(dir, manifest);
    elementPage(dir);
    env = await setup({ assets: dir });
    const buyer = await env.cardholder();
    const shop = await env.shopper({ path: elementPath });
    const seen = [];
    shop.page.on('request', (request) => seen.push(request.url()));
    await shop.buy({ ...buyer, amount: 4_800 });
    await check(shop, seen, manifest);
  } finally {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The element's fatal `mamori:error`, with nothing rendered and no device step; returns the
// error's facts as the page shows them.
async function refused(shop, seen) {
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'error', verdict.text);
  assert.deepEqual(await shop.events(), ['mamori:error']);
  const rendered = await shop.page.evaluate(() => ({
    widget: document.querySelector('mamori-challenge')?.shadowRoot?.childNodes.length ?? 0,
    hooks: document.querySelectorAll('[data-mamori]').length,
  }));
  assert.deepEqual(rendered, { widget: 0, hooks: 0 });
  assert.equal(await shop.page.locator('[data-mamori]').count(), 0, 'no widget node, shadow DOM included');
  assert.ok(seen.some((url) => url.endsWith('/demo/shop/checkout')), 'the purchase was started');
  assert.deepEqual(seen.filter((url) => /\/v1\/authentications\/[^/]+\/device$/.test(url)), []);
  return verdict;
}

// The offset of the last byte of the module's data section (id 11): inside the last data
// segment's bytes, which the module's validity does not depend on.
function lastDataByte(wasm) {
  let at = 8; // after the magic number and the version
  while (at < wasm.length) {
    const id = wasm[at];
    let size = 0;
    let shift = 0;
    let byte;
    at += 1;
    do {
      byte = wasm[at];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      at += 1;
    } while (byte & 0x80);
    if (id === 11) return at + size - 1;
    at += size;
  }
  throw new Error('the .wasm has no data section');
}
