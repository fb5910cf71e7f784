// The metrics page over one hour of 1-second points for 200 series (issue 16
// goal: rendered within 1 s): the real otelweb-view, fed a gauge of 200
// series x 3 600 points over OTLP/HTTP JSON, then Chromium opens
// /metrics?name=bench.gauge&step=1000000000 (every point drawn: 200 lines of
// 3 600 points on one chart). Times: the series API alone (from node), and in
// the page from navigation start to the chart drawn (answer, parse, canvas).
//   ninja -C build otelweb_view_ui otelweb-view
//   node bench/view_metrics_bench.mjs --view build/src/view/otelweb-view [--runs 3] [--series 200] [--seconds 3600]
import { option, loadPlaywright, launchBrowser, HERE } from '../tests/view_browser/harness.mjs';
import { startView } from '../tests/view_browser/feed.mjs';
import path from 'node:path';

const args = process.argv.slice(2);
const bin = option(args, '--view');
if (!bin) {
  console.log('usage: node bench/view_metrics_bench.mjs --view build/src/view/otelweb-view [--runs 3]');
  process.exit(2);
}
const runs = Number(option(args, '--runs', '3'));
const nSeries = Number(option(args, '--series', '200'));
const seconds = Number(option(args, '--seconds', '3600'));
const view = await startView(bin, '');
const t0 = BigInt(Date.now() - seconds * 1000) * 1000000n;
const tLoad = Date.now();
const CHUNK = 200; // metric entries (one timestamp each) per request
for (let s0 = 0; s0 < seconds; s0 += CHUNK) {
  const metrics = [];
  for (let s = s0; s < Math.min(seconds, s0 + CHUNK); s++) {
    const time = (t0 + BigInt(s) * 1000000000n).toString();
    const points = [];
    for (let k = 0; k < nSeries; k++) {
      points.push({
        attributes: [{ key: 'series', value: { stringValue: `s${k}` } }],
        timeUnixNano: time,
        asDouble: 50 + 40 * Math.sin(s / 300 + k / 7) + (k % 10),
      });
    }
    metrics.push({ name: 'bench.gauge', unit: '1', gauge: { dataPoints: points } });
  }
  const body = JSON.stringify({
    resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] }, scopeMetrics: [{ scope: { name: 'bench' }, metrics }] }],
  });
  const r = await fetch(`${view.otlpHttp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) throw new Error(`POST /v1/metrics: ${r.status} ${await r.text()}`);
}
let dbBytes = 0;
for (;;) {
  const st = await (await fetch(`${view.url}/api/stats`)).json();
  dbBytes = st.dbBytes;
  if (st.metricPoints >= seconds) break;
  await new Promise((ok) => setTimeout(ok, 200));
}
console.log(`loaded ${nSeries} series x ${seconds} points in ${Date.now() - tLoad} ms; data stored: ${(dbBytes / 1e6).toFixed(1)} MB`);
const playwright = loadPlaywright(path.join(HERE, '../../web/view'));
const browser = await launchBrowser(playwright);
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(`${view.url}/`); // assets cached
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [what, q, apiQ] of [
  ['page default (maxPoints=900)', 'name=bench.gauge', 'name=bench.gauge&maxPoints=900'],
  ['full resolution (step=1 s: 3 600 points per series)', 'name=bench.gauge&step=1000000000', 'name=bench.gauge&step=1000000000'],
]) {
  const apiTimes = [];
  let bytes = 0;
  let shape = '';
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const text = await (await fetch(`${view.url}/api/metrics/series?${apiQ}`)).text();
    apiTimes.push(performance.now() - t);
    bytes = text.length;
    const j = JSON.parse(text);
    if (j.series.length !== nSeries) throw new Error(`unexpected answer: ${j.series.length} series`);
    shape = `step ${j.stepNano / 1e9} s, ${j.series[0].values.length} points per series, from ${j.source || 'points'}${j.rollupSeconds ? ` (${j.rollupSeconds} s rows)` : ''}`;
  }
  const pageTimes = [];
  for (let r = 0; r < runs; r++) {
    await page.goto(`${view.url}/logs`);
    const t = Date.now();
    await page.goto(`${view.url}/metrics?${q}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.documentElement.dataset.metricsReady === 'bench.gauge', null, { timeout: 60000 });
    const inPage = await page.evaluate(() => {
      const m = performance.getEntriesByName('otelweb-view:metrics-rendered').pop();
      return m ? m.startTime : NaN;
    });
    pageTimes.push([Date.now() - t, inPage]);
  }
  console.log(`${what}: ${shape}`);
  console.log(`  series API (${(bytes / 1e6).toFixed(1)} MB JSON): median ${med(apiTimes).toFixed(0)} ms of ${runs} (${apiTimes.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  page, navigation to chart drawn: median ${med(pageTimes.map((p) => p[1])).toFixed(0)} ms (${pageTimes.map((p) => p[1].toFixed(0)).join(', ')}); wall from goto ${pageTimes.map((p) => p[0]).join(', ')} ms`);
}
await browser.close();
await view.stop();
