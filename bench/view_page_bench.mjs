// The 10 000-span trace page, measured in Debian's Chromium through
// playwright-core (issue 15: interactive <= 1 s from navigation, fetch and
// parse included; expand, collapse and search respond).
//
//   node bench/view_page_bench.mjs [--spans 10000] [--runs 5] [--ui-dir DIR] [--view BIN]
//
// Without --view the API stand-in (tests/view_browser/fixture_server.mjs)
// serves a generated trace of --spans spans; with --view, otelweb-view is
// started on free ports and fed the same trace over OTLP/HTTP JSON.
// Per run: navigation -> first waterfall rows, -> root collapsed (the first
// click answered: "interactive"), then expand-all and search latencies.
// Prints one line per run and the medians.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { HERE, option, loadPlaywright, launchBrowser, startFixture, traceNamed, api } from '../tests/view_browser/harness.mjs';
import { startViewWithBigTrace } from '../tests/view_browser/feed.mjs';

const args = process.argv.slice(2);
const spans = Number(option(args, '--spans', '10000'));
const runs = Number(option(args, '--runs', '5'));
const webDir = path.resolve(HERE, '../../web/view');
const uiDir = path.resolve(option(args, '--ui-dir', path.join(webDir, 'dist')));
const viewBin = option(args, '--view');
if (!fs.existsSync(path.join(uiDir, 'index.html'))) {
  console.error(`no built page in ${uiDir}: run \`npm run build\` in web/view or pass --ui-dir <build>/web/view/dist`);
  process.exit(1);
}

const playwright = loadPlaywright(webDir);
const browser = await launchBrowser(playwright);
const server = viewBin ? await startViewWithBigTrace(viewBin, uiDir, spans) : await startFixture(uiDir, spans);
const base = server.url;
const big = await traceNamed(base, 'POST /batch');
if (big.spanCount !== spans) throw new Error(`the trace has ${big.spanCount} spans, not ${spans}`);
const bytes = JSON.stringify(await api(base, `/api/traces/${big.traceId}`)).length;

const chromiumVersion = browser.version();
const results = [];
for (let r = 0; r < runs; r++) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(base + '/'); // page assets cached, as when a user clicks a trace in the list
  await page.waitForSelector('.trace-row');
  const t0 = Date.now();
  await page.goto(`${base}/trace/${big.traceId}`);
  await page.waitForSelector('.wf-row');
  const rows = Date.now() - t0;
  await page.click('.wf-row[data-depth="0"] .toggle');
  await page.waitForFunction(() => document.querySelectorAll('.wf-row').length === 1);
  const interactive = Date.now() - t0;
  let t = Date.now();
  await page.click('text=Expand all');
  await page.waitForFunction(() => document.querySelectorAll('.wf-row').length > 1);
  const expand = Date.now() - t;
  t = Date.now();
  await page.click('text=Collapse all');
  await page.waitForFunction(() => document.querySelectorAll('.wf-row').length === 1);
  const collapse = Date.now() - t;
  t = Date.now();
  await page.fill('[data-testid=trace-search]', `step ${spans - 124}`);
  await page.press('[data-testid=trace-search]', 'Enter');
  await page.waitForSelector(`.wf-row.selected:has-text("step ${spans - 124}")`);
  const search = Date.now() - t;
  const inDom = await page.$$eval('.wf-row', (els) => els.length);
  // In-page split (ms from navigation start): the API response fully
  // received, then JSON parse + span tree + first render.
  const split = await page.evaluate(() => {
    const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/traces/'));
    const fetched = performance.getEntriesByName('otelweb-view:trace-fetched')[0];
    const rendered = performance.getEntriesByName('otelweb-view:trace-rendered')[0];
    return {
      apiStart: Math.round(api.requestStart),
      apiEnd: Math.round(api.responseEnd),
      parsed: Math.round(fetched.startTime),
      rendered: Math.round(rendered.startTime),
    };
  });
  const res = {
    rows, interactive, expand, collapse, search, inDom, ...split,
    parse: split.parsed - split.apiEnd, treeAndRender: split.rendered - split.parsed, client: split.rendered - split.apiEnd,
  };
  results.push(res);
  console.log(`run ${r + 1}: ${JSON.stringify(res)}`);
  await context.close();
}
await browser.close();
await server.stop();

const median = (k) => {
  const v = results.map((x) => x[k]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};
console.log(
  `view_page_bench: ${spans} spans (${(bytes / 1e6).toFixed(1)} MB JSON) via ${viewBin ? 'otelweb-view' : 'fixture_server'}, ` +
    `median of ${runs}: first rows ${median('rows')} ms, interactive (root collapsed) ${median('interactive')} ms, ` +
    `client side ${median('client')} ms (JSON parse ${median('parse')}, tree + first render ${median('treeAndRender')}), API response complete at ${median('apiEnd')} ms, ` +
    `expand all ${median('expand')} ms, collapse all ${median('collapse')} ms, search+jump ${median('search')} ms; ` +
    `${os.cpus().length} x ${os.cpus()[0].model}, load average ${os.loadavg()[0].toFixed(1)}, node ${process.version}, Chromium ${chromiumVersion}`,
);
if (median('interactive') > 1000) {
  console.log('FAIL: the page is not interactive within 1 s');
  process.exit(1);
}
