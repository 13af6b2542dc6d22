// The dashboard in headless Chromium (run by dashboard_test.sh, which starts the sandbox
// and the daemon). Checks, each with a deadline and no fixed sleeps:
//   - without the bearer token every path but /healthz is 401 (the listener is 0.0.0.0);
//   - the overview loads with no console error, no failed request, no dialog; shows every
//     process and every channel, the markup-named channel as text;
//   - a worker stopped with `pm2 stop` appears as an active ProcessOffline within two
//     refreshes of the daemon knowing it, without a reload;
//   - the charts page has a chart with data points per process and per channel;
//   - the alerts page loads.
// Writes OFFMON_SHOTS/dashboard-overview.png and dashboard-charts.png.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const base = process.env.OFFMON_BASE;
const token = fs.readFileSync(process.env.OFFMON_TOKEN_FILE, 'utf8').trim();
const channels = JSON.parse(process.env.OFFMON_CHANNELS);
const processes = JSON.parse(process.env.OFFMON_PROCESSES);
const evil = process.env.OFFMON_EVIL;
const stopped = process.env.OFFMON_STOP;
const shots = process.env.OFFMON_SHOTS;
const auth = { Authorization: `Bearer ${token}` };

let failures = 0;
function fail(what) {
  console.log(`FAIL: ${what}`);
  failures += 1;
}
function ok(what) { console.log(`ok: ${what}`); }

