// The npm package as a merchant gets it: `npm pack` of the built package, installed from the
// tarball into a fresh project, both entries imported through the package's `exports`, and every
// result-token golden vector of mamori-core run through `verifyResult` with the outcome the
// native run has.
//
// The package is built by `cargo xtask package` (into target/npm/mamori); MAMORI_NPM_PACKAGE
// points elsewhere.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const packageDir = process.env.MAMORI_NPM_PACKAGE ?? join(root, 'target/npm/mamori');
const vectorsDir = join(root, 'crates/mamori-core/tests/vectors');

let project;
let verify;
let widget;
// The default (browser/edge) entry's bindings: `verify-web.js` fetches its wasm with top-level
// await, which Node cannot do from a file, so these are its own generated module, initialised
// synchronously with the same bytes a browser would fetch.
let web;

before(async () => {
  assert.ok(
    existsSync(join(packageDir, 'package.json')),
    `no built package at ${packageDir}; build it with \`cargo xtask package\``,
  );
  project = mkdtempSync(join(tmpdir(), 'mamori-npm-'));
  const npm = (args) => execFileSync('npm', args, { cwd: project, encoding: 'utf8' });
  const packed = JSON.parse(npm(['pack', packageDir, '--json', '--pack-destination', project]));
  const tarball = join(project, packed[0].filename);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'merchant-backend', private: true, type: 'module' }),
  );
  // A tarball without dependencies installs offline; no scripts run, as in a careful CI.
  npm(['install', tarball, '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  // Imported from a module inside the project, so `mamori` and `mamori/verify` resolve through
  // node_modules and the package's `exports` exactly as in a merchant's code.
  writeFileSync(
    join(project, 'entries.mjs'),
    "export * as verify from 'mamori/verify';\nexport * as widget from 'mamori';\n",
  );
  ({ verify, widget } = await import(pathToFileURL(join(project, 'entries.mjs')).href));
  const webDir = join(project, 'node_modules/mamori/verify-web');
  web = await import(pathToFileURL(join(webDir, 'mamori_verify_wasm.js')).href);
  web.initSync({ module: readFileSync(join(webDir, 'mamori_verify_wasm_bg.wasm')) });
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

test('both entries import', () => {
  assert.equal(typeof verify.verifyResult, 'function');
  assert.equal(typeof widget.mount, 'function');
  assert.equal(typeof widget.defineElement, 'function');
});

test('a refusal is an Error with a stable code', () => {
  const refuse = (keys, options) => {
    try {
      verify.verifyResult('a.b.c', keys, options);
    } catch (error) {
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'MamoriVerifyError');
      return error.code;
    }
    assert.fail('not refused');
  };
  const key = `mamori_sk.k1.${Buffer.alloc(32, 1).toString('base64url')}`;
  assert.equal(refuse(key, { audience: 'm_shop', now: 1 }), 'encoding');
  assert.equal(refuse([key], { audience: 'm_shop', now: 1 }), 'encoding');
  assert.equal(refuse('sk_live_1', { audience: 'm_shop' }), 'invalid_key');
  assert.equal(refuse(42, { audience: 'm_shop' }), 'invalid_key');
  assert.equal(refuse(key, { audiance: 'm_shop' }), 'invalid_options');
  assert.equal(refuse(key, undefined), 'invalid_options');
});

// The options a merchant's backend passes, by name: the vectors run them all, these pin the
// JavaScript spelling of each outcome, in both entries.
for (const [entry, verifyResult] of [
  ['mamori/verify for Node', (...args) => verify.verifyResult(...args)],
  ['the default (browser/edge) build', (...args) => web.verifyResult(...args)],
]) describe(`binding and status: ${entry}`, () => {
  const caseById = (id) => {
    const found = resultCases.find((c) => c.id === id);
    assert.ok(found, `vector ${id} exists`);
    return found;
  };
  const run = (c, extra = {}) => {
    const options = { audience: c.audience, now: c.now, ...extra };
    try {
      return { claims: verifyResult(c.token, c.keys, options) };
    } catch (error) {
      assert.equal(error.name, 'MamoriVerifyError');
      return { error };
    }
  };
  const good = () => caseById('valid-result-challenge');
  const order = (authentication) => ({ authentication, reference: 'order-42', amount: 12800, currency: 'JPY' });

  test('a Y token for the authentication the merchant created returns its claims', () => {
    const c = good();
    const { claims } = run(c, { order: order(c.expect.ok.sub) });
    assert.equal(claims.status, 'Y');
  });

  test('a Y token checked against another authentication id is refused', () => {
    const { error } = run(good(), { order: order('au_someone_else') });
    assert.equal(error.code, 'authentication');
    assert.equal(error.claims, undefined);
  });

  test('an order without its authentication id is an invalid call', () => {
    const { error } = run(good(), { order: { reference: 'order-42', amount: 12800, currency: 'JPY' } });
    assert.equal(error.code, 'invalid_options');
  });

  for (const [id, status] of [['status-n-refused', 'N'], ['status-u-refused', 'U'], ['status-r-refused', 'R']]) {
    test(`status ${status} throws code status with the claims, with or without allowAttempted`, () => {
      const c = caseById(id);
      for (const extra of [{}, { allowAttempted: true }, { allowAttempted: false }]) {
        const { error } = run(c, { ...extra, ...(c.order ? { order: c.order } : {}) });
        assert.equal(error.code, 'status');
        assert.equal(error.claims.status, status);
        assert.deepEqual(error.claims, c.expect.claims);
      }
    });
  }

  test('status A is refused by default and returned with allowAttempted', () => {
    const c = caseById('status-a-refused');
    const refused = run(c, { order: c.order });
    assert.equal(refused.error.code, 'status');
    assert.equal(refused.error.claims.status, 'A');
    assert.equal(run(c, { order: c.order, allowAttempted: false }).error.code, 'status');
    assert.equal(run(c, { order: c.order, allowAttempted: true }).claims.status, 'A');
  });

  test('allowAttempted must be a boolean', () => {
    const c = caseById('status-a-refused');
    assert.equal(run(c, { allowAttempted: 'yes' }).error.code, 'invalid_options');
    assert.equal(run(c, { allow_attempted: true }).error.code, 'invalid_options');
  });

  test('a declined token for another order gives the order error and no claims', () => {
    const { error } = run(caseById('status-n-refused'), { order: order('au_01JD8Z7Q3N4W') });
    assert.equal(error.code, 'authentication');
    assert.equal(error.claims, undefined);
  });
});

// Device tokens are verified only by the verifier, with a key merchants never hold; the package
// verifies result tokens, and must refuse a device token offered as one.
const files = readdirSync(vectorsDir).filter((name) => name.endsWith('.json')).sort();
const tokenCases = files.flatMap((file) => {
  const { cases = [] } = JSON.parse(readFileSync(join(vectorsDir, file), 'utf8'));
  return cases.filter((c) => typeof c.token === 'string').map((c) => ({ file, ...c }));
});
const resultCases = tokenCases.filter((c) => c.kind === 'result');
const headerType = (token) =>
  JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).typ;
