// Story 7 of the topology suite: the verifier is stopped (SIGTERM) while a challenge is on the
// screen. Submitting the code then fails with a network error the widget says can be retried;
// once the verifier is back on the same port, with the same configuration and database,
// submitting again completes the purchase.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

test('7. the verifier restarted mid-challenge: a retryable network error, then Y', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper({ verify: 'jose' });
  await shop.buy({ ...buyer, amount: 5_000 });
  await shop.challenge();
  const code = env.smtp.code(await env.smtp.next({ to: buyer.email, kind: 'code' }));

  await env.verifier.stop();
  await shop.enter(code);
  const error = await shop.event('mamori:error');
  assert.equal(error.code, 'network', JSON.stringify(error));
  assert.equal(error.retryable, true, JSON.stringify(error));
  assert.ok(!error.fatal, 'the widget keeps the challenge');
  await shop.code().waitFor({ state: 'visible' });

  await env.verifier.start();
  await shop.widget('submit').click();
  const verdict = await shop.verdict();
  assert.deepEqual([verdict.result, verdict.status, verdict.method], ['accepted', 'Y', 'challenge']);
  assert.deepEqual(shop.problems, []);
});
