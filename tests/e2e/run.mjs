// Runs the end-to-end suite once for one way of loading the widget:
//
//   node tests/e2e/run.mjs --widget=script|npm [node --test options…] [files…]
//
// It assembles the assets directory once (the npm variant packs, installs and bundles), then
// runs every tests/*.test.mjs with node's test runner, one file at a time: each file starts
// its own verifier and browser, and the machine has few cores. The framework components'
// file runs in the npm run only.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const chosen = args.find((a) => a.startsWith('--widget='));
process.env.MAMORI_E2E_WIDGET = chosen ? chosen.slice('--widget='.length) : (process.env.MAMORI_E2E_WIDGET ?? 'script');

// Imported after the variable is set: env.mjs reads it once.
const { assemble } = await import('./support/assets.mjs');
const { artifacts, root, widget } = await import('./support/env.mjs');

const assets = join(root, 'target/e2e', widget, 'assets');
await assemble(assets, widget);
// This variant's screenshots from an earlier run go, so none left over passes for new.
for (const name of existsSync(artifacts) ? readdirSync(artifacts) : []) {
  if (name.endsWith(`-${widget}.png`)) rmSync(join(artifacts, name));
}

// Test files of the npm package's framework components, whose pages only the npm run builds.
const NPM_ONLY = ['frameworks.test.mjs'];

// Test files named on the command line, or all of them that this run's pages serve.
const named = args.filter((a) => a.endsWith('.test.mjs'));
const options = args.filter((a) => a !== chosen && !named.includes(a));
const files = named.length
  ? named
  : readdirSync(join(here, 'tests'))
      .filter((name) => name.endsWith('.test.mjs'))
      .filter((name) => widget === 'npm' || !NPM_ONLY.includes(name))
      .sort()
      .map((name) => join(here, 'tests', name));
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...options, ...files], {
  stdio: 'inherit',
  env: { ...process.env, MAMORI_E2E_ASSETS: assets },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