const deviceTokens = tokenCases.filter(
  (c) => c.kind === 'device' && headerType(c.token) === 'mamori-device+jwt',
);

describe('device-token vectors through verifyResult', () => {
  test('there are device-token vectors', () => {
    assert.ok(deviceTokens.length > 0, `no device-token cases in ${vectorsDir}`);
  });
  for (const c of deviceTokens) {
    test(`${c.file}: ${c.id} is refused as a result token`, () => {
      assert.throws(
        () => verify.verifyResult(c.token, c.keys, { audience: c.audience, now: c.now }),
        (error) => error?.code === 'type',
      );
    });
  }
});

describe('golden vectors through verifyResult', () => {
  test('there are result-token vectors', () => {
    assert.ok(resultCases.length > 0, `no result-token cases in ${vectorsDir}`);
  });
  for (const c of resultCases) {
    test(`${c.file}: ${c.id}`, () => {
      const options = { audience: c.audience, now: c.now };
      if (c.leeway !== undefined) options.leeway = c.leeway;
      if (c.allow_attempted !== undefined) options.allowAttempted = c.allow_attempted;
      if (c.order) options.order = c.order;
      let outcome;
      try {
        outcome = { ok: verify.verifyResult(c.token, c.keys, options) };
      } catch (error) {
        if (typeof error?.code !== 'string') throw error;
        // Only a status refusal carries claims; a broken rule must carry none.
        outcome = error.code === 'status' ? { error: error.code, claims: error.claims } : { error: error.code };
        if (error.code !== 'status') assert.equal(error.claims, undefined);
      }
      assert.deepEqual(outcome, c.expect);
    });
  }
});

// `verifyResult` as the merchant guide calls it: no `now`, so the token is judged by the real
// clock. The golden vectors are signed for a fixed time; these tokens are the challenged
// purchase's vector signed again, here, around the current time.
describe('the real clock, as the guide calls verifyResult (no now)', () => {
  const c = () => resultCases.find((v) => v.id === 'valid-result-challenge');
  // The vector's claims with `iat` shifted by `age` seconds before now, and `exp` with it.
  const signedAgo = (age) => {
    const { token, keys, expect } = c();
    const [header] = token.split('.');
    const iat = Math.floor(Date.now() / 1000) - age;
    const claims = { ...expect.ok, iat, exp: iat + (expect.ok.exp - expect.ok.iat) };
    // The vector's claim order, which the wire format fixes.
    const ordered = Object.fromEntries(
      Object.keys(JSON.parse(Buffer.from(token.split('.')[1], 'base64url'))).map((k) => [k, claims[k]]),
    );
    const payload = Buffer.from(JSON.stringify(ordered)).toString('base64url');
    const secret = Buffer.from(keys[0].split('.')[2], 'base64url');
    const tag = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    return { token: `${header}.${payload}.${tag}`, claims };
  };
  const verifyNow = (token) => {
    const { keys, audience, order } = c();
    try {
      return { claims: verify.verifyResult(token, keys, { audience, order }) };
    } catch (error) {
      return { error: error.code };
    }
  };

  test('a token signed just now is accepted', () => {
    const { token, claims } = signedAgo(0);
    assert.deepEqual(verifyNow(token), { claims });
  });

  test('the same token signed an hour ago is refused as expired', () => {
    assert.deepEqual(verifyNow(signedAgo(3600).token), { error: 'expired' });
  });
});
