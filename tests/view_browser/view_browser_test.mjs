// Browser tests of the otelweb-view page in real Chromium (Debian's
// /usr/bin/chromium through playwright-core, headless): trace list, error
// filter, live update, waterfall rows and nesting, span details, span links,
// deep links, search within a trace, next error, collapse, virtualization.
//
//   node view_browser_test.mjs --web-dir web/view --ui-dir <built dist> --artifacts DIR
//
// Screenshots go to --artifacts; with OTELWEB_VIEW_DOCS_SCREENSHOT=<file> the
// trace page's screenshot is also written there (docs/view-trace.png).
// Exit 77 (ctest SKIP) only when Chromium or playwright-core is absent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { option, loadPlaywright, launchBrowser, startFixture, api, traceNamed } from './harness.mjs';

const args = process.argv.slice(2);
const webDir = path.resolve(option(args, '--web-dir'));
const uiDir = path.resolve(option(args, '--ui-dir'));
const artifacts = path.resolve(option(args, '--artifacts', 'view_browser_artifacts'));
fs.mkdirSync(artifacts, { recursive: true });
if (!fs.existsSync(path.join(uiDir, 'index.html'))) {
  console.log(`FAIL: the page is not built in ${uiDir}: build the target otelweb_view_ui (ninja) first`);
  process.exit(1);
}

const playwright = loadPlaywright(webDir);
const browser = await launchBrowser(playwright);
const server = await startFixture(uiDir, 2000);
const base = server.url;
console.log(`server: ${server.line}`);

let passed = 0;
let failed = 0;
const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
page.setDefaultTimeout(5000);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));

async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').slice(0, 6).join('\n  ')}`);
    await page.screenshot({ path: path.join(artifacts, `failed-${name.replace(/\W+/g, '_')}.png`) }).catch(() => {});
  }
}

const rowNames = (sel) => page.$$eval(sel, (els) => els.map((e) => e.querySelector('.root-name, .span-name').textContent));
const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

await test('trace list shows every trace newest first with root name, services, spans, duration', async () => {
  await page.goto(base + '/');
  const all = await api(base, '/api/traces?limit=1000');
  await page.waitForFunction((n) => document.querySelectorAll('.trace-row').length === n, all.total);
  const ids = await page.$$eval('.trace-row', (els) => els.map((e) => e.dataset.traceId));
  const byStart = [...all.traces].sort((a, b) => (BigInt(b.startTimeUnixNano) > BigInt(a.startTimeUnixNano) ? 1 : -1));
  assert.deepEqual(ids, byStart.map((t) => t.traceId));
  const fetch = await traceNamed(base, 'GET /fetch-external');
  const row = page.locator(`.trace-row[data-trace-id="${fetch.traceId}"]`);
  const text = await row.innerText();
  assert.match(text, /GET \/fetch-external/);
  assert.match(text, /seed-app/);
  assert.match(text, /seed-backend/);
  assert.match(text, new RegExp(`\\b${fetch.spanCount}\\b`));
  assert.match(text, /ms/);
  await shot('trace-list');
});

await test('error filter keeps only traces with an ERROR span, each marked', async () => {
  await page.check('input[name=error]');
  await page.waitForURL(/error=1/);
  const expected = await api(base, '/api/traces?error=1');
  assert.ok(expected.total >= 1 && expected.total < (await api(base, '/api/traces')).total);
  await page.waitForFunction((n) => document.querySelectorAll('.trace-row').length === n, expected.total);
  const marks = await page.$$eval('.trace-row', (els) => els.map((e) => !!e.querySelector('.error-mark')));
  assert.ok(marks.every(Boolean), 'every row has the error mark');
  assert.ok((await rowNames('.trace-row')).includes('GET /fail'));
  await page.uncheck('input[name=error]');
  await page.waitForFunction(() => !location.search.includes('error'));
});

