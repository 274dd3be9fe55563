// The challenge flow in headless Chromium, driven through a scripted transport: events, texts,
// controls, countdowns, repeats and time limits, and `destroy`.

import { test } from 'node:test';

import { inPage } from './support.mjs';

test('the device step sends the fingerprint and a frictionless answer ends it', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.FRICTIONLESS] });
    h.eq(m.script.paths(), ['/v1/authentications/au_test/device']);
    h.eq(m.script.body(0).fingerprint.components.timezone.length, 32);
    h.eq(m.eventNames(), ['mamori:ready', 'mamori:result']);
    h.eq(m.detail('mamori:result', 'resultToken'), 'rt.f');
    h.ok(m.find('challenge').hidden, 'no challenge shown');
    m.widget.destroy();
  }));

test('the challenge renders and accepts a typed code', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
    h.ok(!m.find('challenge').hidden);
    h.eq(m.find('frame').getRootNode().adoptedStyleSheets.length, 1, 'styles adopted, no <style>');
    h.eq(m.text('title'), "Confirm it's you");
    h.ok(m.text('intro').includes('t***@example.com'));
    h.eq(m.text('status'), 'Code sent.');
    h.eq(m.find('status').getAttribute('aria-live'), 'polite');
    h.eq(m.input().getAttribute('inputmode'), 'numeric');
    h.eq(m.input().getAttribute('autocomplete'), 'one-time-code');
    h.eq(m.detail('mamori:challenge', 'maskedEmail'), 't***@example.com');
    h.eq(m.detail('mamori:challenge', 'expiresAt'), h.T0 / 1000 + 600);
    h.eq(m.detail('mamori:challenge', 'attemptsLeft'), 5);
    h.eq(m.detail('mamori:challenge', 'resendsLeft'), 3);

    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('123456');
    h.eq(m.script.lastField('code'), '123456');
    h.eq(m.detail('mamori:result', 'status'), 'Y');
    h.eq(m.detail('mamori:result', 'resultToken'), 'rt.y');
    h.eq(localStorage.getItem('mamori.device.verifier.test'), 'dt.new');
    h.eq(m.text('status'), 'Confirmed.');
    m.widget.destroy();
  }));

test('pasted and full-width codes are normalised', () =>
  inPage(async () => {
    const { h } = window;
    for (const [entered, sent] of [
      ['123-456', '123456'],
      [' 98 76 54 ', '987654'],
      ['１２３ ４５６', '123456'],
    ]) {
      const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
      m.script.reply(200, h.AUTHENTICATED);
      await m.enter(entered);
      h.eq(m.script.lastField('code'), sent, entered);
      m.widget.destroy();
    }
  }));

test('errors are announced and nothing is sent for a malformed code', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
    await m.enterUnsent('12ab56');
    h.eq(m.script.paths().length, 1, 'a malformed code is not sent');
    h.eq(m.text('status'), 'Enter the 6-digit code from the email.');
    h.eq(m.input().getAttribute('aria-invalid'), 'true');

    m.script.reply(200, '{"outcome":"wrong_code","attempts_left":4}');
    await m.enter('111111');
    h.eq(m.text('status'), 'Wrong code, 4 tries left.');
    h.eq(m.input().value, '', 'the wrong code is cleared');

    m.script.fail();
    await m.enter('222222');
    h.ok(m.text('status').startsWith('Could not reach the card issuer'));
    h.eq(m.detail('mamori:error', 'code'), 'network');
    h.eq(m.detail('mamori:error', 'fatal'), false);
    h.ok(!m.button('submit').disabled, 'the cardholder can retry');

    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('222222');
    h.eq(m.detail('mamori:result', 'status'), 'Y');
    m.widget.destroy();
  }));

test('a code in flight is never sent twice', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
    m.script.hold = true;
    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('123456');
    h.ok(m.button('submit').disabled, 'submit is disabled while in flight');
    // A disabled button swallows clicks before the widget sees them; `requestSubmit()` (Enter
    // in the field, a page script) submits the form anyway, which only the widget's own
    // in-flight guard stops.
    m.input().value = '123456';
    m.input().form.requestSubmit();
    m.button('resend').click();
    await h.settle();
    h.eq(m.script.paths().length, 2, 'device step and one verify');
    m.script.release();
    await h.settle();
    h.eq(m.count('mamori:result'), 1);
    m.widget.destroy();
  }));

