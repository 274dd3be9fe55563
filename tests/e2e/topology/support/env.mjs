// Where the topology suite finds what run.mjs prepared for it (see run.mjs), beyond the paths
// the end-to-end suite's env.mjs already names.

import { join } from 'node:path';

import { root, widget } from '../../support/env.mjs';

// A project with the packed `mamori` npm package installed, for `mamori/verify` in the shop.
export const projectDir = process.env.MAMORI_TOPOLOGY_PROJECT ?? join(root, 'target/topology/project');

// For the npm run: the shop page's bundle and the widget's .wasm next to it.
export const bundleDir = process.env.MAMORI_TOPOLOGY_BUNDLE ?? join(root, 'target/topology', widget, 'bundle');
