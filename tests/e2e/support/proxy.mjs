// A plain HTTP reverse proxy on another loopback address, so the shop can be opened from an
// origin the demo merchant never registered (http://127.0.0.2:…). Requests go to the verifier
// unchanged, `Origin` header included, as they would from a shop's own domain.

import { request as forward, createServer } from 'node:http';

export async function startProxy(target, host = '127.0.0.2') {
  const { hostname, port } = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const upstream = forward(
      { hostname, port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: `${hostname}:${port}` } },
      (answer) => {
        outgoing.writeHead(answer.statusCode, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => outgoing.destroy(error));
    incoming.pipe(upstream);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return {
    origin: `http://${host}:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
