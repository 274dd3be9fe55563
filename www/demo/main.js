// The shop with the widget from the script tag: `/widget/mamori.js` ran first (a classic
// script before this module) and left `window.mamori`.
import { startShop } from './shop.js';

startShop(window.mamori);