test('origin_not_allowed is a clear fatal error', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({
      device: [403, '{"error":"origin_not_allowed","message":"origin not allowed"}'],
    });
    await m.until('mamori:error');
    h.ok(m.text('status').includes('not registered'));
    h.eq(m.detail('mamori:error', 'code'), 'origin_not_allowed');
    h.eq(m.detail('mamori:error', 'fatal'), true);
    h.eq(m.detail('mamori:error', 'retryable'), false);
    m.widget.destroy();
  }));

test('an error code every object inherits a property of is shown as unavailable', () =>
  inPage(async () => {
    const { h } = window;
    for (const code of ['constructor', '__proto__', 'toString']) {
      const m = await h.mount({ device: [403, `{"error":"${code}"}`] });
      await m.until('mamori:error');
      h.eq(m.detail('mamori:error', 'code'), code);
      h.eq(m.detail('mamori:error', 'fatal'), true, code);
      h.eq(m.text('status'), 'Verification is unavailable right now. Try again later.', code);
      m.widget.destroy();
    }
  }));

test('a fingerprint collection that fails leaves the fingerprint out of the device step', () =>
  inPage(async () => {
    const { h } = window;
    const kept = window.requestIdleCallback;
    window.requestIdleCallback = () => {
      throw new Error('no idle callbacks here');
    };
    try {
      const m = await h.mount({ device: [200, h.FRICTIONLESS] });
      await m.until('mamori:result');
      h.eq(m.script.body(0).fingerprint, undefined);
      h.eq(m.detail('mamori:result', 'resultToken'), 'rt.f');
      m.widget.destroy();
    } finally {
      window.requestIdleCallback = kept;
    }
  }));

test('expiry counts down and is announced', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(2.5, 30)] });
    h.eq(m.text('countdown'), 'Code expires in 0:03');
    m.advance(1100);
    h.eq(m.text('countdown'), 'Code expires in 0:02');
    h.ok(!m.eventNames().includes('mamori:expired'));
    h.ok(!m.button('submit').disabled, 'still open 0.1 s before');
    m.advance(1300);
    h.eq(m.text('countdown'), 'Code expires in 0:01');
    h.ok(!m.eventNames().includes('mamori:expired'));
    m.advance(100);
    h.eq(m.text('countdown'), 'Code expires in 0:00');
    h.eq(m.text('status'), 'The code has expired. Send a new code.');
    h.eq(m.count('mamori:expired'), 1);
    h.ok(m.button('submit').disabled);
    m.advance(1000);
    h.eq(m.count('mamori:expired'), 1, 'announced once');
    m.widget.destroy();
  }));

test('resend is disabled during its cooldown', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 1.5)] });
    const resend = m.button('resend');
    h.ok(resend.disabled);
    h.eq(resend.textContent, 'New code in 2 s');
    resend.click();
    await h.settle();
    h.eq(m.script.paths().length, 1, 'no resend during the cooldown');
    m.advance(1499);
    h.eq(resend.textContent, 'New code in 1 s');
    h.ok(resend.disabled, '1 ms before the cooldown ends');
    m.advance(1);
    h.ok(!resend.disabled);
    h.eq(resend.textContent, 'Send a new code');
    const next = JSON.parse(h.challengeJson(600, 30, m.now()));
    delete next.outcome;
    m.script.reply(200, JSON.stringify(next));
    resend.click();
    await h.settle();
    h.eq(m.script.paths()[1], '/v1/authentications/au_test/challenge/resend');
    h.eq(m.text('status'), 'A new code was sent.');
    h.ok(m.eventNames().includes('mamori:resend'));
    h.eq(m.detail('mamori:resend', 'expiresAt'), m.now() / 1000 + 600);
    h.ok(resend.disabled, 'a new cooldown');
    m.widget.destroy();
  }));

