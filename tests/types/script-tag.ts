/// <reference types="mamori/script-tag" />

// A page that loads the widget by script tag and imports nothing: `window.mamori` (whose
// `verifier` defaults to the script tag's), the element and its events, all from the one
// reference above.

export {};

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equal<A, B>) => proof;

const pay = document.querySelector<HTMLElement>('#pay');
if (pay) {
  const handle = await window.mamori.mount(pay, { authentication: 'au_1', clientSecret: 'cs_1' });
  handle.destroy();
  // @ts-expect-error: the mode is inline or dialog
  void window.mamori.mount(pay, { authentication: 'au_1', clientSecret: 'cs_1', mode: 'modal' });
}
await window.mamori.load();

const element = document.createElement('mamori-challenge');
element.clientSecret = 'cs_1';
element.addEventListener('mamori:result', (event) => {
  same<typeof event.detail.status, 'Y' | 'A' | 'N' | 'U' | 'R'>(true);
});
document.addEventListener('mamori:error', (event) => {
  const retry: boolean = event.detail.retryable;
  void retry;
});
