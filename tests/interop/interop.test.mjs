// The merchant guide's verification snippets for other stacks (verify_jose.mjs, verify_pyjwt.py,
// verify_hmac.py), proven: each is shown in www/README.md exactly as it is here, and each is
// run against the golden token vectors of mamori-core. A live token from a real purchase is
// checked by the topology suite (tests/e2e/topology), with the same commands.
//
//   node --test tests/interop/interop.test.mjs      (PyJWT from MAMORI_INTEROP_PYTHON)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { VERIFIERS, readmeRegion, verify } from './verifiers.mjs';

const root = join(import.meta.dirname, '../..');
const { cases } = JSON.parse(readFileSync(join(root, 'crates/mamori-core/tests/vectors/tokens.json'), 'utf8'));

// Merchants verify result tokens only; device tokens are the verifier's own business.
const results = cases.filter((c) => c.kind === 'result');

// The order the merchant is capturing when a vector names none: the one every such vector's
// token is for, with the authentication it created for it. A merchant always compares against
// its own order, never the token's.
const ORDER = { authentication: 'au_01JD8Z7Q3N4V', reference: 'order-42', amount: 12_800, currency: 'JPY' };

// Refusals of mamori's strict profile that an ordinary JWT library (and the guide's snippets)
// is not expected to make. Every other invalid vector must be refused by every snippet.
const STRICT_ONLY = {
  'header-unknown-member': 'libraries ignore header members they do not use (no key URL is followed: the key is given)',
  'header-crit': 'whether an unknown crit extension is refused depends on the library',
  'header-duplicate-alg': 'which of two duplicate members counts depends on the JSON parser',
  'header-invalid-utf8': 'some decoders replace invalid UTF-8 instead of refusing it',
  'padded-segment': 'many base64url decoders accept padding',
  'non-canonical-trailing-bits': 'base64url decoders ignore the unused bits',
  'standard-alphabet': 'some base64url decoders accept + and /',
  'trailing-newline': 'some decoders skip whitespace',
  'over-4-kib': 'libraries set no size limit',
  'claims-invalid-utf8': 'some decoders replace invalid UTF-8 instead of refusing it',
  'claims-duplicate-aud': 'which of two duplicate members counts depends on the JSON parser',
  'claims-duplicate-amount': 'which of two duplicate members counts depends on the JSON parser',
  'claims-unknown-member': 'libraries accept claims they do not know',
  'claims-unknown-status': 'libraries do not know the status values; the merchant captures only on Y',
  'claims-reason-00': 'libraries do not know the 3-D Secure reason codes',
  'issued-in-future': 'jose checks iat only against a maximum age',
  'lifetime-too-long': 'the 10-minute lifetime is mamori\'s profile, not a JWT rule',
  'lifetime-zero': 'the 10-minute lifetime is mamori\'s profile, not a JWT rule',
};

// RFC 7519 makes `exp` exclusive (the time must be before it), mamori-core inclusive: 30 s
// after `exp` with 30 s of leeway is the one second where they differ. The plain-HMAC snippet
// follows mamori-core; the libraries follow the RFC.
const BOUNDARY = { 'valid-result-expiry-within-leeway': ['jose', 'pyjwt'] };

test('the strict-only and boundary lists name invalid and valid vectors that exist', () => {
  const byId = new Map(results.map((c) => [c.id, c]));
  for (const id of Object.keys(STRICT_ONLY)) assert.ok(byId.get(id)?.expect.error, id);
  for (const id of Object.keys(BOUNDARY)) assert.ok(byId.get(id)?.expect.ok, id);
});

for (const [name, { file }] of Object.entries(VERIFIERS)) {
  test(`${name}: www/README.md shows ${file.split('/').pop()} as it is`, () => {
    const readme = readFileSync(join(root, 'www/README.md'), 'utf8');
    assert.ok(readme.includes(readmeRegion(readFileSync(file, 'utf8'))), 'the guide\'s snippet differs from the file');
  });

  test(`${name}: the golden vectors`, async () => {
    const verdicts = await verify(
      name,
      results.map((c) => ({ token: c.token, keys: c.keys, audience: c.audience, order: c.order ?? ORDER, now: c.now })),
    );
    let accepted = 0;
    let refused = 0;
    results.forEach((c, i) => {
      const verdict = verdicts[i];
      // The snippets capture only on `Y`: accepting `A` is a merchant's own, explicit choice
      // (mamori's `allowAttempted`), so a vector that allows it is refused here.
      if (c.expect.ok && c.allow_attempted) {
        assert.ok(verdict.error, `${c.id}: the snippets refuse status ${c.expect.ok.status}`);
        refused += 1;
      } else if (c.expect.ok) {
        if (verdict.error && BOUNDARY[c.id]?.includes(name)) return;
        assert.deepEqual(verdict, { ok: c.expect.ok }, `${c.id}: ${c.description}`);
        accepted += 1;
      } else if (!STRICT_ONLY[c.id]) {
        assert.ok(verdict.error, `${c.id} (${c.description}) must be refused, got ${JSON.stringify(verdict)}`);
        refused += 1;
      }
    });
    // Guards against a vector file that shrank or a filter that dropped everything.
    assert.ok(accepted >= 6 && refused >= 30, `${accepted} accepted, ${refused} refused`);
  });
}
