// Calls to the shop's own backend (/demo/shop/*), which holds the merchant key.

// POSTs `body` to /demo/shop/`route`; resolves to the JSON answer, or throws an Error with the
// server's message.
export async function backend(route, body) {
  const response = await fetch(`/demo/shop/${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.message ?? `HTTP ${response.status}`);
  }
  return answer;
}