await test('sort by duration puts the longest trace first', async () => {
  await page.selectOption('select[name=sort]', 'duration');
  const longest = (await api(base, '/api/traces?sort=duration&limit=1')).traces[0];
  await page.waitForFunction((id) => document.querySelector('.trace-row')?.dataset.traceId === id, longest.traceId);
  await page.selectOption('select[name=sort]', 'newest');
});

await test('service and name filters narrow the list', async () => {
  await page.selectOption('select[name=service]', 'seed-backend');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.trace-row')];
    return rows.length === 1 && rows[0].textContent.includes('GET /fetch-external');
  });
  await page.selectOption('select[name=service]', '');
  await page.fill('input[name=name]', 'GET /items');
  const items = await api(base, '/api/traces?name=' + encodeURIComponent('GET /items'));
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll('.trace-row')];
    return rows.length === n && rows.every((r) => r.textContent.includes('GET /items'));
  }, items.total);
  await page.click('text=Clear');
});

await test('a new trace appears without reloading (generation polling)', async () => {
  const before = (await api(base, '/api/traces')).total;
  await page.waitForFunction((n) => document.querySelectorAll('.trace-row').length === n, before);
  const added = await (await fetch(base + '/fixture/add', { method: 'POST' })).json();
  await page.waitForSelector(`.trace-row[data-trace-id="${added.traceId}"]`, { timeout: 4000 });
});

await test('waterfall shows the rows of a cross-service trace nested by parent', async () => {
  const fetch = await traceNamed(base, 'GET /fetch-external');
  await page.goto(base + '/');
  await page.click(`.trace-row[data-trace-id="${fetch.traceId}"] .root-name`);
  await page.waitForURL(new RegExp(`/trace/${fetch.traceId}$`));
  await page.waitForSelector('.wf-row');
  const rows = await page.$$eval('.wf-row', (els) =>
    els.map((e) => [e.querySelector('.svc').textContent, e.querySelector('.span-name').textContent, Number(e.dataset.depth)]));
  assert.deepEqual(rows, [
    ['seed-app', 'GET /fetch-external', 0],
    ['seed-app', 'GET', 1],
    ['seed-backend', 'GET /external', 2],
    ['seed-backend', 'render payload', 3],
  ]);
  const colors = await page.$$eval('.wf-row .bar', (els) => els.map((e) => e.style.background));
  assert.equal(colors[0], colors[1], 'same service, same colour');
  assert.notEqual(colors[1], colors[2], 'another service, another colour');
  assert.match(await page.innerText('.wf-row >> nth=2'), /SERVER/);
});

await test('span details show attributes, resource, scope, status; a link jumps to the linked span', async () => {
  await page.click('.wf-row:has-text("GET /external")');
  const details = page.locator('[data-testid=span-details]');
  await details.waitFor();
  assert.match(await details.innerText(), /seed-backend/);
  assert.match(await page.innerText('[data-testid=span-attributes]'), /http\.route\s+\/external/);
  assert.match(await page.innerText('[data-testid=span-resource]'), /service\.name\s+seed-backend/);
  assert.match(await page.innerText('[data-testid=span-scope]'), /otelweb/);
  assert.match(page.url(), /\?span=[0-9a-f]{16}$/);
  await shot('trace-page');
  if (process.env.OTELWEB_VIEW_DOCS_SCREENSHOT) await page.screenshot({ path: process.env.OTELWEB_VIEW_DOCS_SCREENSHOT });
  // The client span links to the first /items trace's root span.
  await page.click('.wf-row:has(.span-name:text-is("GET"))');
  const link = page.locator('[data-testid=span-link]');
  const href = await link.getAttribute('href');
  const m = /^\/trace\/([0-9a-f]{32})\?span=([0-9a-f]{16})$/.exec(href);
  assert.ok(m, `link href ${href}`);
  await link.click();
  await page.waitForURL(new RegExp(`/trace/${m[1]}\\?span=${m[2]}$`));
  await page.waitForSelector(`.wf-row.selected[data-span-id="${m[2]}"]`);
  assert.equal(await page.getAttribute('[data-testid=span-details]', 'data-span-id'), m[2]);
});

