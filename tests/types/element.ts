// A page that imports the widget from npm and uses the element: `<mamori-challenge>` is known
// to the DOM's typings, with its attributes as properties, and every `mamori:*` event has its
// typed `detail` on the element, the document and the window.

import {
  defineElement,
  mount,
  type ChallengeDetail,
  type ErrorDetail,
  type MamoriChallengeElement,
  type ResultDetail,
} from 'mamori';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equal<A, B>) => proof;

defineElement();
const element = document.createElement('mamori-challenge');
same<typeof element, MamoriChallengeElement>(true);
element.authentication = 'au_1';
element.clientSecret = 'cs_1';
element.verifier = 'https://safekey.issuer.example';
element.mode = 'dialog';
element.lang = 'ja';
// @ts-expect-error: the element has two modes
element.mode = 'modal';
element.theme = 'dark';
// @ts-expect-error: the colour schemes are light, dark and auto
element.theme = 'dim';
// @ts-expect-error: an attribute's property is a string
element.authentication = 42;

const found = document.querySelector('mamori-challenge');
same<typeof found, MamoriChallengeElement | null>(true);

element.addEventListener('mamori:result', (event) => {
  same<typeof event.detail, ResultDetail>(true);
  const status: 'Y' | 'A' | 'N' | 'U' | 'R' = event.detail.status;
  const token: string = event.detail.resultToken;
  void [status, token];
  // @ts-expect-error: a result has no code
  void event.detail.code;
});
element.addEventListener('mamori:challenge', (event) => {
  same<typeof event.detail, ChallengeDetail>(true);
  const left: number | undefined = event.detail.attemptsLeft;
  void left;
});
element.addEventListener('mamori:resend', (event) => same<typeof event.detail, ChallengeDetail>(true));
element.addEventListener('mamori:error', (event) => {
  same<typeof event.detail, ErrorDetail>(true);
  if (event.detail.fatal && event.detail.retryable) element.remove();
});
element.addEventListener('mamori:cancel', (event) => same<typeof event.detail, ResultDetail>(true));
element.addEventListener('mamori:ready', (event) => same<typeof event.detail, Record<string, never>>(true));
element.addEventListener('mamori:expired', (event) => same<typeof event.detail, Record<string, never>>(true));

// The events bubble: typed where the merchant guide listens for them, too.
document.addEventListener('mamori:result', (event) => same<typeof event.detail, ResultDetail>(true));
window.addEventListener('mamori:error', (event) => same<typeof event.detail, ErrorDetail>(true));
same<HTMLElementEventMap['mamori:result'], CustomEvent<ResultDetail>>(true);

// @ts-expect-error: a misspelt event is an ordinary Event, without `detail`
document.addEventListener('mamori:results', (event) => event.detail);

const handle = await mount(document.body, {
  verifier: 'https://safekey.issuer.example',
  authentication: 'au_1',
  clientSecret: 'cs_1',
  mode: 'inline',
  theme: 'auto',
});
handle.destroy();
void mount(document.body, { verifier: 'https://x.example', authentication: 'au_1', clientSecret: 'cs_1', theme: { accent: '#006fcf' } });
// @ts-expect-error: the colour schemes are light, dark and auto
void mount(document.body, { verifier: 'https://x.example', authentication: 'au_1', clientSecret: 'cs_1', theme: 'dim' });
// @ts-expect-error: the client secret is required
void mount(document.body, { verifier: 'https://safekey.issuer.example', authentication: 'au_1' });

// @ts-expect-error: `window.mamori` is the script tag's, not the npm package's
void window.mamori;
