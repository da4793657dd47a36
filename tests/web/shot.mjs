// SPDX-License-Identifier: Apache-2.0
//
// A screenshot of the map page once its map has drawn: node tests/web/shot.mjs URL OUT.png
// [WIDTHxHEIGHT]. Used by scripts/demo.sh; Debian's headless Chromium, software WebGL.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [url, out, size = '1280x800'] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: node tests/web/shot.mjs URL OUT.png [WIDTHxHEIGHT]');
  process.exit(2);
}
const puppeteer = (await import(path.join(here, 'node_modules/puppeteer-core/lib/esm/puppeteer/puppeteer-core.js'))).default;
const [width, height] = size.split('x').map(Number);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  await page.goto(url, { waitUntil: 'networkidle0' });
  await page.waitForFunction(() => window.stride && window.stride.map && window.stride.map.loaded() &&
                             window.stride.map.areTilesLoaded() && document.querySelector('#route-list li'),
                             { timeout: 30000 });
  const routes = await page.$$eval('#route-list li', (l) => l.length);
  const drawn = await page.evaluate(() => window.stride.map.queryRenderedFeatures({ layers: ['routes'] }).length);
  await page.screenshot({ path: out });
  console.log(`${out}: ${width}x${height}, ${routes} routes listed, ${drawn} route features drawn`);
} finally {
  await browser.close();
}
