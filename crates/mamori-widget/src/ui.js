// The challenge UI: its DOM inside a Shadow DOM, its stylesheet, and the small updates the flow
// makes to it.
//
// The shadow root hangs off a `<div data-mamori="root">` that the widget adds to the merchant's
// element and removes on destroy, so mounting again on the same element works and nothing of
// ours is left behind. Every node the merchant or a test may want carries a `part` (for
// `::part()` styling) and a `data-mamori` attribute (a stable selector); the stylesheet reads
// only `--mamori-*` custom properties, which inherit into the shadow tree from the page.

// The widget's stylesheet. Its own colours are `--_*` defaults that a `--mamori-*` property of
// the page overrides, and follow `prefers-color-scheme` where `light-dark()` exists.
const CSS = `:host{color-scheme:var(--mamori-color-scheme,light dark);--_text:#1b1b1b;--_background:#fff;--_border:#c9ced6;--_input-background:#fff;--_accent:#006fcf;--_accent-text:#fff;--_muted:#555;--_error:#b3261e;--_success:#1e7b34;--_focus:#1a73e8;display:block;color:var(--mamori-text,var(--_text));font:var(--mamori-font-size,16px)/1.5 var(--mamori-font,system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif)}
@supports (color:light-dark(#000,#fff)){:host{--_text:light-dark(#1b1b1b,#e8eaed);--_background:light-dark(#fff,#1f2023);--_border:light-dark(#c9ced6,#4a4f57);--_input-background:light-dark(#fff,#2a2c30);--_accent:light-dark(#006fcf,#7cb8ff);--_accent-text:light-dark(#fff,#0b1b2e);--_muted:light-dark(#555,#a9aeb5);--_error:light-dark(#b3261e,#ff8a80);--_success:light-dark(#1e7b34,#7fd69a);--_focus:light-dark(#1a73e8,#8ab4f8)}}
[hidden]{display:none!important}
[part~=frame]{box-sizing:border-box;max-width:26rem;padding:1.25rem;border:1px solid var(--mamori-border,var(--_border));border-radius:var(--mamori-radius,.5rem);background:var(--mamori-background,var(--_background));color:inherit}
dialog[part~=frame]{width:min(26rem,calc(100vw - 2rem))}
dialog::backdrop{background:var(--mamori-backdrop,rgb(0 0 0/.45))}
h2{margin:0 0 .5rem;font-size:1.25em}
p{margin:.5rem 0}
form{display:grid;gap:.5rem;margin:.75rem 0}
label{font-weight:600}
input{box-sizing:border-box;width:100%;padding:.6rem .75rem;border:1px solid var(--mamori-border,#8a919c);border-radius:var(--mamori-radius,.5rem);background:var(--mamori-input-background,var(--_input-background));color:inherit;font:inherit;font-size:1.4em;letter-spacing:.3em;font-variant-numeric:tabular-nums}
input[aria-invalid=true]{border-color:var(--mamori-error,var(--_error))}
button{min-height:2.75rem;padding:.5rem 1rem;border:1px solid var(--mamori-accent,var(--_accent));border-radius:var(--mamori-radius,.5rem);background:transparent;color:var(--mamori-accent,var(--_accent));font:inherit;cursor:pointer}
button[type=submit]{background:var(--mamori-accent,var(--_accent));color:var(--mamori-accent-text,var(--_accent-text))}
button:disabled{opacity:.55;cursor:not-allowed}
:focus-visible{outline:3px solid var(--mamori-focus,var(--_focus));outline-offset:2px}
[part~=actions]{display:flex;flex-wrap:wrap;gap:.5rem}
[part~=countdown]{font-variant-numeric:tabular-nums;color:var(--mamori-muted,var(--_muted))}
[part~=status]:empty{display:none}
[part~=status][data-tone=error]{color:var(--mamori-error,var(--_error));font-weight:600}
[part~=status][data-tone=success]{color:var(--mamori-success,var(--_success))}`;

// The frame's contents, after its opening tag name and up to its closing tag name. Texts are set
// afterwards, as text, so nothing translated is ever parsed as HTML; so is each node's `part`,
// the same name as its `data-mamori`.
const TEMPLATE =
  ' data-mamori=frame aria-labelledby=mamori-title>' +
  '<section data-mamori=challenge hidden>' +
  '<h2 data-mamori=title id=mamori-title></h2>' +
  '<p data-mamori=intro id=mamori-intro></p>' +
  '<form data-mamori=form novalidate>' +
  '<label data-mamori=label for=mamori-code></label>' +
  '<input data-mamori=code id=mamori-code type=text inputmode=numeric ' +
  'autocomplete=one-time-code autocapitalize=off spellcheck=false enterkeyhint=done ' +
  'aria-describedby="mamori-intro mamori-countdown">' +
  '<button data-mamori=submit type=submit></button></form>' +
  '<p data-mamori=countdown id=mamori-countdown></p>' +
  '<div data-mamori=actions>' +
  '<button data-mamori=resend type=button></button>' +
  '<button data-mamori=cancel type=button></button></div></section>' +
  '<p data-mamori=status role=status aria-live=polite aria-atomic=true></p></';

