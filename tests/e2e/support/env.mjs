// Where the suite finds what it drives, each overridable from the environment so `cargo xtask
// test` (and anyone else) can point it at other builds.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// How the shop page loads the widget: `script` (the script tag, /widget/mamori.js) or `npm`
// (a page bundled by esbuild that imports `mamori` from the packed npm package).
export const widget = process.env.MAMORI_E2E_WIDGET ?? 'script';
if (!['script', 'npm'].includes(widget)) {
  throw new Error(`MAMORI_E2E_WIDGET must be "script" or "npm", not ${JSON.stringify(widget)}`);
}

// The verifier binary (`cargo build -p mamori-server` puts it here).
export const mamoriBin = process.env.MAMORI_BIN ?? join(root, 'target/debug/mamori');

// The script-tag build and the npm package, both made by `cargo xtask package`.
export const widgetAssets = process.env.MAMORI_WIDGET_ASSETS ?? join(root, 'target/www');
export const npmPackage = process.env.MAMORI_NPM_PACKAGE ?? join(root, 'target/npm/mamori');

// An assets directory already assembled by run.mjs for this variant, if any.
export const preparedAssets = process.env.MAMORI_E2E_ASSETS;

// Screenshots and other files worth keeping from a run.
export const artifacts = process.env.MAMORI_E2E_ARTIFACTS ?? join(root, 'target/e2e-artifacts');

export const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
