// The type test of the npm package's declarations: the package as a merchant gets it (`npm
// pack` of the built package, unpacked into node_modules/mamori here, beside the pinned
// TypeScript, React types and Vue), then `tsc --noEmit` over one small program per way of using
// it. Each program holds `@ts-expect-error` lines for wrong uses, which fail the compile when
// a declaration grows too loose to refuse them.
//
// The package is built by `cargo xtask package` (into target/npm/mamori); MAMORI_NPM_PACKAGE
// points elsewhere. `npm ci` here first.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const packageDir = process.env.MAMORI_NPM_PACKAGE ?? join(root, 'target/npm/mamori');
const tsc = join(here, 'node_modules/typescript/bin/tsc');

before(() => {
  assert.ok(existsSync(tsc), `no TypeScript in ${here}/node_modules; run \`npm ci\` there`);
  assert.ok(
    existsSync(join(packageDir, 'package.json')),
    `no built package at ${packageDir}; build it with \`cargo xtask package\``,
  );
  const scratch = mkdtempSync(join(tmpdir(), 'mamori-types-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', packageDir, '--json', '--pack-destination', scratch], { encoding: 'utf8' }),
    );
    const installed = join(here, 'node_modules/mamori');
    rmSync(installed, { recursive: true, force: true });
    mkdirSync(installed);
    execFileSync('tar', ['-xzf', join(scratch, packed[0].filename), '-C', installed, '--strip-components=1']);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

// Each program: its tsconfig.<name>.json and what it proves.
const programs = {
  element: '`mamori`: <mamori-challenge> in the DOM typings, its events typed, no window.mamori',
  'script-tag': '`mamori/script-tag`: window.mamori, the element and its events without an import',
  react: '`mamori/react`: the component and its callbacks, <mamori-challenge> in React JSX',
  vue: '`mamori/vue`: the component and its events, <mamori-challenge> in Vue TSX',
};

for (const [name, proves] of Object.entries(programs)) {
  test(`tsc --noEmit: ${proves}`, () => {
    const run = spawnSync(process.execPath, [tsc, '--project', join(here, `tsconfig.${name}.json`)], {
      cwd: here,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `tsc found errors:\n${run.stdout}${run.stderr}`);
  });
}
