// The directory `mamori demo --assets-dir` serves at /assets/: the widget's script-tag build,
// the demo shop (www/demo), the suite's own pages (pages/) and, for the npm variant, the shop
// bundled with the npm package.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build } from 'esbuild';

import { npmPackage, preparedAssets, root, widget, widgetAssets } from './env.mjs';

// Where the shop page is, for each way of loading the widget.
export const shopPath = { script: '/assets/demo/', npm: '/assets/bundle/' }[widget];

// The suite's page that mounts `<mamori-challenge>` from the pinned script tag, whatever the run.
export const elementPath = '/assets/element/';

// The suite's checkout pages built with the npm package's React and Vue components (npm run
// only), by framework.
export const frameworkPaths = { react: '/assets/react/', vue: '/assets/vue/' };

// The assets directory for this run: the one run.mjs prepared, or a fresh one.
export async function assets() {
  if (preparedAssets) return preparedAssets;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-e2e-assets-'));
  await assemble(dir, widget);
  return dir;
}

// Fills `dir` (emptied first) with everything the `variant` needs.
export async function assemble(dir, variant) {
  for (const file of ['mamori.js', 'manifest.json']) {
    if (!existsSync(join(widgetAssets, file))) {
      throw new Error(`${join(widgetAssets, file)} is missing; build it with \`cargo xtask package\``);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(widgetAssets, dir, { recursive: true });
  cpSync(join(root, 'www/demo'), join(dir, 'demo'), { recursive: true });
  elementPage(dir);
  if (variant === 'npm') await bundle(dir);
}

// The element page, its script tag pinned to the release in `dir` as the guide shows it: the
// content-addressed name and its `integrity` from manifest.json. Called again by a test that
// changes the release (its script, and so its hash).
export function elementPage(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const page = readFileSync(join(root, 'tests/e2e/pages/element/index.html'), 'utf8')
    .replace('__SCRIPT__', manifest.script)
    .replace('__INTEGRITY__', manifest.integrity);
  mkdirSync(join(dir, 'element'), { recursive: true });
  cpSync(join(root, 'tests/e2e/pages/element/checkout.js'), join(dir, 'element/checkout.js'));
  writeFileSync(join(dir, 'element/index.html'), page);
}

// The shop as a merchant using a bundler ships it: `mamori` installed from the packed npm
// package into a fresh project, the page's code bundled by esbuild into `dir/bundle`, the
// widget's .wasm copied next to the bundle (where the package's `new URL(…, import.meta.url)`
// looks for it). The React and Vue pages (pages/react, pages/vue) likewise, into `dir/react`
// and `dir/vue`, with the frameworks from this suite's own packages.
async function bundle(dir) {
  const out = join(dir, 'bundle');
  if (!existsSync(join(npmPackage, 'package.json'))) {
    throw new Error(`no npm package at ${npmPackage}; build it with \`cargo xtask package\``);
  }
  const project = mkdtempSync(join(tmpdir(), 'mamori-e2e-npm-'));
  try {
    const npm = (args) => execFileSync('npm', args, { cwd: project, encoding: 'utf8' });
    const packed = JSON.parse(npm(['pack', npmPackage, '--json', '--pack-destination', project]));
    writeFileSync(join(project, 'package.json'), '{"name":"shop","private":true,"type":"module"}');
    // The tarball has no dependencies, so this works offline; no install scripts run.
    npm(['install', join(project, packed[0].filename), '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: [join(root, 'tests/e2e/bundle/entry.js')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      outfile: join(out, 'shop.js'),
      nodePaths: [join(project, 'node_modules')],
      logLevel: 'warning',
    });
    cpSync(join(project, 'node_modules/mamori/widget/mamori_widget_bg.wasm'), join(out, 'mamori_widget_bg.wasm'));
    for (const [framework, entry] of [['react', 'checkout.jsx'], ['vue', 'checkout.js']]) {
      const pages = join(root, 'tests/e2e/pages', framework);
      const target = join(dir, framework);
      await build({
        entryPoints: [join(pages, entry)],
        bundle: true,
        format: 'esm',
        target: 'es2022',
        minify: true,
        jsx: 'automatic',
        outfile: join(target, 'checkout.js'),
        nodePaths: [join(project, 'node_modules'), join(root, 'tests/e2e/node_modules')],
        // React's development build, whose <StrictMode> mounts every effect twice; Vue's
        // production build with the flags its bundler build asks for.
        define: {
          'process.env.NODE_ENV': framework === 'react' ? '"development"' : '"production"',
          __VUE_OPTIONS_API__: 'true',
          __VUE_PROD_DEVTOOLS__: 'false',
          __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
        },
        logLevel: 'warning',
      });
      cpSync(join(out, 'mamori_widget_bg.wasm'), join(target, 'mamori_widget_bg.wasm'));
      cpSync(join(pages, 'index.html'), join(target, 'index.html'));
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
  // The same page as the script-tag shop, with the widget's block swapped for the bundle.
  const page = readFileSync(join(root, 'www/demo/index.html'), 'utf8');
  const swapped = page.replace(
    /<!-- widget:begin[\s\S]*?<!-- widget:end -->/,
    '<script type="module" src="/assets/bundle/shop.js"></script>',
  );
  if (swapped === page) throw new Error('www/demo/index.html lost its widget:begin/end markers');
  writeFileSync(join(out, 'index.html'), swapped);
}
