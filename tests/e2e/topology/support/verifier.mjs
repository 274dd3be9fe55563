// The verifier as an issuer deploys it: `mamori serve` from a TOML file, on a fixed loopback
// port, with a fresh SQLite database and a secrets file made by `mamori init`, mail over SMTP,
// the widget's files from `widget_dir`. Merchants and cards are set up with the same `mamori`
// commands an operator types. It can be stopped (SIGTERM) and started again on the same port.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { mamoriBin, widgetAssets } from '../../support/env.mjs';
import { until } from '../../support/wait.mjs';
import { freePort } from './net.mjs';

const run = promisify(execFile);

// How long `serve` may take to answer /healthz after it starts.
const START_LIMIT_MS = 30_000;

export async function createVerifier({ smtpPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-topology-'));
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'mamori.toml');
  writeFileSync(
    config,
    `# The topology suite's verifier. Velocity limits are lifted because every purchase comes
# from this one machine, far faster than a person buys; the resend cooldown is short for the
# same reason. Everything else is the production default.
listen = "127.0.0.1:${port}"
public_url = "${url}"
database_url = ${JSON.stringify(`sqlite://${join(dir, 'mamori.db')}`)}
secrets_file = ${JSON.stringify(join(dir, 'secrets.key'))}
widget_dir = ${JSON.stringify(widgetAssets)}

[security]
resend_cooldown = 4

[risk]
velocity_card = 1000
velocity_card_hard = 1000
velocity_device = 1000
velocity_ip = 1000

[mail]
delivery = "smtp"
from = "mamori <no-reply@issuer.example>"
poll_interval = 1
backoff_base = 1

[mail.smtp]
host = "127.0.0.1"
port = ${smtpPort}
tls = "none"
timeout = 5

# The webhook receivers listen on this machine, over plain HTTP: loopback is not a public
# address, so endpoints there need the opt-in a production verifier leaves off. The shortest
# lease, so that an event whose verifier was killed mid-attempt is sent again within seconds.
[webhooks]
allow_private_addresses = true
lease = 3
`,
  );

  // `mamori --config F …args`; resolves to its stdout.
  const cli = async (...args) => (await run(mamoriBin, ['--config', config, ...args], { encoding: 'utf8' })).stdout;

  let child = null;
  let stderr = '';

  const verifier = {
    url,
    config,
    cli,
    // The secrets file, made once, before the first `serve`.
    init: () => cli('init'),
    async addMerchant({ name, origin, sandbox = false }) {
      const out = await cli('merchant', 'add', '--name', name, '--origin', origin, ...(sandbox ? ['--sandbox'] : []));
      const id = /^merchant (m_\S+)$/m.exec(out)?.[1];
      const key = /^secret key \(shown once\): (mamori_sk\.\S+)$/m.exec(out)?.[1];
      if (!id || !key) throw new Error(`unexpected \`merchant add\` output:\n${out}`);
      return { id, key };
    },
    async enroll({ card, email, locale = 'ja', ceiling = 50_000 }) {
      const out = await cli('cardholder', 'enroll', '--card', card, '--email', email, '--locale', locale, '--ceiling', `JPY:${ceiling}`);
      const id = /^cardholder (ch_\S+)\s+card_ref \S+$/m.exec(out)?.[1];
      if (!id) throw new Error(`unexpected \`cardholder enroll\` output:\n${out}`);
      return id;
    },
    block: (id) => cli('cardholder', 'block', id),
    // Resolves once the outbox has delivered (or given up on) every mail queued so far: its
    // `/metrics` shows `mamori_outbox_owed 0`. The SMTP receiver keeps a message before it
    // accepts it, so it then holds all there will be of what was queued until now.
    async drained() {
      await until(
        async () => {
          const response = await fetch(`${url}/metrics`);
          if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
          const owed = /^mamori_outbox_owed (\d+)$/m.exec(await response.text());
          if (!owed) throw new Error('GET /metrics has no mamori_outbox_owed');
          return Number(owed[1]) === 0;
        },
        { what: 'the outbox to drain (mamori_outbox_owed 0)' },
      );
    },
    async start() {
      stderr = '';
      child = spawn(mamoriBin, ['--config', config, 'serve'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, RUST_LOG: 'warn' },
      });
      child.stderr.on('data', (chunk) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      const started = child;
      await until(
        async () => {
          if (started.exitCode !== null) throw new Error(`mamori serve exited (${started.exitCode}):\n${stderr}`);
          return fetch(`${url}/healthz`).then((r) => r.ok, () => false);
        },
        { timeout: START_LIMIT_MS, what: `mamori serve on ${url}` },
      );
    },
    // SIGTERM, as an init system stops it; resolves once the process is gone.
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      child = null;
    },
    // SIGKILL, as a crash or the OOM killer ends it: no shutdown, claims left to lapse.
    async kill() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      child = null;
    },
    async close() {
      await verifier.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return verifier;
}
