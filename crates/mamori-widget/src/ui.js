// The challenge UI's DOM, for `ui.rs`: built from one template inside a Shadow DOM, and redrawn
// in one call. Written here because building and updating DOM is what the browser does natively:
// through wasm-bindgen every property set is a call with its own glue.

// The frame's contents, after its opening tag name and up to its closing tag name. Texts are set
// afterwards, as text, so nothing translated is ever parsed as HTML.
const TEMPLATE =
  ' part=frame data-mamori=frame aria-labelledby=mamori-title>' +
  '<section part=challenge data-mamori=challenge hidden>' +
  '<h2 part=title data-mamori=title id=mamori-title></h2>' +
  '<p part=intro data-mamori=intro id=mamori-intro></p>' +
  '<form part=form data-mamori=form novalidate>' +
  '<label part=label data-mamori=label for=mamori-code></label>' +
  '<input part=code data-mamori=code id=mamori-code type=text inputmode=numeric ' +
  'autocomplete=one-time-code autocapitalize=off spellcheck=false enterkeyhint=done ' +
  'aria-describedby="mamori-intro mamori-countdown">' +
  '<button part=submit data-mamori=submit type=submit></button></form>' +
  '<p part=countdown data-mamori=countdown id=mamori-countdown></p>' +
  '<div part=actions data-mamori=actions>' +
  '<button part=resend data-mamori=resend type=button></button>' +
  '<button part=cancel data-mamori=cancel type=button></button></div></section>' +
  '<p part=status data-mamori=status role=status aria-live=polite aria-atomic=true></p></';

// The nodes `build` answers, in this order (after the root).
const NODES = ['frame', 'challenge', 'intro', 'form', 'code', 'submit', 'resend', 'cancel', 'countdown', 'status'];

// Builds the UI in `host`: a `<div data-mamori=root lang>` with an open shadow root holding the
// frame (`frame`: `div` inline, `dialog` in dialog mode), styled by `css`. `texts` are
// `[lang, title, label, submit, resend, cancel]`; `theme` is `[name, value, …]` of CSS custom
// properties set on the root; `maxLength` bounds the input. Answers `[root, ...NODES]`.
export function build(host, frame, css, texts, theme, maxLength) {
  const root = host.ownerDocument.createElement('div');
  root.setAttribute('data-mamori', 'root');
  root.setAttribute('lang', texts[0]);
  for (let i = 0; i < theme.length; i += 2) root.style.setProperty(theme[i], theme[i + 1]);
  const shadow = root.attachShadow({ mode: 'open' });
  // A constructed stylesheet is not subject to the page's `style-src`, so a merchant's strict
  // CSP needs no 'unsafe-inline' for the widget; older browsers get a <style>.
  let adopted = false;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
    adopted = true;
  } catch {}
  shadow.innerHTML = `${adopted ? '' : `<style>${css}</style>`}<${frame}${TEMPLATE}${frame}>`;
  const find = (name) => shadow.querySelector(`[data-mamori=${name}]`);
  ['title', 'label', 'submit', 'resend', 'cancel'].forEach((name, i) => {
    find(name).textContent = texts[i + 1];
  });
  find('code').maxLength = maxLength;
  host.appendChild(root);
  return [root, ...NODES.map(find)];
}

// Calls `action(0)` on the form's submit (never navigating), `action(1)` on a click of resend,
// `action(2)` on a click of cancel and `action(2)` on the dialog's Escape `cancel` (which would
// close the dialog; here it cancels the authentication instead, so the merchant always hears
// how it ended). `dialog` is null inline. Answers the function that removes every listener.
export function listen(form, resend, cancel, dialog, action) {
  const listeners = [
    [form, 'submit', 0, true],
    [resend, 'click', 1, false],
    [cancel, 'click', 2, false],
    [dialog, 'cancel', 2, true],
  ]
    .filter(([target]) => target)
    .map(([target, kind, code, prevent]) => {
      const listener = (event) => {
        if (prevent) event.preventDefault();
        action(code);
      };
      target.addEventListener(kind, listener);
      return () => target.removeEventListener(kind, listener);
    });
  return () => listeners.forEach((remove) => remove());
}

// Sets an element's text only when it changed, so a ticking countdown does not make screen
// readers re-read a focused button every second.
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// Redraws the countdown and the controls: `resendOpen`, `submitOpen` and `cancelOpen` enable
// those buttons; `busy` marks the submit button `aria-busy`; `locked` makes the input read-only.
export function render(nodes, countdown, resendText, resendOpen, submitOpen, cancelOpen, busy, locked) {
  const [, , , , , input, submit, resend, cancel, countdownNode] = nodes;
  setText(countdownNode, countdown);
  setText(resend, resendText);
  resend.disabled = !resendOpen;
  submit.disabled = !submitOpen;
  cancel.disabled = !cancelOpen;
  submit.setAttribute('aria-busy', String(busy));
  input.readOnly = locked;
}