await test('a deep link to a span opens the trace with that span selected and its details', async () => {
  const fail = await traceNamed(base, 'GET /fail');
  const trace = await api(base, `/api/traces/${fail.traceId}`);
  const child = trace.spans.find((s) => s.parentSpanId);
  await page.goto(`${base}/trace/${fail.traceId}?span=${child.spanId}`);
  await page.waitForSelector(`.wf-row.selected[data-span-id="${child.spanId}"]`);
  assert.match(await page.innerText('[data-testid=span-status]'), /ERROR: no such table: missing/);
  assert.match(await page.innerText('[data-testid=span-details]'), /exception/);
  await page.goto(`${base}/trace/${'0'.repeat(31)}1`);
  assert.match(await page.innerText('[data-testid=trace-error]'), /not stored/);
});

await test('a 2000-span trace renders only the rows in view; search, next error and collapse work', async () => {
  const big = await traceNamed(base, 'POST /batch');
  await page.goto(`${base}/trace/${big.traceId}`);
  await page.waitForSelector('.wf-row');
  assert.equal(await page.innerText('[data-testid=span-count]'), `${big.spanCount} spans`);
  const inDom = await page.$$eval('.wf-row', (els) => els.length);
  assert.ok(inDom < 120, `virtualized: ${inDom} rows in the DOM for ${big.spanCount} spans`);
  // Search: "step 1234" matches exactly that span; Enter selects and scrolls to it.
  await page.fill('[data-testid=trace-search]', 'step 1234');
  await page.waitForFunction(() => document.querySelector('[data-testid=match-count]').textContent === '0 of 1');
  await page.press('[data-testid=trace-search]', 'Enter');
  await page.waitForSelector('.wf-row.selected.current:has-text("step 1234")');
  assert.equal(await page.innerText('[data-testid=match-count]'), '1 of 1');
  // Next error from there: the first ERROR span after it in tree order.
  await page.click('[data-testid=next-error]');
  await page.waitForFunction(() => document.querySelector('[data-testid=span-status]')?.textContent.startsWith('ERROR'));
  const sel = await page.getAttribute('.wf-row.selected', 'data-span-id');
  const trace = await api(base, `/api/traces/${big.traceId}`);
  assert.equal(trace.spans.find((s) => s.spanId === sel).status.code, 'ERROR');
  // Collapse the root: one row left; expand: all back.
  await page.goto(`${base}/trace/${big.traceId}`);
  await page.click('.wf-row[data-depth="0"] .toggle');
  await page.waitForFunction(() => document.querySelectorAll('.wf-row').length === 1);
  assert.match(await page.innerText('.wf-row'), new RegExp(`\\+${big.spanCount - 1}`));
  await page.click('.wf-row[data-depth="0"] .toggle');
  await page.waitForFunction(() => document.querySelectorAll('.wf-row').length > 20);
  await shot('big-trace');
});

await test('export links point at the API and return OTLP JSON', async () => {
  const fetch = await traceNamed(base, 'GET /fetch-external');
  await page.goto(`${base}/trace/${fetch.traceId}`);
  const href = await page.getAttribute('[data-testid=export-trace]', 'href');
  assert.equal(href, `/api/traces/${fetch.traceId}/otlp`);
  const body = await (await page.request.get(base + href)).json();
  assert.ok(body.resourceSpans.length >= 2);
  await page.goto(`${base}/?error=1`);
  const exp = await page.getAttribute('[data-testid=export-results]', 'href');
  assert.match(exp, /^\/api\/export\?error=1/);
  const lines = (await (await page.request.get(base + exp)).text()).trim().split('\n');
  assert.equal(lines.length, (await api(base, '/api/traces?error=1')).total);
  assert.ok(JSON.parse(lines[0]).resourceSpans);
});

await test('no script errors on any page', async () => {
  assert.deepEqual(pageErrors, []);
});

await browser.close();
await server.stop();
console.log(`screenshots: ${artifacts}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
