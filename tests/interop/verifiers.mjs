// The three verification snippets of the merchant guide as commands: each takes cases
// `{token, keys, audience, order, now?}` on stdin, one JSON object a line, and answers one
// `{ok: claims}` or `{error: message}` a line. Used by interop.test.mjs (golden vectors) and
// by the topology suite (a live token from a real purchase).

import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

// The Python with PyJWT installed: `cargo xtask test` makes this venv.
export const python = process.env.MAMORI_INTEROP_PYTHON ?? join(root, 'target/interop/venv/bin/python');

// Each snippet: its file (whose readme region the guide shows) and how to run it.
export const VERIFIERS = {
  jose: { file: join(here, 'verify_jose.mjs'), command: [process.execPath, join(here, 'verify_jose.mjs')] },
  pyjwt: { file: join(here, 'verify_pyjwt.py'), command: [python, join(here, 'verify_pyjwt.py')] },
  hmac: { file: join(here, 'verify_hmac.py'), command: [python, join(here, 'verify_hmac.py')] },
};

// Runs `name` over `cases` in one process and returns its verdicts, in order.
export function verify(name, cases) {
  const [program, ...args] = VERIFIERS[name].command;
  return new Promise((done, fail) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', fail);
    child.once('exit', (code) => {
      const lines = stdout.split('\n').filter(Boolean);
      if (code !== 0 || lines.length !== cases.length) {
        fail(new Error(`${name} exited ${code} with ${lines.length} verdicts for ${cases.length} cases:\n${stderr}`));
      } else {
        done(lines.map((line) => JSON.parse(line)));
      }
    });
    child.stdin.end(cases.map((c) => `${JSON.stringify(c)}\n`).join(''));
  });
}

// The lines between `readme:begin` and `readme:end` in a snippet file, as the guide shows them.
export function readmeRegion(source) {
  const found = /^.*readme:begin\n([\s\S]*?)^.*readme:end$/m.exec(source);
  if (!found) throw new Error('no readme:begin … readme:end region');
  return found[1];
}