// Polls `probe` (async, truthy when done) until `seconds` pass; returns its last value.
async function waitFor(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  let value;
  for (;;) {
    value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function checkToken() {
  for (const p of ['/', '/metrics', '/api/report', '/api/overview', '/charts', '/static/dashboard.js']) {
    const r = await fetch(base + p);
    if (r.status !== 401) fail(`${p} without the token answered ${r.status}, not 401`);
    const wrong = await fetch(base + p, { headers: { Authorization: 'Bearer not-the-token' } });
    if (wrong.status !== 401) fail(`${p} with a wrong token answered ${wrong.status}, not 401`);
  }
  const health = await fetch(base + '/healthz');
  if (health.status === 401) fail('/healthz needs the token');
  const page = await fetch(base + '/', { headers: auth });
  if (page.status !== 200) fail(`/ with the token answered ${page.status}`);
  const csp = page.headers.get('content-security-policy') || '';
  if (!csp.includes("default-src 'self'")) fail(`Content-Security-Policy is "${csp}"`);
  if (page.headers.get('x-content-type-options') !== 'nosniff') fail('no X-Content-Type-Options: nosniff');
  ok('401 without the token on a non-loopback listener; /healthz open; security headers set');
}

// The daemon's own view: the active alerts of /api/report.
async function reportAlerts() {
  const r = await fetch(base + '/api/report', { headers: auth });
  if (!r.ok) return [];
  const doc = await r.json();
  return doc.alerts || [];
}

async function main() {
  await checkToken();
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: fs.mkdtempSync(path.join(require('os').tmpdir(), 'offmon-chromium-')),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.setExtraHTTPHeaders(auth);
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', async (d) => { problems.push(`dialog opened: ${d.message()}`); await d.dismiss(); });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

    await page.goto(base + '/', { waitUntil: 'load' });
    await page.evaluate(() => { window.offmonLoaded = true; });  // gone after a reload

    // Every process and channel (the backfill may still be bringing channels in).
    const missing = await waitFor('every process and channel on the overview', 90, async () => {
      const shown = await page.evaluate(() => ({
        processes: [...document.querySelectorAll('tr.process')].map((e) => e.dataset.process),
        channels: [...document.querySelectorAll('tr.channel')].map((e) => e.dataset.channel),
      }));
      const lack = processes.filter((p) => !shown.processes.includes(p))
        .concat(channels.filter((c) => !shown.channels.includes(c)));
      return lack.length === 0 ? [] : null;
    }).catch((e) => { fail(e.message); return null; });
    if (missing) ok(`every process (${processes.length}) and channel (${channels.length}) shown`);

    // The markup-named channel is text: no script element but ours, its name in the text.
    const escaping = await page.evaluate((name) => ({
      scripts: [...document.scripts].map((s) => s.src),
      asText: [...document.querySelectorAll('tr.channel td:first-child')].some((td) => td.textContent === name),
    }), evil);
    if (escaping.scripts.length !== 1 || !escaping.scripts[0].endsWith('/static/dashboard.js')) {
      fail(`scripts on the page: ${JSON.stringify(escaping.scripts)}`);
    } else if (!escaping.asText) {
      fail(`the channel ${evil} is not shown as text`);
    } else {
      ok(`the channel ${evil} renders as text`);
    }

    // A memory and a CPU sparkline with points for every process (samples arrive every 2 s).
    try {
      const sparks = await waitFor('sparklines with points for every process', 30, async () => {
        const counts = await page.$$eval('tr.process', (rows) => rows.map(
          (r) => [...r.querySelectorAll('svg.sparkline')].filter((e) => Number(e.dataset.points) >= 2).length));
        return counts.length >= processes.length && counts.every((n) => n === 2) ? counts : null;
      });
      ok(`sparklines: ${sparks.length} processes x 2`);
    } catch (e) {
      fail(e.message);
    }

    // Stop a worker: ProcessOffline on the page within two refreshes of the daemon having it.
    execFileSync(process.env.OFFMON_PM2, ['pm2', process.env.OFFMON_PM2_DIR, 'stop', stopped], { stdio: 'ignore' });
    const stoppedAt = Date.now();
    const offline = (a) => a.alert === 'ProcessOffline' && JSON.stringify(a.labels || {}).includes(stopped);
    try {
      await waitFor(`ProcessOffline{process="${stopped}"} in /api/report`, 60,
                    async () => (await reportAlerts()).some(offline));
      const known = Date.now();
      const before = await page.$eval('#live', (e) => Number(e.dataset.refreshes || 0));
      const after = await waitFor('ProcessOffline on the page', 30, async () => page.evaluate((name) => {
        const live = document.getElementById('live');
        const shown = [...document.querySelectorAll('#alerts .alert[data-alert="ProcessOffline"]')]
          .some((e) => e.textContent.includes(name));
        return shown ? Number(live.dataset.refreshes || 0) : null;
      }, stopped));
      const refreshes = after - before;
      const reloaded = !(await page.evaluate(() => window.offmonLoaded === true));
      if (reloaded) fail('the page reloaded');
      else if (refreshes > 2) fail(`ProcessOffline appeared after ${refreshes} refreshes, more than two`);
      else ok(`ProcessOffline{process="${stopped}"} shown ${((Date.now() - stoppedAt) / 1000).toFixed(1)}s after ` +
              `pm2 stop, ${refreshes} refresh(es) after the daemon had it (${((Date.now() - known) / 1000).toFixed(1)}s), ` +
              'no reload');
    } catch (e) {
      fail(e.message);
    }
    await page.screenshot({ path: path.join(shots, 'dashboard-overview.png'), fullPage: false });

    // Charts: the points (line vertices and lone dots) of each chart on the page.
    const chartPoints = () => page.evaluate(() => [...document.querySelectorAll('.chart')].map((c) => ({
      kind: c.dataset.kind,
      name: c.dataset.name,
      points: [...c.querySelectorAll('g.series path')]
        .reduce((n, p) => n + (p.getAttribute('d').match(/[ML]/g) || []).length, 0)
        + c.querySelectorAll('g.series circle').length,
    })));
    // The last hour: every process since the daemon started (a channel may have no epoch
    // in the hour: its offline hours, the missing-epoch incident).
    await page.goto(base + '/charts?range=1h', { waitUntil: 'load' });
    let charts = await chartPoints();
    for (const p of processes) {
      const c = charts.find((x) => x.kind === 'process' && x.name === p);
      if (!c || c.points < 2) fail(`process ${p}: 1h chart ${c ? `with ${c.points} points` : 'missing'}`);
    }
    if (!charts.some((x) => x.kind === 'database' && x.points >= 2)) fail('no database chart with points');
    ok(`1h charts: ${charts.length}, points per chart ${charts.map((c) => c.points).join(' ')}`);
    // The last day: every channel, from the history the collector backfilled.
    await page.goto(base + '/charts?range=24h', { waitUntil: 'load' });
    charts = await chartPoints();
    for (const name of channels) {
      const c = charts.find((x) => x.kind === 'channel' && x.name === name);
      if (!c || c.points < 1) fail(`channel ${name}: 24h chart ${c ? `with ${c.points} points` : 'missing'}`);
    }
    ok(`24h charts: ${charts.length}, points per chart ${charts.map((c) => c.points).join(' ')}`);
    // The screenshot: the channels' day (the processes have minutes of history here).
    await page.$eval('#channel-charts', (e) => e.scrollIntoView());
    await page.screenshot({ path: path.join(shots, 'dashboard-charts.png'), fullPage: false });

    for (const range of ['7d', '30d']) {
      const r = await page.goto(`${base}/charts?range=${range}`, { waitUntil: 'load' });
      if (r.status() !== 200) fail(`/charts?range=${range}: ${r.status()}`);
    }
    const alerts = await page.goto(base + '/alerts', { waitUntil: 'load' });
    const episodes = await page.$$eval('tr.episode', (rows) => rows.length);
    if (alerts.status() !== 200) fail(`/alerts: ${alerts.status()}`);
    else ok(`alerts page: ${episodes} episodes`);

    const weight = (await (await fetch(base + '/', { headers: auth })).text()).length;
    ok(`overview page weight ${(weight / 1024).toFixed(1)} KiB`);
    if (weight > 200 * 1024) fail(`the overview page weighs ${weight} bytes, over 200 KB`);

    if (problems.length) problems.forEach((p) => fail(p));
    else ok('no console errors, failed requests or dialogs');
  } finally {
    await browser.close();
  }
}

main().then(() => {
  console.log(failures ? `${failures} failure(s)` : 'dashboard browser test passed');
  process.exit(failures ? 1 : 0);
}, (e) => {
  console.log(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
