// A webhook receiver as a merchant's or an issuer's backend runs it: a small Node HTTP server
// on 127.0.0.1 that verifies every delivery with the `standardwebhooks` package (the Standard
// Webhooks reference library) and keeps what it accepted and what it refused.

import { createServer } from 'node:http';

import { Webhook } from 'standardwebhooks';

// A receiver on 127.0.0.1: verifies each request with the endpoint's secret and keeps what it
// accepted; answers 503 (`Retry-After: 1`) while `unavailable`, and answers nothing while
// `holding` (the request stays open until `release()`).
export async function startReceiver() {
  const receiver = { secret: null, unavailable: false, holding: false, attempts: [], delivered: [], refused: [] };
  const held = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = request.headers['webhook-id'];
      receiver.attempts.push(id);
      if (receiver.holding) {
        held.push(response);
        return;
      }
      if (receiver.unavailable) {
        response.writeHead(503, { 'retry-after': '1' }).end();
        return;
      }
      try {
        const event = new Webhook(receiver.secret).verify(body, request.headers);
        receiver.delivered.push({ id, ...event });
        response.writeHead(204).end();
      } catch (error) {
        receiver.refused.push(`${id}: ${error.message}`);
        response.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${server.address().port}/hooks`;
  receiver.release = () => {
    receiver.holding = false;
    for (const response of held.splice(0)) response.destroy();
  };
  receiver.close = () => new Promise((resolve) => server.close(resolve));
  receiver.of = (type) => receiver.delivered.filter((d) => d.type === type);
  return receiver;
}
