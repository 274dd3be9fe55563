// Free loopback ports, chosen before the process that will listen on them starts: the verifier
// must know its own URL in its configuration, and the merchant's origin (with its port) is
// registered before the shop runs. The port is released at once; on loopback nothing else here
// takes it in the moment between.

import { createServer } from 'node:net';

export function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
