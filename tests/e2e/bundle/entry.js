// The demo shop built the way a merchant with a bundler builds it: the widget imported from the
// `mamori` npm package instead of the script tag. esbuild bundles this file for the npm run of
// the end-to-end suite.
import { mount } from 'mamori';

import { startShop } from '../../../www/demo/shop.js';

startShop({ mount });