test('destroy removes nodes, listeners and timers', () =>
  inPage(async () => {
    const { h } = window;
    const timers = h.watchTimers();
    try {
      const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
      const form = m.find('form');
      m.input().value = '123456';
      h.eq(timers.intervals(), 1, 'the countdown ticks');
      m.widget.destroy();
      m.widget.destroy();
      h.eq(m.host.childElementCount, 0, 'every node is gone');
      h.eq(timers.intervals(), 0, 'the countdown stopped');
      h.eq(timers.timeouts(), 0, 'no timer left to run');
      // A detached form is never submitted by its button (it cannot navigate), so the submit
      // is dispatched by hand: the widget's listener, were it still there, would cancel it.
      const submitted = form.dispatchEvent(new Event('submit', { cancelable: true }));
      h.ok(submitted, 'a listener still answers the submit');
      h.eq(m.script.paths().length, 1, 'nothing sent after destroy');
      h.eq(m.eventNames(), ['mamori:ready', 'mamori:challenge']);
    } finally {
      timers.restore();
    }
  }));

test('Japanese and English texts', () =>
  inPage(async () => {
    const { h } = window;
    const ja = await h.mount({ device: [200, h.challengeJson(600, 30)], lang: 'ja' });
    h.eq(ja.text('title'), 'ご本人確認');
    h.eq(ja.text('label'), '確認コード');
    h.eq(ja.text('status'), '確認コードを送信しました。');
    h.ok(ja.text('countdown').startsWith('有効期限まで'));
    h.eq(ja.host.firstElementChild.lang, 'ja');
    ja.script.reply(200, '{"outcome":"wrong_code","attempts_left":2}');
    await ja.enter('111111');
    h.eq(ja.text('status'), 'コードが正しくありません。残り2回入力できます。');
    ja.widget.destroy();

    document.documentElement.setAttribute('lang', 'ja-JP');
    const fromPage = await h.mount({ device: [200, h.challengeJson(600, 30)], lang: null });
    h.eq(fromPage.text('submit'), '確認する');
    fromPage.widget.destroy();
    document.documentElement.setAttribute('lang', 'fr');
    // Neither the option nor the page names a language we have: the browser's (`en-US`).
    const fromBrowser = await h.mount({ device: [200, h.challengeJson(600, 30)], lang: null });
    h.eq(fromBrowser.text('submit'), 'Verify');
    fromBrowser.widget.destroy();
  }));

test('the dialog opens for a challenge and Escape cancels', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 30)], mode: 'dialog' });
    const dialog = m.find('frame');
    h.eq(dialog.localName, 'dialog');
    h.ok(dialog.open);
    m.script.reply(200, '{"outcome":"cancelled","status":"N","result_token":"rt.n"}');
    dialog.dispatchEvent(new Event('cancel', { cancelable: true }));
    await h.settle();
    h.eq(m.script.paths()[1], '/v1/authentications/au_test/cancel');
    h.eq(m.detail('mamori:cancel', 'status'), 'N');
    h.eq(m.detail('mamori:result', 'resultToken'), 'rt.n');
    h.eq(m.eventNames().slice(-2), ['mamori:cancel', 'mamori:result']);
    h.ok(!dialog.open);
    h.eq(m.text('status'), 'Cancelled.');
    m.widget.destroy();
  }));

test('a closed port is a retryable network error', () =>
  inPage(async () => {
    const { h } = window;
    // Nothing listens on port 2 of the loopback interface, and Chromium does not block it, so
    // `fetch` is refused by the connection itself.
    const m = await h.mount({
      verifier: 'http://127.0.0.1:2',
      transport: h.flow.fetchTransport('http://127.0.0.1:2', 'cs_test'),
    });
    await m.until('mamori:error');
    h.eq(m.detail('mamori:error', 'code'), 'network');
    h.eq(m.detail('mamori:error', 'retryable'), true);
    h.eq(m.detail('mamori:error', 'fatal'), true);
    h.eq(m.text('status'), 'Could not reach the card issuer. Check your connection and try again.');
    h.eq(m.count('mamori:error'), 1, 'one error, after every try');
    m.widget.destroy();
  }));