// Sets an element's text only when it changed, so a ticking countdown does not make screen
// readers re-read a focused button every second.
const setText = (element, text) => {
  if (element.textContent !== text) element.textContent = text;
};

// Builds the UI in `host`: a `<div data-mamori=root lang>` with an open shadow root holding the
// frame (a `<dialog>` when `dialog`, else a `<div>`), in `texts`' language, with `theme`'s
// `[name, value]` custom properties set on the root and the input bounded to `maxLength`.
// Answers the UI's operations; throws when the DOM refuses (a host that cannot have children).
export function build(host, dialog, texts, theme, maxLength) {
  const root = host.ownerDocument.createElement('div');
  root.setAttribute('data-mamori', 'root');
  root.setAttribute('lang', texts.lang);
  for (const [name, value] of theme) root.style.setProperty(name, value);
  const shadow = root.attachShadow({ mode: 'open' });
  // A constructed stylesheet is not subject to the page's `style-src`, so a merchant's strict
  // CSP needs no 'unsafe-inline' for the widget; older browsers get a <style>.
  let adopted = false;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
    adopted = true;
  } catch {}
  const frame = dialog ? 'dialog' : 'div';
  shadow.innerHTML = `${adopted ? '' : `<style>${CSS}</style>`}<${frame}${TEMPLATE}${frame}>`;
  // `part` is a DOMTokenList whose assignment sets its value.
  for (const node of shadow.querySelectorAll('[data-mamori]')) node.part = node.dataset.mamori;
  const find = (name) => shadow.querySelector(`[data-mamori=${name}]`);
  for (const name of ['title', 'label', 'submit', 'resend', 'cancel']) find(name).textContent = texts[name];
  const [frameNode, challenge, intro, form, input, submit, resend, cancel, countdown, status] = [
    'frame', 'challenge', 'intro', 'form', 'code', 'submit', 'resend', 'cancel', 'countdown', 'status',
  ].map(find);
  input.maxLength = maxLength;
  host.appendChild(root);
  const modal = dialog ? frameNode : undefined;
  const close = () => modal?.close();
  return {
    // Calls `action('submit')` on the form's submit (never navigating), `action('resend')` and
    // `action('cancel')` on clicks of those buttons, and `action('cancel')` on the dialog's
    // Escape `cancel` (which would close the dialog; here it cancels the authentication instead,
    // so the merchant always hears how it ended). Answers the function that removes them all.
    listen(action) {
      const removers = [
        [form, 'submit', 'submit', true],
        [resend, 'click', 'resend', false],
        [cancel, 'click', 'cancel', false],
        [modal, 'cancel', 'cancel', true],
      ]
        .filter(([target]) => target)
        .map(([target, kind, name, prevent]) => {
          const listener = (event) => {
            if (prevent) event.preventDefault();
            action(name);
          };
          target.addEventListener(kind, listener);
          return () => target.removeEventListener(kind, listener);
        });
      return () => removers.forEach((remove) => remove());
    },
    // Redraws the countdown and the controls: `resendOpen`, `submitOpen` and `cancelOpen` enable
    // those buttons; `busy` marks the submit button `aria-busy`; `locked` makes the input
    // read-only.
    render({ countdownText, resendText, resendOpen, submitOpen, cancelOpen, busy, locked }) {
      setText(countdown, countdownText);
      setText(resend, resendText);
      resend.disabled = !resendOpen;
      submit.disabled = !submitOpen;
      cancel.disabled = !cancelOpen;
      submit.setAttribute('aria-busy', String(busy));
      input.readOnly = locked;
    },
    // Shows the challenge with `introText` (opening the dialog in dialog mode) and moves focus to
    // the input.
    showChallenge(introText) {
      setText(intro, introText);
      challenge.hidden = false;
      // `showModal` throws only when the dialog is not connected; inline focus still works then.
      try {
        if (modal && !modal.open) modal.showModal();
      } catch {}
      input.focus();
    },
    // Hides the challenge once the authentication is over.
    endChallenge() {
      challenge.hidden = true;
      close();
    },
    // Puts `text` in the live region, where screen readers announce it, in `tone` (`info`,
    // `error` or `success`).
    announce(text, tone) {
      status.setAttribute('data-tone', tone);
      status.textContent = text;
    },
    // Marks the input as holding a refused code, or not.
    setInvalid(invalid) {
      if (invalid) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
    // What the cardholder typed, pasted or autofilled.
    value: () => input.value,
    // Empties the input, for the next code.
    clearInput() {
      input.value = '';
    },
    focusInput: () => input.focus(),
    // Takes the UI out of the page; the shadow tree goes with its host.
    remove() {
      close();
      root.remove();
    },
  };
}
