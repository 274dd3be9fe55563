// `mamori/react`: the widget as a React component.
//
//   <MamoriChallenge verifier="https://safekey.issuer.example" authentication={id}
//                    clientSecret={secret} onResult={({ resultToken }) => …} />
//
// It renders a <div> and mounts the widget in it after the render is committed; unmounting the
// component, or changing an option, destroys the widget (every node, listener and timer) and
// mounts anew. Callbacks may change on every render without remounting.

import { createElement, useEffect, useRef } from 'react';

import { attach } from './lifecycle.js';

export function MamoriChallenge({
  verifier,
  authentication,
  clientSecret,
  lang,
  mode,
  theme,
  onReady,
  onChallenge,
  onResend,
  onResult,
  onError,
  onExpired,
  onCancel,
  ...attributes
}) {
  const host = useRef(null);
  const callbacks = useRef(null);
  callbacks.current = {
    ready: onReady,
    challenge: onChallenge,
    resend: onResend,
    result: onResult,
    error: onError,
    expired: onExpired,
    cancel: onCancel,
  };
  // The options by value: a `theme` object written inline is new on every render, and must
  // not remount the widget each time. Options left out stay out (JSON drops `undefined`).
  const options = JSON.stringify({ verifier, authentication, clientSecret, lang, mode, theme });
  useEffect(
    () => attach(host.current, JSON.parse(options), (name, detail) => callbacks.current[name]?.(detail)),
    [options],
  );
  return createElement('div', { ...attributes, ref: host });
}
