// Result-token verification in Node, in one process on one token: the npm package's pre-keyed
// `createVerifier` and one-shot `verifyResult` (mamori-core compiled to WebAssembly) against
// `fast-jwt`'s `createVerifier` (without and with its cache), `jose`'s `jwtVerify` and
// `jsonwebtoken`'s `verify`, all HS256 with the same key, audience and clock. mamori also checks
// the order (authentication, reference, amount, currency) and the status, which the others
// cannot.
//
// Each library first proves it verifies the token and refuses a tampered one, so none is timed
// doing less than the others. Then, after a warm-up, rounds are interleaved (every library once
// per round, the order rotating) so a noisy neighbour on the shared machine slows them alike;
// the report takes the median round and its spread.
//
// Usage: node verify.mjs <out.json>   (MAMORI_NPM_PACKAGE: the built package, default
// target/npm/mamori)

import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

import { createVerifier as fastJwtVerifier } from 'fast-jwt';
import * as jose from 'jose';
import jwt from 'jsonwebtoken';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const packageDir = process.env.MAMORI_NPM_PACKAGE ?? join(root, 'target/npm/mamori');
const out = process.argv[2] ?? join(root, 'target/bench/node-verify.json');

const WARMUP_MS = 1000;
const ROUNDS = 9;
const ROUND_MS = 300;

const { createVerifier, verifyResult } = await import(
  pathToFileURL(join(packageDir, 'verify.js')).href
);

// The claims and key of the native benchmark (crates/mamori-core/benches/verify.rs).
const SECRET = Buffer.from('a merchant secret of 32 bytes or more');
const KID = 'm_shop-2026a';
const SECRET_KEY = `mamori_sk.${KID}.${SECRET.toString('base64url')}`;
const NOW = Math.floor(Date.now() / 1000);
const ORDER = { authentication: 'au_01JD8Z7Q3N4V', reference: 'order-42', amount: 12800, currency: 'JPY' };

function sign(reference) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ alg: 'HS256', typ: 'mamori-result+jwt', kid: KID });
  const claims = b64({
    iss: 'https://safekey.issuer.example', aud: 'm_shop', sub: 'au_01JD8Z7Q3N4V',
    iat: NOW, exp: NOW + 600, jti: 'rt_01JD8Z7Q3N4V',
    txn: { ref: reference, amount: 12800, currency: 'JPY' },
    status: 'Y', eci: '05', method: 'challenge',
  });
  const tag = createHmac('sha256', SECRET).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${tag}`;
}

const token = sign(ORDER.reference);
const joseKey = new Uint8Array(SECRET);
const mamori = createVerifier(SECRET_KEY, { audience: 'm_shop' });
// fast-jwt's clock is in milliseconds. Its cache keeps each verified token's payload and returns
// it for the same token until it expires: a replayed token costs a lookup, which is why mamori
// has no such cache (a merchant must refuse a replay, not answer it faster).
const fastJwtOptions = {
  key: SECRET, algorithms: ['HS256'], allowedAud: 'm_shop', clockTimestamp: NOW * 1000,
};
const fastJwt = fastJwtVerifier(fastJwtOptions);
const fastJwtCached = fastJwtVerifier({ ...fastJwtOptions, cache: true });
// The first entry is the one the report compares the others with.
const libraries = [
  {
    name: 'mamori createVerifier',
    version: version(packageDir),
    sync: true,
    verify: (t) => mamori(t, { now: NOW, order: ORDER }),
  },
  {
    name: 'mamori verifyResult',
    version: version(packageDir),
    sync: true,
    verify: (t) => verifyResult(t, SECRET_KEY, { audience: 'm_shop', now: NOW, order: ORDER }),
  },
  {
    name: 'fast-jwt',
    version: version(join(here, 'node_modules/fast-jwt')),
    sync: true,
    verify: (t) => fastJwt(t),
  },
  {
    name: 'fast-jwt (cache)',
    version: version(join(here, 'node_modules/fast-jwt')),
    sync: true,
    verify: (t) => fastJwtCached(t),
  },
  {
    name: 'jose',
    version: version(join(here, 'node_modules/jose')),
    sync: false,
    verify: (t) => jose.jwtVerify(t, joseKey, {
      algorithms: ['HS256'], audience: 'm_shop', typ: 'mamori-result+jwt',
      currentDate: new Date(NOW * 1000),
    }),
  },
  {
    name: 'jsonwebtoken',
    version: version(join(here, 'node_modules/jsonwebtoken')),
    sync: true,
    verify: (t) => jwt.verify(t, SECRET, {
      algorithms: ['HS256'], audience: 'm_shop', clockTimestamp: NOW,
    }),
  },
];

function version(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

// Every library accepts the token and refuses it with one signature character changed.
const last = token.at(-2) === 'A' ? 'B' : 'A';
const tampered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
for (const library of libraries) {
  const claims = await library.verify(token);
  const amount = (claims.payload ?? claims).txn?.amount;
  if (amount !== 12800) throw new Error(`${library.name} did not return the claims`);
  let refused = false;
  try {
    await library.verify(tampered);
  } catch {
    refused = true;
  }
  if (!refused) throw new Error(`${library.name} accepted a tampered token`);
}

// Verifications per second over `ms`, checking the clock every 64 calls.
async function measure(library, ms) {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    if (library.sync) {
      for (let i = 0; i < 64; i++) library.verify(token);
    } else {
      for (let i = 0; i < 64; i++) await library.verify(token);
    }
    count += 64;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (count * 1000) / elapsed;
}

for (const library of libraries) await measure(library, WARMUP_MS);
const rounds = libraries.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < libraries.length; k++) {
    const i = (round + k) % libraries.length;
    rounds[i].push(await measure(libraries[i], ROUND_MS));
  }
}

const result = {
  node: process.version,
  token_bytes: token.length,
  warmup_ms: WARMUP_MS,
  round_ms: ROUND_MS,
  libraries: libraries.map((library, i) => ({
    name: library.name,
    version: library.version,
    ops_per_second: rounds[i],
  })),
};
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
for (const library of result.libraries) {
  const sorted = [...library.ops_per_second].sort((a, b) => a - b);
  console.log(`${library.name.padEnd(22)} median ${Math.round(sorted[sorted.length >> 1])} verifications/s`);
}