test('the device step is tried again after no answer and a 503', () =>
  inPage(async () => {
    const { h } = window;
    const script = new h.Script();
    script.fail();
    script.reply(503, '{"error":"unavailable","message":"not ready"}');
    script.reply(200, h.challengeJson(600, 30));
    const m = await h.mount({ script });
    await m.until('mamori:challenge');
    h.eq(m.script.paths(), Array(3).fill('/v1/authentications/au_test/device'));
    h.eq(m.eventNames(), ['mamori:ready', 'mamori:challenge']);
    h.eq(m.text('status'), 'Code sent.');
    m.widget.destroy();
  }));

test('the device step gives up after three more tries', () =>
  inPage(async () => {
    const { h } = window;
    const script = new h.Script();
    for (let i = 0; i < 5; i++) script.reply(502, 'null');
    const m = await h.mount({ script });
    await m.until('mamori:error');
    await h.settle();
    h.eq(m.script.paths().length, 4, 'one try and three more');
    h.eq(m.detail('mamori:error', 'code'), 'server_error');
    h.eq(m.detail('mamori:error', 'retryable'), true);
    h.eq(m.detail('mamori:error', 'fatal'), true);
    m.widget.destroy();
  }));

test('a device step decided while its answer was lost ends for good', () =>
  inPage(async () => {
    const { h } = window;
    // The verifier decided the first try (frictionless, say) but its answer never arrived; it
    // answers the repeat with `authentication_finished`, which no further try can change.
    const script = new h.Script();
    script.fail();
    script.reply(409, '{"error":"authentication_finished","message":"finished"}');
    script.reply(200, h.challengeJson(600, 30));
    const m = await h.mount({ script });
    await m.until('mamori:error');
    await h.settle();
    h.eq(m.script.paths().length, 2);
    h.eq(m.detail('mamori:error', 'code'), 'authentication_finished');
    h.eq(m.detail('mamori:error', 'retryable'), false);
    h.eq(m.detail('mamori:error', 'fatal'), true);
    h.eq(m.text('status'), 'This confirmation has already ended.');
    m.widget.destroy();
  }));

test('a code lost to the network is sent again only by the cardholder', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
    m.script.fail();
    m.script.reply(503, 'null');
    await m.enter('123456');
    await m.until('mamori:error');
    await h.settle();
    h.eq(m.script.paths().length, 2, 'device step and one verify, not repeated');
    h.eq(m.detail('mamori:error', 'code'), 'network');
    h.eq(m.detail('mamori:error', 'retryable'), true);
    h.eq(m.detail('mamori:error', 'fatal'), false);
    h.eq(m.text('status'), 'Could not reach the card issuer. Check your connection and try again.');
    h.eq(m.input().value, '123456', 'the code is kept');
    h.ok(!m.button('submit').disabled);

    // The cardholder's own try: a 503 is not repeated either.
    m.button('submit').click();
    await h.settle();
    h.eq(m.script.paths().length, 3);
    h.eq(m.script.lastField('code'), '123456');
    h.eq(m.detail('mamori:error', 'code'), 'server_error');
    h.eq(m.detail('mamori:error', 'retryable'), true);

    m.script.reply(200, h.AUTHENTICATED);
    m.button('submit').click();
    await h.settle();
    h.eq(m.script.paths().length, 4);
    h.eq(m.script.lastField('code'), '123456');
    h.eq(m.detail('mamori:result', 'status'), 'Y');
    m.widget.destroy();
  }));

test('a request without an answer runs out of time as network', () =>
  inPage(async () => {
    const { h } = window;
    const script = new h.Script();
    script.reply(200, h.challengeJson(600, 30));
    const m = await h.mount({ script, timing: { ...h.PROMPT, timeoutMs: 50 } });
    await m.until('mamori:challenge');
    m.script.hold = true;
    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('123456');
    await m.until('mamori:error');
    h.eq(m.detail('mamori:error', 'code'), 'network');
    h.eq(m.detail('mamori:error', 'fatal'), false);
    h.ok(!m.button('submit').disabled, 'the cardholder can try again');
    // The late answer is not heard: the request was given up.
    m.script.release();
    await h.settle();
    h.eq(m.count('mamori:result'), 0);
    h.eq(m.script.paths().length, 2);
    m.widget.destroy();
  }));

