// The <mamori-challenge> custom element, shared by the script-tag loader and the npm package,
// and how both load the WebAssembly.
//
// Attributes: verifier, authentication, client-secret, lang, mode ("inline" | "dialog"), theme
// ("light" | "dark" | "auto"), each also a property (but `lang`, HTMLElement's own); the
// element mounts the widget when it is connected and destroys it when it is removed, so a
// single-page app can render and drop it like any other element. Events (`mamori:*`) are
// raised on the element itself.
//
// When the widget cannot start, the element raises a fatal `mamori:error`: `network`
// (retryable) when the WebAssembly could not be fetched (offline, DNS, CORS, an error status,
// no answer in time, a hash that does not match), `bad_response` when it arrived but does not
// compile or the loader has no hash to check it with, `invalid_options` when an attribute is
// missing or malformed. Connecting the element again mounts it afresh and
// loads again what failed.

const ATTRIBUTES = ['verifier', 'authentication', 'client-secret', 'lang', 'mode', 'theme'];
const SECRET = 'client-secret';

// How long fetching and compiling the WebAssembly may take, like the widget's own requests.
const LOAD_TIMEOUT_MS = 15000;

// A loader built without the .wasm's integrity hash: it refuses to load rather than run code it
// cannot check, and loading again cannot help.
export class MissingIntegrity extends Error {}
// On the prototype rather than as a class field, which the loader's ES2020 bundle would have to
// emulate with a helper.
MissingIntegrity.prototype.name = 'MissingIntegrity';

// `start(...)` (which fetches and instantiates the WebAssembly) run once for all callers, except
// that a failed load is forgotten: the next call tries again instead of repeating a cached
// rejection. A failure rejects with an Error whose `code` and `retryable` are those of the
// `mamori:error` it stands for.
export function loadOnce(start) {
  let ready;
  const late = () =>
    new Promise((_, reject) => setTimeout(reject, LOAD_TIMEOUT_MS, new Error('no answer in time')));
  return (...args) =>
    (ready ??= Promise.race([start(...args), late()]).catch((error) => {
      ready = undefined;
      // A module that does not compile is the wrong file, or a page whose CSP lacks
      // 'wasm-unsafe-eval'; a loader without the .wasm's hash is a broken build: loading again
      // cannot help. Any other failure (a .wasm whose hash does not match included: the fetch
      // fails alike) is the network's or the server's, and may pass.
      const broken = ['CompileError', 'LinkError', 'MissingIntegrity'].includes(error?.name);
      const message = `mamori: the widget could not be loaded: ${error?.message ?? error}`;
      throw Object.assign(new Error(message, { cause: error }), {
        code: broken ? 'bad_response' : 'network',
        retryable: !broken,
      });
    }));
}

// Defines the element (once) with `mount(element, options) -> Promise<Handle>`; `defaults`
// supplies options the attributes leave out, such as the loader's verifier URL.
export function defineElement(mount, name = 'mamori-challenge', defaults = {}) {
  if (customElements.get(name)) return customElements.get(name);
  class MamoriChallenge extends HTMLElement {
    connectedCallback() {
      const options = { ...defaults };
      for (const attribute of ATTRIBUTES) {
        const value = attribute === SECRET ? this.clientSecret || null : this.getAttribute(attribute);
        if (value !== null) {
          options[camelCase(attribute)] = value;
        }
      }
      const mounting = (this._mounting = mount(this, options));
      mounting.then(
        (handle) => {
          // Removed while the wasm was loading: drop the widget at once.
          if (this._mounting === mounting) this._handle = handle;
          else handle.destroy();
        },
        (error) => {
          // Removed (and maybe added again) while loading: this attempt no longer matters.
          if (this._mounting !== mounting) return;
          const message = String(error?.message ?? error);
          // Load failures carry their code (see `loadOnce`); `mount` itself throws only for
          // options. A DOMException's `code` is a number, not one of ours.
          const ours = typeof error?.code === 'string';
          const detail = {
            code: ours ? error.code : 'invalid_options',
            message,
            fatal: true,
            retryable: ours && error.retryable === true,
          };
          this.dispatchEvent(new CustomEvent('mamori:error', { bubbles: true, detail }));
        },
      );
    }

    disconnectedCallback() {
      this._mounting = undefined;
      this._handle?.destroy();
      this._handle = undefined;
    }
  }
  // Each attribute but `lang` (HTMLElement has it) as a property, so `element.clientSecret = …`
  // before adding the element works like the attribute, and so does a framework (React 19) that
  // sets properties on custom elements. The properties reflect into their attributes, but for
  // the client secret: set as a property it stays out of the DOM, where session-replay and
  // page-serialising scripts read attributes, and wins over the attribute.
  for (const attribute of ATTRIBUTES.filter((a) => a !== 'lang' && a !== SECRET)) {
    Object.defineProperty(MamoriChallenge.prototype, camelCase(attribute), {
      get() {
        return this.getAttribute(attribute) ?? '';
      },
      set(value) {
        this.setAttribute(attribute, value);
      },
    });
  }
  Object.defineProperty(MamoriChallenge.prototype, 'clientSecret', {
    get() {
      return this._clientSecret ?? this.getAttribute(SECRET) ?? '';
    },
    set(value) {
      this._clientSecret = String(value);
    },
  });
  customElements.define(name, MamoriChallenge);
  return MamoriChallenge;
}

// `client-secret` → `clientSecret`: an attribute's option and property name.
function camelCase(attribute) {
  return attribute.replace(/-(\w)/g, (_, c) => c.toUpperCase());
}
