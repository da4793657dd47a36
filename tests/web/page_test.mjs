// SPDX-License-Identifier: Apache-2.0
//
// The map page in a real browser: Debian's headless Chromium (software WebGL) driven by
// puppeteer-core, against a real `stride serve` on loopback over a database imported for the
// test (Andorra from ../shared/datasets when present, else a generated map). What a user does,
// checked against what the API answers for the same request:
//   the page loads with no console error; routes appear for the map view (the list is the API's
//   answer for the view, and the map draws them); the filters change the list and the map; a
//   route's profile chart appears; sign in with a token; an upload through the file picker and
//   one by drag and drop show the track (coloured by pace, then heart rate) and its figures;
//   the plan calendar and a challenge's progress on its route; keyboard basics; the phone
//   layout. Screenshots (desktop and phone) go to $STRIDE_WEB_ARTIFACTS.
//
// Environment: STRIDE_BIN, GEN_OSM, GEN_ACTIVITY (build outputs), STRIDE_DATASETS_DIR,
// STRIDE_WEB_ARTIFACTS, CHROMIUM (default /usr/bin/chromium). Exits 77 (skipped) without
// Chromium or puppeteer-core, saying which.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const need = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`page_test: ${name} is not set`); process.exit(2); }
  return v;
};
const strideBin = need('STRIDE_BIN');
const genOsm = need('GEN_OSM');
const genActivity = need('GEN_ACTIVITY');
const datasets = process.env.STRIDE_DATASETS_DIR || path.join(here, '../../../shared/datasets');
const artifacts = process.env.STRIDE_WEB_ARTIFACTS || path.join(os.tmpdir(), 'stride-web-artifacts');

if (!fs.existsSync(chromium)) {
  console.log(`SKIPPED: no Chromium at ${chromium} (scripts/deps.sh installs Debian's chromium)`);
  process.exit(77);
}
let puppeteer;
try {
  puppeteer = (await import(path.join(here, 'node_modules/puppeteer-core/lib/esm/puppeteer/puppeteer-core.js'))).default;
} catch (e) {
  console.log('SKIPPED: puppeteer-core is not installed in tests/web (scripts/deps.sh runs npm ci there)');
  process.exit(77);
}

