// A live verifier for one test file: `mamori demo` on a free loopback port with a fresh data
// directory and the suite's configuration, plus cardholders enrolled through the real CLI.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

import { mamoriBin } from './env.mjs';

const run = promisify(execFile);

// How long the verifier may take to print its address.
const START_LIMIT_MS = 30_000;

// Settings for every run. Velocity limits are lifted because every test buys from the same
// machine (one IP, one fingerprint), far faster than a person would; the cooldown is short so
// the resend test need not wait 30 s. Everything else keeps the production defaults.
const BASE = {
  security: { resend_cooldown: 4 },
  risk: {
    velocity_card: 1000,
    velocity_card_hard: 1000,
    velocity_device: 1000,
    velocity_ip: 1000,
  },
};

// Starts a verifier serving `assets`; `security` overrides lifetimes for a test that needs them.
export async function startVerifier({ assets, security = {} }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'mamori-e2e-'));
  const config = join(dataDir, 'mamori.toml');
  writeFileSync(config, toml(dataDir, { ...BASE, security: { ...BASE.security, ...security } }));
  const child = spawn(
    mamoriBin,
    ['--config', config, 'demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--assets-dir', assets],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  // Kept for the error message should the verifier die.
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mamori demo printed no address:\n${stderr}`)), START_LIMIT_MS);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`mamori demo exited (${code}):\n${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const found = /^mamori demo verifier on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
  });
  child.removeAllListeners('exit');

  return {
    url,
    // Enrolls a card with `mamori cardholder enroll`, on the database the demo is serving.
    async enroll({ card, email, locale = 'ja', ceiling = 50_000 }) {
      const args = ['--config', config, 'cardholder', 'enroll', '--card', card, '--email', email];
      await run(mamoriBin, [...args, '--locale', locale, '--ceiling', `JPY:${ceiling}`]);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// The configuration file: the data directory's database and secrets (so the CLI and the demo
// share them) and the overrides.
function toml(dataDir, sections) {
  const lines = [
    `database_url = ${JSON.stringify(`sqlite://${join(dataDir, 'mamori.db')}`)}`,
    `secrets_file = ${JSON.stringify(join(dataDir, 'secrets.key'))}`,
  ];
  for (const [section, values] of Object.entries(sections)) {
    lines.push(`[${section}]`);
    for (const [name, value] of Object.entries(values)) lines.push(`${name} = ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
