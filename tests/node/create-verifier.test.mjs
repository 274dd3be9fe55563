// `createVerifier` and the one-shot `verifyResult` built on it, as a merchant gets them: the
// packed npm package installed from its tarball, through both entries — `mamori/verify` for
// Node, and the default (browser/edge) build `verify-web.js`, imported as it is and given a
// `fetch` that reads `file:` URLs, since Node's cannot and that build fetches its wasm. Every
// result-token golden vector of mamori-core runs through both forms of both entries with the
// outcome the native run has; the rest pins what the pre-keyed form adds: strict call options,
// one verifier for many tokens, claims read back from wasm memory (also after it grows and for
// characters beyond ASCII), and tokens too long for the verifier's buffer.
//
// The package is built by `cargo xtask package` (into target/npm/mamori); MAMORI_NPM_PACKAGE
// points elsewhere.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const packageDir = process.env.MAMORI_NPM_PACKAGE ?? join(root, 'target/npm/mamori');
const vectorsDir = join(root, 'crates/mamori-core/tests/vectors');

const resultCases = readdirSync(vectorsDir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .flatMap((file) => {
    const { cases = [] } = JSON.parse(readFileSync(join(vectorsDir, file), 'utf8'));
    return cases
      .filter((c) => c.kind === 'result' && typeof c.token === 'string')
      .map((c) => ({ file, ...c }));
  });

let project;
const entries = {};

before(async () => {
  assert.ok(
    existsSync(join(packageDir, 'package.json')),
    `no built package at ${packageDir}; build it with \`cargo xtask package\``,
  );
  project = mkdtempSync(join(tmpdir(), 'mamori-verifier-'));
  const npm = (args) => execFileSync('npm', args, { cwd: project, encoding: 'utf8' });
  const packed = JSON.parse(npm(['pack', packageDir, '--json', '--pack-destination', project]));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'merchant-backend', private: true, type: 'module' }),
  );
  npm(['install', join(project, packed[0].filename), '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  // Resolved from inside the project, through node_modules and the package's `exports`.
  writeFileSync(join(project, 'entry.mjs'), "export * from 'mamori/verify';\n");
  entries['mamori/verify for Node'] = await import(pathToFileURL(join(project, 'entry.mjs')).href);
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    const target = new URL(url);
    if (target.protocol !== 'file:') return realFetch(url);
    return new Response(readFileSync(fileURLToPath(target)), {
      headers: { 'content-type': 'application/wasm' },
    });
  };
  try {
    const web = join(project, 'node_modules/mamori/verify-web.js');
    entries['the default (browser/edge) build'] = await import(pathToFileURL(web).href);
  } finally {
    globalThis.fetch = realFetch;
  }
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** What a call gave: `{ok}`, or `{error}` with the claims of a status refusal. */
function outcome(run) {
  try {
    return { ok: run() };
  } catch (error) {
    if (typeof error?.code !== 'string') throw error;
    assert.equal(error.name, 'MamoriVerifyError');
    if (error.code !== 'status') {
      // Only a status refusal carries claims; a broken rule must carry none.
      assert.equal(error.claims, undefined);
      return { error: error.code };
    }
    return { error: error.code, claims: error.claims };
  }
}

const SECRET = Buffer.alloc(32, 7);
const KEY = `mamori_sk.k1.${SECRET.toString('base64url')}`;
const NOW = 1_800_000_000;

/** A result token signed here, so its claims can be anything the tests need. */
function sign(claims) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'mamori-result+jwt', kid: 'k1' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

function claims(extra = {}) {
  return {
    iss: 'https://safekey.issuer.example',
    aud: 'm_shop',
    sub: 'au_1',
    iat: NOW,
    exp: NOW + 600,
    jti: 'rt_1',
    txn: { ref: 'order-42', amount: 12800, currency: 'JPY' },
    status: 'Y',
    eci: '05',
    method: 'challenge',
    ...extra,
  };
}

const ORDER = { authentication: 'au_1', reference: 'order-42', amount: 12800, currency: 'JPY' };

for (const entry of ['mamori/verify for Node', 'the default (browser/edge) build']) {
  const api = () => entries[entry];

  describe(`golden vectors: ${entry}`, () => {
    test('there are result-token vectors', () => {
      assert.ok(resultCases.length > 0, `no result-token cases in ${vectorsDir}`);
    });
    for (const c of resultCases) {
      const setup = { audience: c.audience };
      if (c.leeway !== undefined) setup.leeway = c.leeway;
      if (c.allow_attempted !== undefined) setup.allowAttempted = c.allow_attempted;
      const call = { now: c.now };
      if (c.order) call.order = c.order;
      test(`${c.file}: ${c.id} through createVerifier`, () => {
        assert.deepEqual(outcome(() => api().createVerifier(c.keys, setup)(c.token, call)), c.expect);
      });
      test(`${c.file}: ${c.id} through verifyResult`, () => {
        const options = { ...setup, ...call };
        assert.deepEqual(outcome(() => api().verifyResult(c.token, c.keys, options)), c.expect);
      });
    }
  });

  describe(`createVerifier: ${entry}`, () => {
    test('one verifier checks many tokens, each against its own order', () => {
      const verify = api().createVerifier(KEY, { audience: 'm_shop' });
      for (let i = 0; i < 50; i++) {
        const reference = `order-${i}`;
        const token = sign(claims({ sub: `au_${i}`, jti: `rt_${i}`, txn: { ref: reference, amount: 100 + i, currency: 'USD' } }));
        const order = { authentication: `au_${i}`, reference, amount: 100 + i, currency: 'USD' };
        assert.deepEqual(verify(token, { order, now: NOW }), claims({ sub: `au_${i}`, jti: `rt_${i}`, txn: { ref: reference, amount: 100 + i, currency: 'USD' } }));
        assert.equal(outcome(() => verify(token, { order: { ...order, amount: 99 }, now: NOW })).error, 'amount');
      }
    });

    test('claims beyond ASCII come back whole, with the reason of a refusal', () => {
      const verify = api().createVerifier(KEY, { audience: 'm_shop' });
      const unusual = claims({ jti: 'rt_😀_é', txn: { ref: '注文-42 🛒', amount: 9_007_199_254_740_991, currency: 'JPY' } });
      const order = { ...ORDER, reference: '注文-42 🛒', amount: 9_007_199_254_740_991 };
      assert.deepEqual(verify(sign(unusual), { order, now: NOW }), unusual);
      const declined = claims({ status: 'N', eci: '07', method: 'frictionless', reason: '11' });
      assert.deepEqual(outcome(() => verify(sign(declined), { order: ORDER, now: NOW })), { error: 'status', claims: declined });
    });

    test('the call options are strict', () => {
      const verify = api().createVerifier(KEY, { audience: 'm_shop' });
      const token = sign(claims());
      const code = (options) => outcome(() => verify(token, options)).error;
      assert.equal(code({ order: ORDER, now: NOW }), undefined);
      assert.equal(code({ now: NOW }), undefined);
      for (const bad of [
        null,
        [],
        'now',
        { now: NOW, ordr: ORDER },
        { now: NOW, audience: 'm_shop' },
        { now: '1800000000' },
        { now: NOW + 0.5 },
        { now: -1 },
        { now: NOW, order: null },
        { now: NOW, order: { reference: 'order-42', amount: 12800, currency: 'JPY' } },
        { now: NOW, order: { ...ORDER, extra: 1 } },
        { now: NOW, order: { ...ORDER, amount: '12800' } },
        { now: NOW, order: { ...ORDER, amount: 12800.5 } },
        { now: NOW, order: { ...ORDER, amount: -12800 } },
        { now: NOW, order: { ...ORDER, amount: 2 ** 53 } },
        { now: NOW, order: { ...ORDER, amount: Number.NaN } },
        { now: NOW, order: { ...ORDER, currency: undefined } },
      ]) {
        assert.equal(code(bad), 'invalid_options', JSON.stringify(bad) ?? String(bad));
      }
      assert.equal(outcome(() => verify(42, { now: NOW })).error, 'invalid_options');
    });

    test('the setup is strict, and keys are checked when the verifier is made', () => {
      const code = (keys, setup) => outcome(() => api().createVerifier(keys, setup)).error;
      assert.equal(code(KEY, { audience: 'm_shop', leeway: 5, allowAttempted: true }), undefined);
      assert.equal(code([KEY], { audience: 'm_shop' }), undefined);
      assert.equal(code(KEY, { audiance: 'm_shop' }), 'invalid_options');
      // The time and the order belong to each call.
      assert.equal(code(KEY, { audience: 'm_shop', now: NOW }), 'invalid_options');
      assert.equal(code(KEY, { audience: 'm_shop', order: ORDER }), 'invalid_options');
      assert.equal(code(KEY, { audience: 'm_shop', allowAttempted: 'yes' }), 'invalid_options');
      assert.equal(code(KEY, undefined), 'invalid_options');
      assert.equal(code('sk_live_1', { audience: 'm_shop' }), 'invalid_key');
      assert.equal(code([KEY, KEY], { audience: 'm_shop' }), 'invalid_key');
      assert.equal(code(42, { audience: 'm_shop' }), 'invalid_key');
    });

    test('the clock is used without now', () => {
      const verify = api().createVerifier(KEY, { audience: 'm_shop' });
      const now = Math.floor(Date.now() / 1000);
      const fresh = claims({ iat: now, exp: now + 600 });
      assert.deepEqual(verify(sign(fresh), { order: ORDER }), fresh);
      assert.deepEqual(verify(sign(fresh)), fresh);
      const stale = claims({ iat: now - 3600, exp: now - 3000 });
      assert.equal(outcome(() => verify(sign(stale))).error, 'expired');
    });

    test('a verifier keeps working after the wasm memory grows', () => {
      const verify = api().createVerifier(KEY, { audience: 'm_shop' });
      const token = sign(claims());
      assert.deepEqual(verify(token, { order: ORDER, now: NOW }), claims());
      // Each verifier holds an 8 KiB buffer: 2000 of them need more memory than the module
      // starts with, so its ArrayBuffer is replaced and every view of the old one is empty.
      const others = Array.from({ length: 2000 }, () => api().createVerifier(KEY, { audience: 'm_shop' }));
      assert.deepEqual(verify(token, { order: ORDER, now: NOW }), claims());
      assert.deepEqual(others.at(-1)(token, { order: ORDER, now: NOW }), claims());
    });

    test('a token or order too long for the buffer is refused as the profile says', () => {
      const verify = api().createVerifier(KEY, { audience: 'm_shop' });
      const long = sign(claims({ txn: { ref: 'x'.repeat(9000), amount: 12800, currency: 'JPY' } }));
      assert.equal(outcome(() => verify(long, { order: ORDER, now: NOW })).error, 'too_long');
      const order = { ...ORDER, reference: 'é'.repeat(5000) };
      assert.equal(outcome(() => verify(sign(claims()), { order, now: NOW })).error, 'reference');
      assert.deepEqual(verify(sign(claims()), { order: ORDER, now: NOW }), claims());
    });
  });
}
