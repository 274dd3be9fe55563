// What the React and Vue components share: mount the widget in a host element the framework
// owns, pass its `mamori:*` events on, and take everything away again. Not part of the
// package's exports.

import { load, mount } from './index.js';

// Each event's name without the `mamori:` prefix, as the components name their callbacks
// (`onResult`) and emits (`result`).
export const EVENTS = ['ready', 'challenge', 'resend', 'result', 'error', 'expired', 'cancel'];

// Mounts the widget in `host` with `options` and calls `notify(name, detail)` for each of its
// events; returns `stop()`, which destroys the widget and removes the listeners. `stop` may
// come at any time, also before the WebAssembly has loaded: then nothing is mounted at all, so
// a component mounted, unmounted and mounted again at once (React's StrictMode) starts one
// device check, not two. A failure to load or to mount reaches `notify('error', …)` as the
// fatal `mamori:error` detail the element would raise.
export function attach(host, options, notify) {
  let stopped = false;
  let handle;
  const listeners = EVENTS.map((name) => {
    const listener = (event) => notify(name, event.detail);
    host.addEventListener(`mamori:${name}`, listener);
    return [`mamori:${name}`, listener];
  });
  load()
    .then(() => (stopped ? undefined : mount(host, options)))
    .then(
      (mounted) => {
        if (stopped) mounted?.destroy();
        else handle = mounted;
      },
      (error) => {
        if (stopped) return;
        // Load failures carry their code and `retryable`; `mount` itself throws only a
        // TypeError for options.
        const ours = typeof error?.code === 'string';
        notify('error', {
          code: ours ? error.code : 'invalid_options',
          message: String(error?.message ?? error),
          fatal: true,
          retryable: ours && error.retryable === true,
        });
      },
    );
  return () => {
    stopped = true;
    handle?.destroy();
    handle = undefined;
    for (const [type, listener] of listeners) host.removeEventListener(type, listener);
  };
}
