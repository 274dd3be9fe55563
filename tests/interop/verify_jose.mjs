// The merchant guide's Node snippet (www/README.md, "Verifying the result token on your
// backend"): a mamori result token checked with `jose`, an ordinary JWT library. The region
// between the readme markers appears in the guide verbatim (interop.test.mjs checks that);
// the rest turns it into a command for the tests: one JSON case per stdin line, one verdict
// per stdout line (see verifiers.mjs). The topology suite's shop backend imports it too.

import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

// readme:begin
import { jwtVerify } from 'jose';

// secretKeys: your merchant secret keys, ['mamori_sk.<kid>.<secret>'] (two during a rotation).
// merchantId: your merchant id, the token's audience. order: {authentication, reference,
// amount, currency}, where authentication is the id POST /v1/authentications gave you for it.
// Returns the claims only for status 'Y' (capture then, and redeem claims.jti once); a genuine
// token with another status throws an error carrying its claims, so you can log why.
export async function verifyResult(token, secretKeys, merchantId, order) {
  const keys = new Map(
    secretKeys.map((key) => {
      const [, kid, secret] = key.split('.');
      return [kid, Buffer.from(secret, 'base64url')];
    }),
  );
  const { payload } = await jwtVerify(
    token,
    (header) => {
      if (!keys.has(header.kid)) throw new Error('unknown kid');
      return keys.get(header.kid);
    },
    {
      algorithms: ['HS256'],
      typ: 'mamori-result+jwt',
      audience: merchantId,
      clockTolerance: 30,
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'txn', 'status'],
    },
  );
  const { txn } = payload;
  if (payload.sub !== order.authentication) throw new Error('the token is for another authentication');
  if (txn.ref !== order.reference || txn.amount !== order.amount || txn.currency !== order.currency) {
    throw new Error('the token is for another order');
  }
  if (payload.status !== 'Y') {
    throw Object.assign(new Error(`not authenticated (status ${payload.status})`), { claims: payload });
  }
  return payload;
}
// readme:end

// The command: `now` in each case (seconds) stands in for the clock, so that golden vectors
// dated in the future are checked as of their own time. jose reads the clock with `new Date()`.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const RealDate = Date;
  let now = RealDate.now();
  globalThis.Date = class extends RealDate {
    constructor(...args) {
      super(...(args.length ? args : [now]));
    }
    static now() {
      return now;
    }
  };
  for await (const line of createInterface({ input: process.stdin })) {
    const { token, keys, audience, order, now: at } = JSON.parse(line);
    now = at === undefined ? RealDate.now() : at * 1000;
    try {
      console.log(JSON.stringify({ ok: await verifyResult(token, keys, audience, order) }));
    } catch (error) {
      console.log(JSON.stringify({ error: String(error.message ?? error) }));
    }
  }
}