// ---- a tiny TAP-like runner --------------------------------------------------------------------
let failures = 0, step = 0;
function check(cond, what, detail) {
  ++step;
  if (cond) {
    console.log(`ok ${step} - ${what}`);
  } else {
    ++failures;
    console.log(`not ok ${step} - ${what}${detail !== undefined ? ': ' + JSON.stringify(detail) : ''}`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const km = (m) => (m / 1000).toFixed(m < 10000 ? 2 : 1) + ' km';  // as the page writes it

// ---- a database, activities and a server ------------------------------------------------------
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-web-'));
fs.mkdirSync(artifacts, { recursive: true });
const andorra = path.join(datasets, 'osm/andorra-2021-10-28.osm.pbf');
let osm, dem, label;
if (fs.existsSync(andorra)) {
  osm = andorra; dem = path.join(datasets, 'dem'); label = 'Andorra 2021 (../shared/datasets)';
} else {
  osm = path.join(work, 'map.osm.pbf'); dem = path.join(work, 'dem'); label = 'a generated map';
  console.log('# ../shared/datasets not found: the page is tested over a generated map');
  execFileSync(genOsm, ['--out', osm, '--nodes', '20000', '--dem', dem], { stdio: 'pipe' });
}
execFileSync(strideBin, ['import', '--osm', osm, '--dem', dem, '--db', path.join(work, 'db')], { stdio: 'pipe' });
fs.mkdirSync(path.join(work, 'act'));
execFileSync(genActivity, ['--out', path.join(work, 'act'), '--days-ago', '0'], { stdio: 'pipe' });
console.log(`# database: ${label}`);

const server = spawn(strideBin, ['serve', '--db', path.join(work, 'db'), '--runs', path.join(work, 'runs'),
                                 '--dev', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
server.stderr.on('data', (d) => { log += d; });
let base = '', token = '';
for (let i = 0; i < 200 && !(base && token); ++i) {
  await sleep(50);
  const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(log);
  if (m) base = m[1];
  const t = /dev token[^\n]*\n([^\n]+)\n/.exec(log);
  if (t) token = t[1].trim();
}
if (!base || !token) {
  console.error('page_test: the server did not start:\n' + log);
  server.kill();
  process.exit(1);
}
async function api(p, options = {}) {
  const r = await fetch(base + p, Object.assign({}, options, {
    headers: Object.assign({ Authorization: 'Bearer ' + token }, options.headers || {}) }));
  const body = await r.json();
  if (!r.ok) throw new Error(`${p}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

// ---- the browser -----------------------------------------------------------------------------
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-gpu-sandbox'],
});
const consoleErrors = [];
let page;
try {
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push('uncaught: ' + e.message));
  page.on('requestfailed', (r) => {
    // MapLibre cancels the tile requests of tiles that leave the view (an AbortController:
    // net::ERR_ABORTED), e.g. the world tile 0/0/0 still loading when the map fits the data on
    // a loaded machine. That is the page working; any other failure, and any failure of a
    // tile that is not a cancellation, counts.
    const text = r.failure().errorText;
    if (text === 'net::ERR_ABORTED' && new URL(r.url()).pathname.startsWith('/v1/tiles/')) return;
    consoleErrors.push(`request failed: ${r.url()} ${text}`);
  });
  // The last route search the page made, to ask the API the same question.
  let lastSearch = null;
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/v1/routes' && r.status() === 200) lastSearch = u.search;
  });
  await page.setViewport({ width: 1280, height: 800 });

  // 1. The page loads over the database, with the map library and the map.
  const t0 = Date.now();
  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  const loaded = await page.evaluate(() => ({
    title: document.title, maplibre: !!window.maplibregl, canvas: !!document.querySelector('#map canvas'),
  }));
  check(loaded.maplibre && loaded.canvas, 'the page loads with MapLibre and a map canvas', loaded);

  // 2. Routes appear for the map view: the list is the API's answer for the view the page asked
  //    about, and the map draws routes from the vector tiles.
  await page.waitForSelector('#route-list li button', { timeout: 20000 });
  await page.waitForFunction(() => window.stride.map.areTilesLoaded() && window.stride.map.loaded(), { timeout: 20000 });
  await sleep(300);
  let listed = await page.$$eval('#route-list button', (bs) => bs.map((b) => b.dataset.osm));
  let answer = await api('/v1/routes' + lastSearch);
  check(listed.length > 0 && JSON.stringify(listed) === JSON.stringify(answer.routes.map((r) => r.osm)),
        `routes appear for the map view (${listed.length}), as GET /v1/routes answers for it`, { listed: listed.slice(0, 5), api: answer.routes.slice(0, 5).map((r) => r.osm) });
  const drawn = await page.evaluate(() => window.stride.map.queryRenderedFeatures({ layers: ['routes'] }).length);
  // For the record, not asserted (a shared machine): how long a first visit takes to a full map.
  const weight = await page.evaluate(() => performance.getEntriesByType('resource')
    .concat(performance.getEntriesByType('navigation')).reduce((n, e) => n + (e.transferSize || 0), 0));
  console.log(`# first visit: ${Date.now() - t0} ms to the routes listed and drawn; ${(weight / 1024).toFixed(0)} KiB transferred`);
  check(drawn > 0, `the map draws routes from the vector tiles (${drawn} features rendered)`);
  await page.screenshot({ path: path.join(artifacts, 'desktop-routes.png') });

  // 3. The filters change the list and the map: routes of 5 km or more only.
  const before = listed;
  await page.type('#f-min-km', '5');
  await page.waitForFunction((prev) => {
    const now = [...document.querySelectorAll('#route-list button')].map((b) => b.dataset.osm);
    return JSON.stringify(now) !== prev;
  }, { timeout: 10000 }, JSON.stringify(before));
  await sleep(400);
  listed = await page.$$eval('#route-list button', (bs) => bs.map((b) => b.dataset.osm));
  answer = await api('/v1/routes' + lastSearch);
  check(lastSearch.includes('min_length_m=5000') && answer.routes.every((r) => r.length_m >= 5000) &&
        JSON.stringify(listed) === JSON.stringify(answer.routes.map((r) => r.osm)),
        `the length filter changes the list to the API's answer for min_length_m=5000 (${listed.length} routes)`, lastSearch);
  const shorter = await page.evaluate(() => window.stride.map.queryRenderedFeatures({ layers: ['routes'] })
    .filter((f) => f.properties.length_m < 5000).length);
  check(shorter === 0, 'the map hides the routes the filter leaves out', shorter);
  // The order: least climb first, as the API sorts it.
  await page.select('#f-sort', 'ascent');
  await page.waitForFunction(() => /least climb first/.test(document.getElementById('route-count').textContent));
  await sleep(600);
  listed = await page.$$eval('#route-list button', (bs) => bs.map((b) => b.dataset.osm));
  answer = await api('/v1/routes' + lastSearch);
  const ascents = answer.routes.map((r) => r.ascent_m);
  check(lastSearch.includes('sort=ascent') && JSON.stringify(listed) === JSON.stringify(answer.routes.map((r) => r.osm)) &&
        ascents.every((a, i) => i === 0 || a >= ascents[i - 1]),
        `the order control sorts the list by climb, as the API does (${listed.length} routes)`, lastSearch);
  await page.select('#f-sort', 'distance');
  await page.click('#f-min-km', { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await sleep(600);

  // 4. A route's detail with its elevation profile chart.
  const first = await page.$eval('#route-list button', (b) => b.dataset.osm);
  await page.click('#route-list button');
  await page.waitForSelector('#route-detail:not([hidden]) #route-profile path');
  const profile = await api(`/v1/routes/${encodeURIComponent(first)}/profile`);
  const chart = await page.evaluate(() => ({
    points: (document.querySelector('#route-profile path').getAttribute('d').match(/L/g) || []).length,
    caption: document.getElementById('route-profile-caption').textContent,
    name: document.getElementById('route-name').textContent,
  }));
  // One vertex per profile sample, plus the two that close the area.
  check(chart.points === profile.profile.distance_m.length + 1 && chart.caption.includes(`+${Math.round(profile.ascent_m)} m`),
        `the route's profile chart: ${profile.profile.distance_m.length} samples, climb in the caption`, chart);
  await sleep(500);
  const selected = await page.evaluate(() => window.stride.map.queryRenderedFeatures({ layers: ['selected'] }).length);
  check(selected > 0, 'the selected route is drawn on the map', selected);

  // 5. Directions and loops on the trail graph: a click on the map places the start; typed
  //    points give the way the API gives, drawn with its profile; loops likewise.
  await page.click('#tab-walk');
  const box = await (await page.$('#map canvas')).boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const clicked = await page.evaluate((b) => {
    const p = window.stride.map.unproject([b.width / 2, b.height / 2]);
    const q = window.stride.map.unproject([b.width / 2 + 1, b.height / 2 + 1]);  // a pixel away
    return { field: document.getElementById('w-from').value, lat: p.lat, lon: p.lng,
             pixel: Math.max(Math.abs(q.lat - p.lat), Math.abs(q.lng - p.lng)) };
  }, box);
  const [clat, clon] = clicked.field.split(',').map(Number);
  const near = 2 * clicked.pixel + 1e-5;  // the click's pixel, and the field's 5 decimals
  check(Math.abs(clat - clicked.lat) < near && Math.abs(clon - clicked.lon) < near,
        'a click on the map in the directions view sets the start there', clicked);
  // Two route starts the trail graph connects.
  const around = (await api('/v1/routes?bbox=' + (await api('/v1/health')).bbox.join(',') + '&limit=60')).routes;
  let way = null, ends = null;
  for (let i = 1; i < around.length && !way; ++i) {
    const a = around[0].start, b = around[i].start;
    const q = `from=${a[1]},${a[0]}&to=${b[1]},${b[0]}&format=geojson`;
    const r = await fetch(`${base}/v1/directions?${q}`);
    if (r.status === 200) { way = await r.json(); ends = [a, b]; }
  }
  check(way !== null, 'the test found two route starts the trail graph connects');
  await page.$eval('#w-from', (e, v) => { e.value = v; }, `${ends[0][1]},${ends[0][0]}`);
  await page.$eval('#w-to', (e, v) => { e.value = v; }, `${ends[1][1]},${ends[1][0]}`);
  await page.click('#walk-form button[type="submit"]');
  await page.waitForSelector('#walk-detail:not([hidden]) #walk-profile path');
  await sleep(600);
  const walkShown = await page.evaluate(() => ({
    facts: document.getElementById('walk-facts').textContent,
    drawn: window.stride.map.queryRenderedFeatures({ layers: ['walk'] }).length,
    points: (document.querySelector('#walk-profile path').getAttribute('d').match(/L/g) || []).length,
  }));
  check(walkShown.facts.includes(km(way.distance_m)) && walkShown.drawn > 0 && walkShown.points === way.profile.distance_m.length + 1,
        `directions between them: ${km(way.distance_m)}, drawn, with its profile`, walkShown);
  await page.click('#w-mode-loop');
  await page.$eval('#w-km', (e) => { e.value = '5'; });
  await page.click('#walk-form button[type="submit"]');
  const loops = (await api(`/v1/loops?lat=${ends[0][1]}&lon=${ends[0][0]}&distance_m=5000&alternatives=2&format=geojson`)).loops;
  await page.waitForFunction((n) => document.querySelectorAll('#walk-list button').length === n && n > 0, { timeout: 20000 }, loops.length);
  await sleep(600);
  const loopShown = await page.evaluate(() => ({
    items: [...document.querySelectorAll('#walk-list .sub')].map((e) => e.textContent),
    drawn: window.stride.map.queryRenderedFeatures({ layers: ['walk'] }).length,
  }));
  check(loops.every((l, i) => loopShown.items[i].startsWith(km(l.distance_m))) && loopShown.drawn > 0,
        `5 km loops from the first start: ${loops.map((l) => km(l.distance_m)).join(', ')}`, loopShown);
  await page.screenshot({ path: path.join(artifacts, 'desktop-loops.png') });

  // 6. Keyboard: the skip link comes first; the route list is made of buttons.
  await page.goto(base + '/?fresh#map=12/0/0', { waitUntil: 'networkidle0' });  // a new document: no focus yet
  await page.keyboard.press('Tab');
  const firstFocus = await page.evaluate(() => document.activeElement.className);
  check(firstFocus === 'skip', 'Tab first reaches the skip link', firstFocus);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
    .filter((e) => e.labels.length === 0 && !e.getAttribute('aria-label')).map((e) => e.id));
  check(unlabelled.length === 0, 'every field has a label', unlabelled);

  // 7. Sign in with a token: the runs, plan and challenge views appear (both plugins are bundled).
  const routes = await api('/v1/routes?bbox=' + (await api('/v1/health')).bbox.join(',') + '&limit=200');
  const relation = routes.routes.find((r) => r.osm.startsWith('relation/') && r.length_m > 1000) || routes.routes[0];
  const routeId = relation.osm.startsWith('relation/') ? 'r' + relation.osm.slice(9) : relation.osm;
  const challenge = await api('/v1/challenges', { method: 'POST', body: JSON.stringify({
    name: 'Browser relay', kind: 'route', route_id: routeId, milestone_every_m: 1000 }) });
  await api(`/v1/challenges/${challenge.id}/join`, { method: 'POST', body: JSON.stringify({ team: 'web' }) });
  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  await page.type('#token', token);
  await page.click('#token-use');
  await page.waitForSelector('#tab-runs:not([hidden])');
  const tabs = await page.$$eval('[role="tab"]', (ts) => ts.filter((t) => !t.hidden).map((t) => t.textContent));
  const header = await page.evaluate(() => ({ field: !document.getElementById('token').hidden,
                                              signOut: !document.getElementById('token-forget').hidden }));
  check(JSON.stringify(tabs) === JSON.stringify(['Routes', 'Directions', 'Runs', 'Plan', 'Challenges']) && !header.field && header.signOut,
        'signed in: Runs, Plan and Challenges appear; the token field gives way to Sign out', { tabs, header });

  // 8. Upload through the page's file picker: the run's figures and its track.
  const gpx = path.join(work, 'act/synthetic_run.gpx');
  await (await page.$('#file')).uploadFile(gpx);
  await page.waitForSelector('#run-detail:not([hidden]) #run-splits tbody tr', { timeout: 20000 });
  const runs = await api('/v1/runs');
  const run = await api(`/v1/runs/${runs.runs[0].id}`);
  await page.waitForFunction(() => Number(document.getElementById('track-legend').dataset.segments) > 0);
  await sleep(800);
  const shown = await page.evaluate(() => ({
    facts: document.getElementById('run-facts').textContent,
    splits: document.querySelectorAll('#run-splits tbody tr').length,
    legend: document.getElementById('track-legend').textContent,
    track: window.stride.map.queryRenderedFeatures({ layers: ['track'] }).length,
    colours: new Set(window.stride.map.queryRenderedFeatures({ layers: ['track'] }).map((f) => f.properties.colour)).size,
  }));
  const efforts = await page.$$eval('#run-efforts li', (l) => l.map((e) => e.textContent));
  check(efforts.length === Math.max(1, run.analysis.best_efforts.length) &&
        run.analysis.best_efforts.every((b, i) => efforts[i].startsWith(b.name + ':')),
        `its best efforts (${run.analysis.best_efforts.map((b) => b.name).join(', ')})`, efforts);
  check(runs.runs.length === 1 && shown.facts.includes(km(run.distance_m)) && shown.splits === run.analysis.splits.length,
        `the uploaded run's figures: ${km(run.distance_m)}, ${run.analysis.splits.length} splits`, shown);
  check(shown.track > 0 && shown.colours > 3 && /pace/.test(shown.legend),
        `its track is drawn coloured by pace (${shown.colours} colours)`, shown);
  await page.screenshot({ path: path.join(artifacts, 'desktop-run.png') });
  await page.select('#colour-by', 'heart_rate');
  const hrLegend = await page.$eval('#track-legend', (e) => e.textContent);
  check(/bpm/.test(hrLegend), 'and by heart rate', hrLegend);

  // 9. Drag and drop a file on the page: a second run.
  const tcx = fs.readFileSync(path.join(work, 'act/synthetic_run.tcx')).toString('base64');
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.tcx', { type: 'application/octet-stream' }));
    const drop = document.getElementById('drop');
    drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, tcx);
  await page.waitForFunction(() => document.querySelectorAll('#run-list button').length === 2, { timeout: 20000 });
  await sleep(1000);  // a second upload of the same drop would be stored by now
  const stored = (await api('/v1/runs')).runs.map((r) => r.file_name);
  check(stored.length === 2 && stored.includes('dropped.tcx'), 'a file dropped on the page is uploaded once (dropped.tcx)', stored);

  // 10. The plan calendar, day by day as the plan plugin answers.
  const plan = await api('/v1/plans/current');
  await page.click('#tab-plan');
  await page.waitForSelector('#plan-calendar .day');
  const days = await page.$$eval('#plan-calendar .day', (ds) => ds.map((d) => d.dataset.date));
  const planned = await page.$$eval('#plan-calendar .day:not(.rest)', (ds) => ds.map((d) => d.dataset.date));
  // One cell per date, eight weeks from the Monday on or before the first day.
  const dates = [...new Set(plan.days.map((d) => d.date))];
  const pad = (new Date(dates[0] + 'T00:00:00Z').getUTCDay() + 6) % 7;
  const expected = dates.slice(0, 56 - pad);
  const busy = new Set(plan.days.filter((d) => d.type !== 'rest').map((d) => d.date));
  check(JSON.stringify(days) === JSON.stringify(expected) &&
        JSON.stringify(planned) === JSON.stringify(expected.filter((d) => busy.has(d))),
        `the plan calendar: ${days.length} days, ${planned.length} sessions, as GET /v1/plans/current`, { days: days.slice(0, 3), planned });

  // 11. The challenge's progress on its route.
  await page.click('#tab-challenges');
  await page.waitForSelector('#challenge-list button');
  await page.click('#challenge-list button');
  await page.waitForSelector('#challenge-detail:not([hidden]) .bar');
  const c = await api(`/v1/challenges/${challenge.id}`);
  await sleep(800);
  const progress = await page.evaluate(() => ({
    text: document.getElementById('challenge-progress').textContent,
    value: Number(document.querySelector('#challenge-progress [role="progressbar"]').getAttribute('aria-valuenow')),
    positions: window.stride.map.queryRenderedFeatures({ layers: ['positions'] }).length,
    route: window.stride.map.queryRenderedFeatures({ layers: ['selected'] }).length,
  }));
  const team = c.teams.find((t) => t.team === 'web');
  check(progress.text.includes(`Team web: ${km(team.distance_m)} of ${km(c.goal_m)}`) &&
        progress.value === Math.round(Math.min(1, team.distance_m / c.goal_m) * 100) && progress.route > 0 &&
        (team.position ? progress.positions > 0 : true),
        `the challenge's progress on its route: ${km(team.distance_m)} of ${km(c.goal_m)}`, progress);

  // 12. Arrow keys move between the tabs.
  await page.focus('#tab-challenges');
  await page.keyboard.press('ArrowLeft');
  const afterArrow = await page.evaluate(() => document.activeElement.id);
  check(afterArrow === 'tab-plan', 'ArrowLeft moves to the previous tab', afterArrow);
  await page.screenshot({ path: path.join(artifacts, 'desktop-challenge.png') });

  // 13. A phone-sized viewport: the panel under the map, nothing wider than the screen.
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.click('#tab-routes');
  await sleep(800);
  const phone = await page.evaluate(() => ({
    mapBottom: document.getElementById('map').getBoundingClientRect().bottom,
    panelTop: document.getElementById('panel').getBoundingClientRect().top,
    scrollWidth: document.documentElement.scrollWidth,
  }));
  check(phone.panelTop >= phone.mapBottom - 1 && phone.scrollWidth <= 390, 'on a phone the panel is under the map and nothing overflows', phone);
  await page.screenshot({ path: path.join(artifacts, 'phone-routes.png') });
  await page.click('#tab-runs');
  await sleep(300);
  await page.screenshot({ path: path.join(artifacts, 'phone-run.png'), fullPage: true });

  // 14. Sign out: the caller's views and track go, the token field comes back.
  await page.click('#token-forget');
  const out = await page.evaluate(() => ({
    tabs: [...document.querySelectorAll('[role="tab"]')].filter((t) => !t.hidden).map((t) => t.textContent),
    field: !document.getElementById('token').hidden, stored: sessionStorage.getItem('stride.token'),
  }));
  check(JSON.stringify(out.tabs) === '["Routes","Directions"]' && out.field && out.stored === null, 'Sign out forgets the token', out);

  // 15. And through all of it, not one console error.
  check(consoleErrors.length === 0, 'no console errors', consoleErrors);
} catch (e) {
  ++failures;
  console.log(`not ok - ${e.stack || e}`);
  if (page) await page.screenshot({ path: path.join(artifacts, 'failure.png') }).catch(() => {});
} finally {
  await browser.close();
  server.kill();
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(`# screenshots in ${artifacts}`);
console.log(failures ? `# ${failures} failed` : `# all ${step} passed`);
process.exit(failures ? 1 : 0);
