// axe-core in the page under test. Its source is handed to the page through the DevTools
// protocol, which the page's CSP (no inline scripts) does not govern, and it checks open
// Shadow DOM such as the widget's.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// The WCAG 2.2 A and AA rules axe has, and what it counts as best practice.
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

// Violations of impact `serious` or `critical`, each as `rule: target…` for a readable failure.
export async function seriousViolations(page) {
  await page.evaluate(source);
  const results = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
}
