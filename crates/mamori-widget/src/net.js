// The verifier's requests over `fetch`: the transport of the real page (`flow.js`).

// POSTs `body` (JSON text) to `url` with the client secret in `authorization`, abandoned by
// `signal`. Resolves to `[status, body]`, the body parsed as JSON or undefined when it is not
// JSON (a proxy's error page is an answer all the same); rejects when there is no whole answer:
// offline, DNS, CORS refusal, a connection cut while the body arrived, or aborted.
export async function post(url, authorization, body, signal) {
  const response = await fetch(url, {
    method: 'POST',
    mode: 'cors',
    // The client secret travels in a header; cookies of the verifier's site must not.
    credentials: 'omit',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Authorization: authorization },
    body,
    signal,
  });
  try {
    return [response.status, await response.json()];
  } catch (error) {
    if (error instanceof SyntaxError) return [response.status, undefined];
    throw error;
  }
}
