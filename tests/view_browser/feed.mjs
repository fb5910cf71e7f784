// The real otelweb-view under test, fed by real exporters: the seed app's two
// services (examples/seed, otelweb's OTLP/HTTP protobuf exporter) answer
// requests, and one large synthetic trace arrives as OTLP/JSON on /v1/traces.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, api, track } from './harness.mjs';

// otelweb-view on free ports; the page compiled in unless uiDir is given.
export async function startView(bin, uiDir) {
  const args = ['--ui-port', '0', '--grpc-port', '0', '--http-port', '0'];
  if (uiDir) args.push('--ui-dir', uiDir);
  const s = await startServer(bin, args);
  const m = /http=(\S+)/.exec(s.line);
  if (!m) throw new Error(`otelweb-view's first line names no http= port: ${s.line}`);
  s.otlpHttp = `http://${m[1]}`;
  return s;
}

function waitListening(child, name) {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within 10 s: ${err}`)), 10000);
    const early = (code) => reject(new Error(`${name} exited with ${code}: ${err}`));
    child.on('exit', early);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.off('exit', early);
        resolve(Number(m[1]));
      }
    });
  });
}

// SIGTERM, then SIGKILL after 2 s (a service may wait for an idle keep-alive
// connection to time out).
const stopChild = (child) =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.on('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });

// seed_backend + seed_app exporting over OTLP/HTTP protobuf to `endpoint`.
export async function startSeed(binDir, endpoint) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'otelweb-view-browser-'));
  const env = {
    ...process.env,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    // Logs and metrics to the viewer too (issue 16: logs under their spans,
    // exemplars on the metrics page); the backend sends traces only.
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_BLRP_SCHEDULE_DELAY: '50',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    SEED_DB: path.join(work, 'seed.db'),
    FETCH_TIMEOUT_MS: '300',
    PORT: '0',
    BACKEND_PORT: '0',
  };
  const backend = track(spawn(path.join(binDir, 'seed_backend'), [], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  const backendPort = await waitListening(backend, 'seed_backend');
  const app = track(
    spawn(path.join(binDir, 'seed_app'), [], {
      env: { ...env, BACKEND_PORT: String(backendPort) },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const appPort = await waitListening(app, 'seed_app');
  return {
    url: `http://127.0.0.1:${appPort}`,
    stop: async () => {
      await stopChild(app);
      await stopChild(backend);
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

// Waits until the API lists `n` traces (exports are asynchronous).
export async function waitForTraces(base, n, query = '') {
  const deadline = Date.now() + 10000;
  for (;;) {
    const r = await api(base, `/api/traces?limit=1000${query}`);
    if (r.total >= n) return r;
    if (Date.now() > deadline) throw new Error(`${r.total} traces stored after 10 s, expected ${n}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

const hex = (n, len) => n.toString(16).padStart(len, '0');
const attr = (key, v) => ({
  key,
  value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: String(v) },
});

// One trace of `n` spans over three services as OTLP/JSON: a tree ten wide,
// every 97th span an ERROR; span "step 1" links to `link` ({traceId, spanId}).
export function bigTraceRequest(n, link) {
  const traceId = 'b16' + hex(Date.now(), 29);
  const services = ['gateway', 'orders', 'inventory'];
  const t0 = BigInt(Date.now()) * 1000000n;
  const total = 2000000000;
  const spans = [];
  for (let k = 0; k < n; k++) {
    const parent = k === 0 ? null : spans[Math.floor((k - 1) / 10)];
    const start = parent ? parent.start + BigInt(Math.floor((parent.dur / 10) * ((k - 1) % 10))) : t0;
    const dur = parent ? Math.max(1000, Math.floor(parent.dur / 12)) : total;
    spans.push({ k, start, dur, id: hex(0x100000 + k, 16), parent, service: services[k % 3] });
  }
  const byService = services.map((service) => ({
    resource: { attributes: [attr('service.name', service)] },
    scopeSpans: [{ scope: { name: 'view-bench', version: '1' }, spans: [] }],
  }));
  for (const s of spans) {
    byService[s.k % 3].scopeSpans[0].spans.push({
      traceId,
      spanId: s.id,
      parentSpanId: s.parent ? s.parent.id : '',
      name: s.k === 0 ? 'POST /batch' : `step ${s.k}`,
      kind: s.k === 0 ? 2 : s.k % 2 ? 1 : 3,
      startTimeUnixNano: s.start.toString(),
      endTimeUnixNano: (s.start + BigInt(s.dur)).toString(),
      attributes: s.k === 0 ? [attr('http.route', '/batch')] : [attr('batch.item', s.k), attr('batch.key', `key-${s.k}`)],
      links: s.k === 1 && link ? [{ traceId: link.traceId, spanId: link.spanId, attributes: [attr('reason', 'follows')] }] : [],
      status: s.k > 0 && s.k % 97 === 0 ? { code: 2, message: `item ${s.k} failed` } : {},
    });
  }
  return { traceId, body: JSON.stringify({ resourceSpans: byService }) };
}

export async function postOtlpJson(otlpHttp, body) {
  const r = await fetch(`${otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) throw new Error(`POST /v1/traces: HTTP ${r.status} ${await r.text()}`);
}

// The benchmark's server: otelweb-view holding one trace of `n` spans.
export async function startViewWithBigTrace(bin, uiDir, n) {
  const view = await startView(bin, uiDir);
  await postOtlpJson(view.otlpHttp, bigTraceRequest(n, null).body);
  const deadline = Date.now() + 30000;
  while ((await waitForTraces(view.url, 1)).traces[0].spanCount < n) {
    if (Date.now() > deadline) throw new Error(`the ${n}-span trace was not stored within 30 s`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
  return view;
}
