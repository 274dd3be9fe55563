// The challenge in Japanese and in English: its texts, an accessibility scan with axe-core,
// and screenshots of the challenge and of the code mail as it arrives, kept under
// target/e2e-artifacts/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { seriousViolations } from '../support/axe.mjs';
import { artifact, setup } from '../support/fixture.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

const LANGUAGES = [
  { lang: 'ja', locale: 'ja-JP', title: 'ご本人確認', submit: '確認する', subject: /ご本人確認コード/ },
  { lang: 'en', locale: 'en-US', title: "Confirm it's you", submit: 'Verify', subject: /Your verification code/ },
];

for (const { lang, locale, title, submit, subject } of LANGUAGES) {
  test(`the challenge in ${lang}: texts, no serious accessibility violations, screenshots`, async () => {
    const buyer = await env.cardholder({ locale: lang });
    const shop = await env.shopper({ locale, lang });
    assert.equal(await shop.page.getAttribute('html', 'lang'), lang);
    await shop.buy({ ...buyer, amount: 7_700 });
    await shop.challenge();
    assert.equal(await shop.widget('title').innerText(), title);
    assert.equal(await shop.widget('submit').innerText(), submit);
    assert.equal(await shop.widget('root').getAttribute('lang'), lang);

    assert.deepEqual(await seriousViolations(shop.page), []);
    await shop.page.locator('[data-shop=widget]').screenshot({ path: artifact(`challenge-${lang}`) });
    await shop.page.screenshot({ path: artifact(`shop-${lang}`), fullPage: true });

    // The mail arrives in the cardholder's language; the mailbox shows its HTML rendered.
    const message = await env.mailbox.next({ to: buyer.email, kind: 'code' });
    assert.match(message.subject, subject);
    const code = env.mailbox.code(message);
    const mail = await env.mailbox.open(message);
    assert.equal(await mail.getAttribute('html', 'lang'), lang);
    await mail.screenshot({ path: artifact(`mail-${lang}`), fullPage: true });
    await mail.goto(`${env.verifier.url}/demo/mailbox`);
    const article = mail.locator('article', { hasText: buyer.email }).first();
    const rendered = await article.frameLocator('iframe').locator('body').innerText();
    assert.ok(rendered.includes(code), rendered);
    await article.screenshot({ path: artifact(`mailbox-${lang}`) });
    await mail.close();

    await shop.enter(code);
    const verdict = await shop.verdict();
    assert.equal(verdict.result, 'accepted', verdict.text);
  });
}