test('refusals are not retryable and cooldowns are', () =>
  inPage(async () => {
    const { h } = window;
    const m = await h.mount({ device: [200, h.challengeJson(600, 0)] });
    m.script.reply(429, '{"error":"resend_cooldown","message":"wait","retry_after":30}');
    m.button('resend').click();
    await h.settle();
    h.eq(m.script.paths().length, 2, 'a resend is not repeated');
    h.eq(m.detail('mamori:error', 'code'), 'resend_cooldown');
    h.eq(m.detail('mamori:error', 'retryable'), true);
    h.eq(m.detail('mamori:error', 'message'), 'New code in 30 s');
    h.ok(m.button('resend').disabled, 'the cooldown the verifier named');
    m.advance(30_000);
    h.ok(!m.button('resend').disabled, 'open once it is over');
    m.script.reply(409, '{"error":"resend_limit","message":"no more"}');
    m.button('resend').click();
    await h.settle();
    h.eq(m.detail('mamori:error', 'code'), 'resend_limit');
    h.eq(m.detail('mamori:error', 'retryable'), false);
    h.ok(m.button('resend').disabled, 'no more resends');
    m.script.reply(400, '{"error":"invalid_code","message":"six digits"}');
    await m.enter('123456');
    h.eq(m.detail('mamori:error', 'code'), 'invalid_code');
    h.eq(m.detail('mamori:error', 'retryable'), false);
    m.widget.destroy();
  }));

test('destroy stops the tries still to come', () =>
  inPage(async () => {
    const { h } = window;
    const timers = h.watchTimers();
    try {
      const script = new h.Script();
      script.fail();
      script.reply(200, h.challengeJson(600, 30));
      // A wait no test run comes near: the next try starts only when the test ends the wait.
      const backoffMs = [60_000, 60_000, 60_000];
      const m = await h.mount({ script, timing: { ...h.PROMPT, backoffMs } });
      h.eq(m.script.paths().length, 1, 'the first try failed; the next one waits');
      h.eq(timers.timeouts(), 1, 'the wait before the next try');
      m.widget.destroy();
      // The wait ends after `destroy`; a try it started would be sent before the next task.
      await timers.runPending();
      h.eq(m.script.paths().length, 1, 'no try after destroy');
      h.eq(m.eventNames(), ['mamori:ready']);
    } finally {
      timers.restore();
    }
  }));

test('malformed answers are a non-retryable bad_response and show nothing', () =>
  inPage(async () => {
    const { h } = window;
    for (const answer of [
      '{"outcome":"challenge","challenge":{"expires_at":1}}',
      '{"outcome":"challenge","challenge":{"masked_email":"t***@example.com","expires_at":"soon"}}',
      '{"outcome":"frictionless","status":"Y"}',
      '{"outcome":"maybe","status":"Y","result_token":"rt"}',
      '[]',
      'null',
    ]) {
      const m = await h.mount({ device: [200, answer] });
      await m.until('mamori:error');
      h.eq(m.detail('mamori:error', 'code'), 'bad_response', answer);
      h.eq(m.detail('mamori:error', 'retryable'), false, answer);
      h.eq(m.detail('mamori:error', 'fatal'), true, answer);
      h.ok(m.find('challenge').hidden, `${answer}: no challenge shown`);
      h.eq(m.count('mamori:result'), 0, answer);
      m.widget.destroy();
    }
    const m = await h.mount({ device: [200, h.challengeJson(600, 30)] });
    m.script.reply(200, '{"outcome":"wrong_code","attempts_left":-1}');
    await m.enter('123456');
    h.eq(m.detail('mamori:error', 'code'), 'bad_response');
    h.eq(m.detail('mamori:error', 'fatal'), false);
    m.script.reply(200, '{"outcome":"authenticated","status":"Y"}');
    await m.enter('123456');
    h.eq(m.count('mamori:error'), 2);
    h.eq(m.count('mamori:result'), 0, 'no result without a token');
    m.widget.destroy();
  }));
