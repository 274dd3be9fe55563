// Runs the topology suite (the real deployment: `mamori serve`, SMTP, the shop on another
// origin) once for one way of loading the widget:
//
//   node tests/e2e/topology/run.mjs --widget=script|npm [node --test options…] [files…]
//
// It installs the packed npm package into a project of its own (the shop's backend verifies
// with `mamori/verify` from it) and, for npm, bundles the shop's page with esbuild, then runs
// every tests/*.test.mjs with node's test runner, one file at a time.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const args = process.argv.slice(2);
const chosen = args.find((a) => a.startsWith('--widget='));
process.env.MAMORI_E2E_WIDGET = chosen ? chosen.slice('--widget='.length) : (process.env.MAMORI_E2E_WIDGET ?? 'script');

// Imported after the variable is set: env.mjs reads it once.
const { npmPackage, widget } = await import('../support/env.mjs');
const { bundleDir, projectDir } = await import('./support/env.mjs');
const { build } = await import('esbuild');

if (!existsSync(join(npmPackage, 'package.json'))) {
  throw new Error(`no npm package at ${npmPackage}; build it with \`cargo xtask package\``);
}

// The merchant's project: `mamori` installed from the packed tarball, as `npm install` of a
// release would (no dependencies, so offline; no install scripts).
rmSync(projectDir, { recursive: true, force: true });
mkdirSync(projectDir, { recursive: true });
const npm = (...npmArgs) => execFileSync('npm', npmArgs, { cwd: projectDir, encoding: 'utf8' });
const [packed] = JSON.parse(npm('pack', npmPackage, '--json', '--pack-destination', projectDir));
writeFileSync(join(projectDir, 'package.json'), '{"name":"topology-shop","private":true,"type":"module"}');
npm('install', join(projectDir, packed.filename), '--offline', '--ignore-scripts', '--no-audit', '--no-fund');

if (widget === 'npm') {
  rmSync(bundleDir, { recursive: true, force: true });
  await build({
    entryPoints: [join(here, 'shop/bundle.js')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    outfile: join(bundleDir, 'shop.js'),
    nodePaths: [join(projectDir, 'node_modules')],
    logLevel: 'warning',
  });
  // Where the package's `new URL(…, import.meta.url)` looks for it: next to the bundle.
  cpSync(join(projectDir, 'node_modules/mamori/widget/mamori_widget_bg.wasm'), join(bundleDir, 'mamori_widget_bg.wasm'));
}

const named = args.filter((a) => a.endsWith('.test.mjs'));
const options = args.filter((a) => a !== chosen && !named.includes(a));
const files = named.length
  ? named
  : readdirSync(join(here, 'tests'))
      .filter((name) => name.endsWith('.test.mjs'))
      .sort()
      .map((name) => join(here, 'tests', name));
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...options, ...files], {
  stdio: 'inherit',
  env: process.env,
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
