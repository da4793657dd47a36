// SPDX-License-Identifier: Apache-2.0
//
// The map page: MapLibre GL JS over Stride's own vector tiles (routes, and trails from zoom 13),
// the routes in view with the search filters, a route's elevation profile, and with a token the
// caller's runs (upload by drag and drop; the track coloured by pace or heart rate; splits,
// climbs, laps), the plan calendar and challenge progress when those plugins are loaded (the
// page learns which from GET /v1/openapi.json). Plain script, no build step; every request goes
// to this origin (the page's Content-Security-Policy allows nothing else).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem('stride.token') || '',
    map: null,
    routes: [],
    selectedRoute: null,
    runs: [],
    selectedRun: null,
    track: null,
    plugins: new Set(),
  };

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  const svgNs = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  const km = (m) => (m / 1000).toFixed(m < 10000 ? 2 : 1) + ' km';
  const metres = (m) => Math.round(m) + ' m';
  function duration(s) {
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(r).padStart(2, '0');
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }
  const pace = (sPerKm) => (sPerKm > 0 && isFinite(sPerKm) ? duration(sPerKm) + ' /km' : '–');

  let statusTimer = 0;
  function say(text, isError) {
    const s = $('status');
    s.textContent = text;
    s.classList.toggle('error', !!isError);
    clearTimeout(statusTimer);
    if (text) statusTimer = setTimeout(() => { s.textContent = ''; }, isError ? 8000 : 3000);
  }

  // Every API call: the token when there is one; the server's own error message when it fails.
  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    const r = await fetch(path, Object.assign({}, options, { headers }));
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!r.ok) {
      const msg = body && body.error ? body.error.message : `${r.status} ${r.statusText}`;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  // ---- the map -------------------------------------------------------------------------------

  const typeColours = ['match', ['get', 'type'],
    'hiking', '#b03a2e', 'running', '#1f618d', 'foot', '#7d3c98', 'walking', '#117a65',
    'named_trail', '#6e6e6e', '#9c640c'];

  function routeFilter() {
    const f = filters();
    const all = ['all'];
    if (f.min_length_m) all.push(['>=', ['get', 'length_m'], Number(f.min_length_m)]);
    if (f.max_length_m) all.push(['<=', ['get', 'length_m'], Number(f.max_length_m)]);
    if (f.max_ascent_m) all.push(['<=', ['get', 'ascent_m'], Number(f.max_ascent_m)]);
    if (f.type) all.push(['==', ['get', 'type'], f.type]);
    if (f.loop) all.push(['==', ['to-boolean', ['get', 'loop']], f.loop === 'true']);
    return all;
  }

  function initMap() {
    if (!window.maplibregl) {
      $('map').append(el('p', { class: 'notice', text:
        'The map library was not built into this server (MapLibre GL JS comes from npm at ' +
        'build time: run scripts/deps.sh and rebuild). The route list still works.' }));
      return null;
    }
    maplibregl.setWorkerUrl(location.origin + '/web/maplibre-gl-csp-worker.js');
    const map = new maplibregl.Map({
      container: 'map',
      hash: 'map',
      attributionControl: { compact: true, customAttribution: 'Routes and trails: OpenStreetMap contributors, via Stride' },
      style: {
        version: 8,
        sources: {
          stride: {
            type: 'vector',
            tiles: [location.origin + '/v1/tiles/{z}/{x}/{y}.mvt'],
            minzoom: 0,
            maxzoom: 16,
          },
          selected: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
          track: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
          positions: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
          walk: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
          'walk-points': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
        },
        layers: [
          { id: 'background', type: 'background', paint: { 'background-color': '#f2efe6' } },
          { id: 'trails', type: 'line', source: 'stride', 'source-layer': 'trails',
            paint: { 'line-color': '#a39a87', 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.6, 17, 2],
                     'line-dasharray': [3, 1.5] } },
          { id: 'routes', type: 'line', source: 'stride', 'source-layer': 'routes',
            layout: { 'line-cap': 'round', 'line-join': 'round' },
            paint: { 'line-color': typeColours, 'line-opacity': 0.85,
                     'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1, 14, 3, 17, 5] } },
          { id: 'selected', type: 'line', source: 'selected',
            layout: { 'line-cap': 'round', 'line-join': 'round' },
            paint: { 'line-color': '#f1c40f', 'line-width': 7, 'line-opacity': 0.9 } },
          { id: 'selected-core', type: 'line', source: 'selected',
            paint: { 'line-color': '#1d2329', 'line-width': 2 } },
          { id: 'walk', type: 'line', source: 'walk',
            layout: { 'line-cap': 'round', 'line-join': 'round', 'line-sort-key': ['get', 'rank'] },
            paint: { 'line-color': ['get', 'colour'], 'line-width': ['case', ['get', 'selected'], 6, 3],
                     'line-opacity': ['case', ['get', 'selected'], 0.95, 0.6] } },
          { id: 'walk-points', type: 'circle', source: 'walk-points',
            paint: { 'circle-radius': 6, 'circle-color': ['get', 'colour'], 'circle-stroke-color': '#fff',
                     'circle-stroke-width': 2 } },
          { id: 'track', type: 'line', source: 'track',
            layout: { 'line-cap': 'round', 'line-join': 'round' },
            paint: { 'line-color': ['get', 'colour'], 'line-width': 4 } },
          { id: 'positions', type: 'circle', source: 'positions',
            paint: { 'circle-radius': 7, 'circle-color': '#e67e22', 'circle-stroke-color': '#fff',
                     'circle-stroke-width': 2 } },
        ],
      },
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
    map.on('moveend', () => scheduleRoutes());
    map.on('click', (e) => {
      // In the directions view a click places the start, then the destination.
      if (!$('view-walk').hidden) {
        placeWalkPoint(e.lngLat.lat, e.lngLat.lng);
        return;
      }
      const f = map.queryRenderedFeatures(e.point, { layers: ['routes'] })[0];
      if (f && f.properties.osm) selectRoute(f.properties.osm);
    });
    map.on('mouseenter', 'routes', () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', 'routes', () => { map.getCanvas().style.cursor = ''; });
    map.on('error', (e) => {
      // A tile the server refused (say, over the rate limit) is worth a line, not a crash.
      if (e && e.error) say('map: ' + e.error.message, true);
    });
    return map;
  }

  function setSource(name, data) {
    if (!state.map) return;
    const src = state.map.getSource(name);
    if (src) src.setData(data);
  }

  function fitTo(bbox) {
    if (!state.map || !bbox) return;
    state.map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 40, maxZoom: 15, duration: 0 });
  }

  function boundsOf(coords) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of coords) {
      b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y);
      b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
    }
    return isFinite(b[0]) ? b : null;
  }

  // ---- routes --------------------------------------------------------------------------------

  function filters() {
    const f = {};
    const minKm = $('f-min-km').value, maxKm = $('f-max-km').value, asc = $('f-max-ascent').value;
    if (minKm) f.min_length_m = Math.round(Number(minKm) * 1000);
    if (maxKm) f.max_length_m = Math.round(Number(maxKm) * 1000);
    if (asc) f.max_ascent_m = Math.round(Number(asc));
    if ($('f-type').value) f.type = $('f-type').value;
    if ($('f-loop').value) f.loop = $('f-loop').value;
    return f;
  }

  function viewBbox() {
    if (!state.map) return [-180, -85, 180, 85];
    const b = state.map.getBounds();
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85)];
  }

  let routeTimer = 0, routeSeq = 0;
  function scheduleRoutes() {
    clearTimeout(routeTimer);
    routeTimer = setTimeout(loadRoutes, 150);
  }

  async function loadRoutes() {
    const seq = ++routeSeq;
    const q = new URLSearchParams(Object.assign({ bbox: viewBbox().map((v) => v.toFixed(5)).join(','),
                                                   limit: '50', sort: $('f-sort').value }, filters()));
    try {
      const j = await api('/v1/routes?' + q);
      if (seq !== routeSeq) return;  // a newer view asked since
      state.routes = j.routes;
      renderRoutes(j.next_cursor !== null);
    } catch (e) {
      if (seq === routeSeq) say('routes: ' + e.message, true);
    }
  }

  function renderRoutes(more) {
    const list = $('route-list');
    list.replaceChildren();
    const n = state.routes.length;
    $('route-count').textContent = n === 0 ? 'No route in view matches the filters.'
      : `${n}${more ? '+' : ''} route${n === 1 ? '' : 's'} in view, ${$('f-sort').selectedOptions[0].textContent}`;
    for (const r of state.routes) {
      const current = state.selectedRoute && state.selectedRoute.osm === r.osm;
      list.append(el('li', {}, el('button', {
        type: 'button', 'data-osm': r.osm, 'aria-current': current ? 'true' : 'false',
        onclick: () => selectRoute(r.osm),
      }, el('span', { class: 'name', text: r.name || r.osm }),
         el('span', { class: 'sub', text: `${r.type.replace('_', ' ')} · ${km(r.length_m)} · ` +
           `+${metres(r.ascent_m)}${r.loop ? ' · loop' : ''}` }))));
    }
  }

  async function selectRoute(osm) {
    try {
      const id = encodeURIComponent(osm);
      const [route, profile] = await Promise.all([
        api(`/v1/routes/${id}?format=geojson`), api(`/v1/routes/${id}/profile`)]);
      state.selectedRoute = route;
      showTab('routes');
      setSource('selected', { type: 'Feature', properties: {}, geometry: route.geometry });
      $('route-detail').hidden = false;
      $('route-name').textContent = route.name || route.osm;
      facts($('route-facts'), [
        ['Type', route.type.replace('_', ' ')], ['Length', km(route.length_m)],
        ['Climb', `+${metres(route.ascent_m)} / −${metres(route.descent_m)}`],
        ['Steepest', `${Math.round(route.max_grade * 100)} %`], ['Loop', route.loop ? 'yes' : 'no'],
        ['Surface', route.surface], ['OSM', route.osm]]);
      drawProfile($('route-profile'), profile.profile.distance_m, profile.profile.elevation_m);
      $('route-profile-caption').textContent = `Elevation profile: ${km(route.length_m)}, ` +
        `${Math.round(Math.min(...profile.profile.elevation_m))}–` +
        `${Math.round(Math.max(...profile.profile.elevation_m))} m, +${metres(route.ascent_m)}`;
      for (const b of $('route-list').querySelectorAll('button')) {
        b.setAttribute('aria-current', b.dataset.osm === osm ? 'true' : 'false');
      }
      say(`${route.name || route.osm}: ${km(route.length_m)}`);
    } catch (e) {
      say('route: ' + e.message, true);
    }
  }

  function facts(dl, rows) {
    dl.replaceChildren();
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === '') continue;
      dl.append(el('dt', { text: k }), el('dd', { text: String(v) }));
    }
  }

  // An elevation profile as SVG: the area under the line, axes at the extremes, and a cursor
  // that follows the pointer (its elevation in the caption's title).
  function drawProfile(target, dist, elev) {
    target.replaceChildren();
    if (!dist || dist.length < 2) return;
    const w = 400, h = 160, left = 36, bottom = 18, top = 8, right = 8;
    target.setAttribute('viewBox', `0 0 ${w} ${h}`);
    target.setAttribute('preserveAspectRatio', 'none');
    const d0 = dist[0], d1 = dist[dist.length - 1];
    let lo = Math.min(...elev), hi = Math.max(...elev);
    if (hi - lo < 20) { lo -= 10; hi += 10; }
    const x = (d) => left + ((d - d0) / (d1 - d0 || 1)) * (w - left - right);
    const y = (e) => top + (1 - (e - lo) / (hi - lo)) * (h - top - bottom);
    let path = `M${x(dist[0]).toFixed(1)},${(h - bottom).toFixed(1)}`;
    for (let i = 0; i < dist.length; ++i) path += `L${x(dist[i]).toFixed(1)},${y(elev[i]).toFixed(1)}`;
    path += `L${x(d1).toFixed(1)},${(h - bottom).toFixed(1)}Z`;
    for (const e of [lo, hi]) {
      target.append(svg('line', { class: 'grid', x1: left, x2: w - right, y1: y(e), y2: y(e) }));
      const t = svg('text', { class: 'axis', x: 2, y: y(e) + 3 });
      t.textContent = `${Math.round(e)} m`;
      target.append(t);
    }
    target.append(svg('path', { class: 'area', d: path }));
    const end = svg('text', { class: 'axis', x: w - right - 40, y: h - 4 });
    end.textContent = km(d1 - d0);
    target.append(end);
    const start = svg('text', { class: 'axis', x: left, y: h - 4 });
    start.textContent = '0';
    target.append(start);
    const cursor = svg('line', { class: 'cursor', x1: -10, x2: -10, y1: top, y2: h - bottom });
    target.append(cursor);
    target.onpointermove = (ev) => {
      const r = target.getBoundingClientRect();
      const px = ((ev.clientX - r.left) / r.width) * w;
      const d = d0 + ((px - left) / (w - left - right)) * (d1 - d0);
      let i = 0;
      while (i + 1 < dist.length && dist[i + 1] < d) ++i;
      cursor.setAttribute('x1', x(dist[i])); cursor.setAttribute('x2', x(dist[i]));
      target.setAttribute('data-cursor', `${km(dist[i] - d0)}: ${Math.round(elev[i])} m`);
    };
  }

  // ---- directions and loops on the trail graph ------------------------------------------------

  const walkColours = ['#6c3483', '#148f77', '#b9770e'];
  const walkMode = () => ($('w-mode-loop').checked ? 'loop' : 'directions');

  function parseLatLon(text) {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text || '');
    if (!m) return null;
    const lat = Number(m[1]), lon = Number(m[2]);
    return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? [lat, lon] : null;
  }
  const latLonText = (lat, lon) => `${lat.toFixed(5)},${lon.toFixed(5)}`;

  function drawWalkPoints() {
    const features = [];
    for (const [id, colour] of [['w-from', '#1e8449'], ['w-to', '#a93226']]) {
      const p = parseLatLon($(id).value);
      if (p && !(id === 'w-to' && walkMode() === 'loop')) {
        features.push({ type: 'Feature', properties: { colour }, geometry: { type: 'Point', coordinates: [p[1], p[0]] } });
      }
    }
    setSource('walk-points', { type: 'FeatureCollection', features });
  }

  function placeWalkPoint(lat, lon) {
    const from = $('w-from'), to = $('w-to');
    if (walkMode() === 'loop' || !from.value || (from.value && to.value)) {
      from.value = latLonText(lat, lon);
      to.value = '';
      $('walk-hint').textContent = walkMode() === 'loop' ? 'Start set: choose a length and find loops.'
        : 'Start set: click the map for the destination.';
    } else {
      to.value = latLonText(lat, lon);
    }
    drawWalkPoints();
    if (walkMode() === 'loop' || (from.value && to.value)) findWalk();
  }

  function walkModeChanged() {
    const loop = walkMode() === 'loop';
    $('w-to-label').hidden = loop;
    $('w-km-label').hidden = !loop;
    $('walk-hint').textContent = loop ? 'Click the map (or type a start) and choose a length.'
      : 'Click the map to set the start, then the destination.';
    drawWalkPoints();
  }

  let walks = [];
  async function findWalk() {
    const from = parseLatLon($('w-from').value);
    if (!from) { say('directions: the start is not "lat,lon"', true); $('w-from').focus(); return; }
    try {
      if (walkMode() === 'loop') {
        const lengthKm = Number($('w-km').value);
        const q = new URLSearchParams({ lat: from[0], lon: from[1], distance_m: Math.round(lengthKm * 1000),
                                        alternatives: '2', format: 'geojson' });
        walks = (await api('/v1/loops?' + q)).loops;
      } else {
        const to = parseLatLon($('w-to').value);
        if (!to) { say('directions: the destination is not "lat,lon"', true); $('w-to').focus(); return; }
        const q = new URLSearchParams({ from: from.join(','), to: to.join(','), format: 'geojson' });
        walks = [await api('/v1/directions?' + q)];
      }
    } catch (e) {
      walks = [];
      setSource('walk', { type: 'FeatureCollection', features: [] });
      $('walk-list').replaceChildren();
      $('walk-detail').hidden = true;
      say('directions: ' + e.message, true);
      return;
    }
    const list = $('walk-list');
    list.replaceChildren();
    walks.forEach((w, i) => {
      list.append(el('li', {}, el('button', { type: 'button', 'data-walk': String(i), onclick: () => selectWalk(i) },
        el('span', { class: 'name', text: walks.length > 1 ? `Loop ${i + 1}` : 'The way' }),
        el('span', { class: 'sub', text: `${km(w.distance_m)} · +${metres(w.ascent_m)} · about ${duration(w.duration_s)} walking` }))));
    });
    if (walks.length === 0) list.append(el('li', { text: 'No loop of that length from there.' }));
    else selectWalk(0);
  }

  function selectWalk(i) {
    const w = walks[i];
    setSource('walk', { type: 'FeatureCollection', features: walks.map((x, k) => ({
      type: 'Feature', properties: { colour: walkColours[k % walkColours.length], selected: k === i, rank: k === i ? 1 : 0 },
      geometry: x.geometry })) });
    $('walk-detail').hidden = false;
    $('walk-name').textContent = walks.length > 1 ? `Loop ${i + 1} of ${walks.length}` : 'The way on the trails';
    facts($('walk-facts'), [
      ['Distance', km(w.distance_m)], ['Climb', `+${metres(w.ascent_m)} / −${metres(w.descent_m)}`],
      ['Walking time', `${duration(w.duration_s)} (Tobler)`],
      ['Off by', w.length_error !== undefined ? `${(w.length_error * 100).toFixed(1)} % of the length asked` : ''],
      ['On paths', w.path_share !== undefined ? `${Math.round(w.path_share * 100)} %` : ''],
      ['Walked twice', w.repeated_m !== undefined ? metres(w.repeated_m) : '']]);
    drawProfile($('walk-profile'), w.profile.distance_m, w.profile.elevation_m);
    $('walk-profile-caption').textContent = `Elevation profile: ${km(w.distance_m)}, +${metres(w.ascent_m)}`;
    $('walk-trails').textContent = (w.routes || []).length
      ? 'On ' + w.routes.slice(0, 6).map((r) => r.name || r.osm).join(', ') + (w.routes.length > 6 ? ' …' : '') : '';
    for (const b of $('walk-list').querySelectorAll('button')) {
      b.setAttribute('aria-current', b.dataset.walk === String(i) ? 'true' : 'false');
    }
    fitTo(boundsOf(w.geometry.type === 'MultiLineString' ? w.geometry.coordinates.flat() : w.geometry.coordinates));
  }

  function initWalk() {
    $('walk-form').addEventListener('submit', (e) => { e.preventDefault(); findWalk(); });
    for (const id of ['w-mode-directions', 'w-mode-loop']) $(id).addEventListener('change', walkModeChanged);
    for (const id of ['w-from', 'w-to']) $(id).addEventListener('change', drawWalkPoints);
    $('w-clear').addEventListener('click', () => {
      $('w-from').value = ''; $('w-to').value = '';
      walks = [];
      $('walk-list').replaceChildren();
      $('walk-detail').hidden = true;
      setSource('walk', { type: 'FeatureCollection', features: [] });
      drawWalkPoints();
      walkModeChanged();
    });
  }

  // ---- token and tabs ------------------------------------------------------------------------

  const tabs = ['routes', 'walk', 'runs', 'plan', 'challenges'];
  function showTab(name) {
    for (const t of tabs) {
      const on = t === name;
      $('tab-' + t).setAttribute('aria-selected', on ? 'true' : 'false');
      $('tab-' + t).tabIndex = on ? 0 : -1;
      $('view-' + t).hidden = !on;
    }
  }
  function initTabs() {
    for (const t of tabs) {
      $('tab-' + t).addEventListener('click', () => { showTab(t); onTab(t); });
    }
    // Arrow keys move between the visible tabs (the WAI-ARIA tabs pattern).
    $('tabs').addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const visible = tabs.filter((t) => !$('tab-' + t).hidden);
      const at = visible.findIndex((t) => $('tab-' + t).getAttribute('aria-selected') === 'true');
      const next = visible[(at + (e.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
      showTab(next); onTab(next); $('tab-' + next).focus();
    });
  }
  function onTab(t) {
    if (t === 'runs') loadRuns();
    if (t === 'plan') loadPlan();
    if (t === 'challenges') loadChallenges();
  }

  async function signIn(token) {
    state.token = token;
    try {
      await api('/v1/runs?limit=1');
    } catch (e) {
      state.token = '';
      sessionStorage.removeItem('stride.token');
      say('sign in: ' + e.message, true);
      return;
    }
    sessionStorage.setItem('stride.token', token);
    $('token').value = '';
    signedIn(true);
    $('tab-runs').hidden = false;
    $('tab-plan').hidden = !state.plugins.has('plans');
    $('tab-challenges').hidden = !state.plugins.has('challenges');
    say('signed in');
    showTab('runs');
    loadRuns();
  }
  // The header: the token field while signed out, "Sign out" while signed in.
  function signedIn(on) {
    for (const id of ['token-label', 'token', 'token-use']) $(id).hidden = on;
    $('token-forget').hidden = !on;
  }
  function signOut() {
    state.token = '';
    sessionStorage.removeItem('stride.token');
    signedIn(false);
    for (const t of ['runs', 'plan', 'challenges']) $('tab-' + t).hidden = true;
    setSource('track', { type: 'FeatureCollection', features: [] });
    setSource('positions', { type: 'FeatureCollection', features: [] });
    showTab('routes');
  }

  // Which plugins serve routes here: the API contract lists them (x-plugin).
  async function discoverPlugins() {
    try {
      const doc = await api('/v1/openapi.json');
      for (const ops of Object.values(doc.paths || {})) {
        for (const op of Object.values(ops)) if (op && op['x-plugin']) state.plugins.add(op['x-plugin']);
      }
    } catch (e) {
      // Without the document the plan and challenge views stay hidden.
    }
  }

  // ---- runs ----------------------------------------------------------------------------------

  async function loadRuns() {
    try {
      const j = await api('/v1/runs?limit=50');
      state.runs = j.runs;
      const list = $('run-list');
      list.replaceChildren();
      if (j.runs.length === 0) list.append(el('li', { text: 'No runs yet: drop a file above.' }));
      for (const r of j.runs) {
        list.append(el('li', {}, el('button', {
          type: 'button', 'data-run': r.id,
          'aria-current': state.selectedRun && state.selectedRun.id === r.id ? 'true' : 'false',
          onclick: () => selectRun(r.id),
        }, el('span', { class: 'name', text: `${(r.start_time || '').slice(0, 10)} ${r.sport}` }),
           el('span', { class: 'sub', text: `${km(r.distance_m)} · ${duration(r.moving_time_s)} · +${metres(r.ascent_m)}` +
             (r.file_name ? ` · ${r.file_name}` : '') }))));
      }
    } catch (e) {
      say('runs: ' + e.message, true);
    }
  }

  function fileNameHeader(name) {
    // Header values must be ASCII for fetch; other names are left out (the server makes one).
    return /^[\x20-\x7e]{1,200}$/.test(name) ? { 'X-File-Name': name } : {};
  }

  async function upload(file) {
    if (!state.token) { say('sign in with a token to upload', true); return; }
    say(`uploading ${file.name} …`);
    const key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
    try {
      const run = await api('/v1/runs', {
        method: 'POST',
        body: file,
        headers: Object.assign({ 'Idempotency-Key': key, 'Content-Type': 'application/octet-stream' },
                               fileNameHeader(file.name)),
      });
      say(`${file.name}: ${km(run.distance_m)} ${run.sport} stored`);
      await loadRuns();
      await selectRun(run.id, run);
    } catch (e) {
      say(`${file.name}: ${e.message}`, true);
    }
  }

  function initDrop() {
    // The whole panel takes the drop (the drop zone inside it is where it says so).
    const drop = $('drop');
    for (const target of [$('panel')]) {
      target.addEventListener('dragover', (e) => {
        if (!state.token) return;
        e.preventDefault();
        drop.classList.add('over');
      });
      target.addEventListener('dragleave', () => drop.classList.remove('over'));
      target.addEventListener('drop', (e) => {
        if (!state.token) return;
        e.preventDefault();
        drop.classList.remove('over');
        for (const f of e.dataTransfer.files) upload(f);
      });
    }
    $('file').addEventListener('change', (e) => {
      for (const f of e.target.files) upload(f);
      e.target.value = '';
    });
  }

  async function selectRun(id, answered) {
    try {
      const [run, track] = await Promise.all([
        answered ? Promise.resolve(answered) : api(`/v1/runs/${encodeURIComponent(id)}`),
        api(`/v1/runs/${encodeURIComponent(id)}/track?format=geojson`)]);
      state.selectedRun = run;
      state.track = track;
      showTab('runs');
      renderRun(run);
      drawTrack();
      const coords = track.geometry.coordinates.flat();
      fitTo(boundsOf(coords));
      for (const b of $('run-list').querySelectorAll('button')) {
        b.setAttribute('aria-current', b.dataset.run === id ? 'true' : 'false');
      }
    } catch (e) {
      say('run: ' + e.message, true);
    }
  }

  function renderRun(run) {
    const a = run.analysis || {};
    $('run-detail').hidden = false;
    $('run-name').textContent = `${run.sport} on ${(run.start_time || '').replace('T', ' ').replace('Z', ' UTC')}`;
    const hr = a.heart_rate || {};
    facts($('run-facts'), [
      ['Distance', km(run.distance_m)], ['Moving time', duration(run.moving_time_s)],
      ['Elapsed', duration(run.elapsed_time_s)], ['Moving pace', pace(a.moving_pace_s_per_km)],
      ['Grade-adjusted', pace(a.gap_s_per_km)], ['Climb', a.ascent_m !== undefined ? `+${metres(a.ascent_m)} / −${metres(a.descent_m)}` : ''],
      ['Heart rate', hr.avg ? `${Math.round(hr.avg)} avg, ${Math.round(hr.max)} max` : ''],
      ['Points', a.points ? `${a.points.kept} of ${a.points.raw} kept` : ''],
      ['Device', a.source ? a.source.device : ''], ['File', run.file_name || run.format]]);
    const splits = $('run-splits').tBodies[0];
    splits.replaceChildren();
    for (const s of a.splits || []) {
      splits.append(el('tr', {}, el('td', { text: `${s.index}${s.distance_m < 999 ? ` (${metres(s.distance_m)})` : ''}` }),
        el('td', { text: pace(s.pace_s_per_km) }),
        el('td', { text: `+${Math.round(s.ascent_m)} −${Math.round(s.descent_m)}` }),
        el('td', { text: s.avg_hr_bpm ? String(Math.round(s.avg_hr_bpm)) : '–' })));
    }
    const efforts = $('run-efforts');
    efforts.replaceChildren();
    if (!(a.best_efforts || []).length) efforts.append(el('li', { text: 'none' }));
    for (const b of a.best_efforts || []) {
      efforts.append(el('li', { text: `${b.name}: ${duration(b.time_s)} (${pace(b.time_s / (b.distance_m / 1000))}) from ${km(b.start_distance_m)}` }));
    }
    const climbs = $('run-climbs');
    climbs.replaceChildren();
    if (!(a.climbs || []).length) climbs.append(el('li', { text: 'none' }));
    for (const c of a.climbs || []) {
      climbs.append(el('li', { text: `${km(c.start_distance_m ?? 0)}: +${metres(c.gain_m ?? c.ascent_m ?? 0)} over ` +
        `${metres(c.length_m ?? c.distance_m ?? 0)}${c.avg_grade !== undefined ? `, ${Math.round(c.avg_grade * 100)} %` : ''}` }));
    }
    const laps = $('run-laps').tBodies[0];
    laps.replaceChildren();
    (a.laps || []).forEach((l, i) => {
      laps.append(el('tr', {}, el('td', { text: String(l.index ?? i + 1) }), el('td', { text: km(l.distance_m) }),
        el('td', { text: duration(l.elapsed_time_s ?? l.timer_time_s ?? 0) }),
        el('td', { text: pace(l.pace_s_per_km ?? ((l.elapsed_time_s ?? 0) / (l.distance_m / 1000))) })));
    });
  }

  // The track as short segments, each coloured by its pace or heart rate on a scale from the
  // run's own 5th to 95th percentile (blue: slow or low; red: fast or high).
  function haversine(a, b) {
    const r = 6371008.8, rad = Math.PI / 180;
    const dlat = (b[1] - a[1]) * rad, dlon = (b[0] - a[0]) * rad;
    const h = Math.sin(dlat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dlon / 2) ** 2;
    return 2 * r * Math.asin(Math.sqrt(h));
  }
  function colourAt(t) {
    const stops = [[49, 130, 189], [116, 196, 118], [254, 196, 79], [215, 48, 39]];
    const u = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(u)), f = u - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }
  function drawTrack() {
    const track = state.track;
    if (!track) return;
    const by = $('colour-by').value;
    const parts = track.geometry.coordinates;
    const times = track.properties.times || [];
    const hrs = track.properties.heart_rate || [];
    const segs = [];
    // Distance along each part, point by point.
    const cum = parts.map((coords) => {
      const out = [0];
      for (let k = 1; k < coords.length; ++k) out.push(out[k - 1] + haversine(coords[k - 1], coords[k]));
      return out;
    });
    parts.forEach((coords, p) => {
      // At most ~1,500 segments for the whole run: a step of several points on long ones.
      const step = Math.max(1, Math.ceil(coords.length / 1500));
      for (let i = 0; i + step < coords.length; i += step) {
        const j = i + step;
        let value = null;
        if (by === 'pace' && times[p]) {
          // Over at least 60 m around the segment, so that 1 s GPS jitter does not paint noise.
          let a = i, z = j;
          while (cum[p][z] - cum[p][a] < 60 && (a > 0 || z + 1 < coords.length)) {
            if (a > 0) --a;
            if (z + 1 < coords.length) ++z;
          }
          const d = cum[p][z] - cum[p][a], t = times[p][z] - times[p][a];
          if (d > 0.5 && t > 0) value = t / (d / 1000);  // s per km
        } else if (hrs[p] && hrs[p][i] !== null && hrs[p][i] !== undefined) {
          value = hrs[p][i];
        }
        segs.push({ coords: coords.slice(i, j + 1), value });
      }
    });
    const values = segs.map((s) => s.value).filter((v) => v !== null && isFinite(v)).sort((a, b) => a - b);
    const q = (f) => values[Math.min(values.length - 1, Math.floor(f * values.length))];
    const lo = values.length ? q(0.05) : 0, hi = values.length ? q(0.95) : 1;
    const features = segs.map((s) => {
      let t = s.value === null ? null : (s.value - lo) / (hi - lo || 1);
      if (t !== null && by === 'pace') t = 1 - t;  // fast is red
      return { type: 'Feature', properties: { colour: t === null ? '#888888' : colourAt(t) },
               geometry: { type: 'LineString', coordinates: s.coords } };
    });
    setSource('track', { type: 'FeatureCollection', features });
    const legend = $('track-legend');
    if (!values.length) {
      legend.textContent = by === 'pace' ? 'This track has no times: drawn in grey.' : 'This track has no heart rate: drawn in grey.';
    } else if (by === 'pace') {
      legend.textContent = `Track by pace: blue ${pace(hi)} (slow) to red ${pace(lo)} (fast)`;
    } else {
      legend.textContent = `Track by heart rate: blue ${Math.round(lo)} to red ${Math.round(hi)} bpm`;
    }
    legend.dataset.segments = String(features.length);
  }

  // ---- plan ----------------------------------------------------------------------------------

  async function loadPlan() {
    const cal = $('plan-calendar');
    cal.replaceChildren();
    try {
      const plan = await api('/v1/plans/current');
      const goal = plan.goal || {};
      const sessions = plan.days.filter((d) => d.type !== 'rest').length;
      const target = goal.distance_m ? `a ${km(goal.distance_m)} race${goal.date ? ' on ' + goal.date : ''}` : 'keep fitness';
      $('plan-summary').textContent = `Plan to ${target}: ${sessions} sessions over ${plan.days.length} days` +
        ((plan.assumptions || []).length ? ` (${plan.assumptions.join('; ')})` : '') + '.';
      for (const h of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']) cal.append(el('div', { class: 'head', text: h }));
      // One cell per date (a day may hold a planned session and the runs done on it), in weeks
      // from Monday; eight weeks at most.
      const byDate = new Map();
      for (const d of plan.days) {
        if (!byDate.has(d.date)) byDate.set(d.date, []);
        byDate.get(d.date).push(d);
      }
      const dates = [...byDate.keys()];
      const pad = dates.length ? (new Date(dates[0] + 'T00:00:00Z').getUTCDay() + 6) % 7 : 0;
      for (let i = 0; i < pad; ++i) cal.append(el('div', {}));
      for (const date of dates.slice(0, 8 * 7 - pad)) {
        const sessions = byDate.get(date).filter((d) => d.type !== 'rest');
        const what = sessions.map((d) => `${d.state === 'done' ? '✓ ' : ''}${d.type} ${km(d.distance_m)}`);
        const cell = el('div', { class: `day${sessions.length ? '' : ' rest'}${date === plan.today ? ' today' : ''}`,
          'data-date': date, 'aria-label': `${date}: ${what.length ? what.join(', ') : 'rest'}` },
          el('span', { class: 'date', text: date.slice(5) }));
        for (const w of what.length ? what : ['rest']) cell.append(el('br'), el('span', { text: w }));
        cal.append(cell);
      }
    } catch (e) {
      $('plan-summary').textContent = 'No plan: ' + e.message;
    }
  }

  // ---- challenges ----------------------------------------------------------------------------

  async function loadChallenges() {
    const list = $('challenge-list');
    list.replaceChildren();
    try {
      const j = await api('/v1/challenges/mine');
      if (!j.challenges.length) list.append(el('li', { text: 'You are in no challenge.' }));
      for (const c of j.challenges) {
        const done = c.me && c.goal_m ? Math.min(1, c.me.distance_m / c.goal_m) : 0;
        list.append(el('li', {}, el('button', { type: 'button', onclick: () => selectChallenge(c.id) },
          el('span', { class: 'name', text: c.name }),
          el('span', { class: 'sub', text: `${c.kind}${c.route_id ? ' along ' + c.route_id : ''} · ${Math.round(done * 100)} % (${km(c.me ? c.me.distance_m : 0)} of ${km(c.goal_m)})` }))));
      }
    } catch (e) {
      list.append(el('li', { text: 'Challenges: ' + e.message }));
    }
  }

  async function selectChallenge(id) {
    try {
      const c = await api(`/v1/challenges/${encodeURIComponent(id)}`);
      $('challenge-detail').hidden = false;
      $('challenge-name').textContent = c.name;
      const box = $('challenge-progress');
      box.replaceChildren();
      const points = [];
      for (const t of c.teams || []) {
        const frac = c.goal_m ? Math.min(1, t.distance_m / c.goal_m) : 0;
        const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
                                'aria-valuenow': String(Math.round(frac * 100)), 'aria-label': `team ${t.team}` }, el('span'));
        bar.firstChild.style.width = `${(frac * 100).toFixed(1)}%`;
        box.append(el('p', { text: `Team ${t.team}: ${km(t.distance_m)} of ${km(c.goal_m)}` +
          (t.next_milestone ? `, next: ${t.next_milestone.name}` : '') + (t.finished ? ' (finished)' : '') }), bar);
        if (t.position) points.push({ type: 'Feature', properties: { team: t.team },
                                      geometry: { type: 'Point', coordinates: [t.position.lon, t.position.lat] } });
      }
      setSource('positions', { type: 'FeatureCollection', features: points });
      if (c.route_id) await selectRoute(c.route_id);
      showTab('challenges');
      if (state.selectedRoute) fitTo(state.selectedRoute.bbox);
    } catch (e) {
      say('challenge: ' + e.message, true);
    }
  }

  // ---- start ---------------------------------------------------------------------------------

  async function start() {
    initTabs();
    initDrop();
    initWalk();
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('token').value.trim();
      if (t) signIn(t);
    });
    $('token-forget').addEventListener('click', signOut);
    $('filters').addEventListener('input', () => {
      if (state.map) state.map.setFilter('routes', routeFilter());
      scheduleRoutes();
    });
    $('colour-by').addEventListener('change', drawTrack);
    // A place in the address (#map=zoom/lat/lon, kept by the map as it moves) wins; without
    // one, the map shows where the database's routes are.
    const placed = /map=/.test(location.hash);
    state.map = initMap();
    window.stride = { map: state.map };  // for the browser's console and the browser tests
    await discoverPlugins();
    if (state.map && !placed) {
      try {
        fitTo((await api('/v1/health')).bbox);
      } catch (e) {
        say('routes: ' + e.message, true);
      }
    }
    scheduleRoutes();
    if (state.token) signIn(state.token);
    document.body.dataset.ready = 'true';
  }

  start();
})();
