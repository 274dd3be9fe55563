// Headless Chromium from the system (TOOLCHAIN.md: Playwright cannot download browsers here),
// and browser contexts, each a separate device with its own storage.

import { chromium as engine } from 'playwright-core';

import { chromium } from './env.mjs';

const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launch() {
  return engine.launch({ executablePath: chromium, args: ARGS });
}

// A new device: a fresh context (no storage), in Japan, speaking `locale`.
export function newDevice(browser, { locale = 'ja-JP' } = {}) {
  return browser.newContext({
    locale,
    timezoneId: 'Asia/Tokyo',
    viewport: { width: 1100, height: 900 },
  });
}
