// The verifier's golden answers read by the widget's parser: each file in
// `mamori-server/tests/golden/` is an answer the live verifier gave (its tokens replaced by
// placeholders), and each test here says what the widget's API makes of it. A wire change that
// the server's golden test records shows up here as a parser that reads it differently.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { root } from '../support/env.mjs';
import { inPage } from './support.mjs';

const golden = (name) =>
  JSON.parse(readFileSync(join(root, 'crates/mamori-server/tests/golden', `${name}.json`), 'utf8'));

// Installs `window.g`: `read(golden, endpoint, call)` answers what the API made of the golden
// answer (which must be one to `endpoint`) for `call(api)`: `{ok}` or `{failure: {code, status,
// retryAfter, retryable}}`.
function helpers() {
  const { h } = window;
  window.g = {
    async read(answer, endpoint, call) {
      h.ok(answer.request.endsWith(endpoint), `${answer.request} is not ${endpoint}`);
      const script = new h.Script();
      script.reply(answer.status, JSON.stringify(answer.body));
      const api = h.api.api(script.transport(), 'au_golden', h.PROMPT);
      try {
        return { ok: await call(api) };
      } catch (failure) {
        h.ok(failure instanceof h.api.Failure, String(failure));
        const { code, status, retryAfter, retryable } = failure;
        return { failure: { code, status, retryAfter, retryable } };
      }
    },
    // The challenge of `device-challenge.json` (and, one resend on, `resend.json`): seconds on
    // the wire, milliseconds in the widget.
    challenge: (at, attemptsLeft, resendsLeft) => ({
      maskedEmail: 'h***@example.com',
      expiresAt: (at + 600) * 1000,
      attemptsLeft,
      resendsLeft,
      resendAvailableAt: (at + 30) * 1000,
    }),
    finished: (status) => ({ status, resultToken: '<result_token>' }),
    refused: (status, code, retryAfter) => ({
      failure: { code, status, retryAfter, retryable: status >= 500 || status === 429 },
    }),
  };
}

// The test server's clock starts here.
const START = 1_800_000_000;

test("the device step's answers", () =>
  inPage(
    async ({ install, answers, start }) => {
      new Function(`(${install})()`)();
      const { h, g } = window;
      const device = (answer) => g.read(answer, '/device', (api) => api.device({}));
      h.eq(await device(answers.frictionless), { ok: { finished: g.finished('Y') } });
      h.eq(await device(answers.challenge), { ok: { challenge: g.challenge(start, 5, 3) } });
      h.eq(await device(answers.rejected), { ok: { finished: g.finished('R') } });
      h.eq(await device(answers.origin), g.refused(403, 'origin_not_allowed'));
      h.eq(await device(answers.unauthorized), g.refused(401, 'unauthorized'));
    },
    {
      install: helpers.toString(),
      start: START,
      answers: {
        frictionless: golden('device-frictionless'),
        challenge: golden('device-challenge'),
        rejected: golden('device-rejected'),
        origin: golden('error-origin-not-allowed'),
        unauthorized: golden('error-unauthorized'),
      },
    },
  ));

test("the code's answers", () =>
  inPage(
    async ({ install, answers }) => {
      new Function(`(${install})()`)();
      const { h, g } = window;
      const verify = (answer) => g.read(answer, '/challenge/verify', (api) => api.verify('123456'));
      h.eq(await verify(answers.wrong), { ok: { attemptsLeft: 4 } });
      h.eq(await verify(answers.authenticated), {
        ok: { finished: g.finished('Y'), deviceToken: '<device_token>' },
      });
      h.eq(await verify(answers.failed), { ok: { finished: g.finished('N'), over: 'failed' } });
      h.eq(await verify(answers.expired), { ok: { finished: g.finished('U'), over: 'expired' } });
      h.eq(await verify(answers.invalid), g.refused(400, 'invalid_code'));
      h.eq(await verify(answers.finished), g.refused(409, 'authentication_finished'));
    },
    {
      install: helpers.toString(),
      answers: {
        wrong: golden('verify-wrong-code'),
        authenticated: golden('verify-authenticated'),
        failed: golden('verify-failed'),
        expired: golden('verify-expired'),
        invalid: golden('error-invalid-code'),
        finished: golden('error-authentication-finished'),
      },
    },
  ));

test("the resend's and the cancel's answers", () =>
  inPage(
    async ({ install, answers, start }) => {
      new Function(`(${install})()`)();
      const { h, g } = window;
      const resend = (answer) => g.read(answer, '/challenge/resend', (api) => api.resend());
      h.eq(await resend(answers.resend), { ok: g.challenge(start + 30, 4, 2) });
      h.eq(await resend(answers.cooldown), g.refused(429, 'resend_cooldown', 30));
      h.eq(await resend(answers.limit), g.refused(409, 'resend_limit'));
      h.eq(await g.read(answers.cancel, '/cancel', (api) => api.cancel()), { ok: g.finished('N') });
    },
    {
      install: helpers.toString(),
      start: START,
      answers: {
        resend: golden('resend'),
        cooldown: golden('error-resend-cooldown'),
        limit: golden('error-resend-limit'),
        cancel: golden('cancel'),
      },
    },
  ));
