// The <mamori-challenge> custom element, shared by the script-tag loader and the npm package.
//
// Attributes: verifier, authentication, client-secret, lang, mode ("inline" | "dialog"); the
// element mounts the widget when it is connected and destroys it when it is removed, so a
// single-page app can render and drop it like any other element. Events (`mamori:*`) are
// raised on the element itself.

const ATTRIBUTES = ['verifier', 'authentication', 'client-secret', 'lang', 'mode'];

// Defines the element (once) with `mount(element, options) -> Promise<Handle>`; `defaults`
// supplies options the attributes leave out, such as the loader's verifier URL.
export function defineElement(mount, name = 'mamori-challenge', defaults = {}) {
  if (customElements.get(name)) return customElements.get(name);
  class MamoriChallenge extends HTMLElement {
    connectedCallback() {
      const options = { ...defaults };
      for (const attribute of ATTRIBUTES) {
        const value = this.getAttribute(attribute);
        if (value !== null) {
          options[attribute.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
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
          const message = String(error?.message ?? error);
          const detail = { code: 'invalid_options', message, fatal: true };
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
  customElements.define(name, MamoriChallenge);
  return MamoriChallenge;
}
