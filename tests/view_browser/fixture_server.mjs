// A stand-in for otelweb-view's JSON API (docs/view.md), for developing the
// page with `vite dev` and for the browser tests while the real program is not
// built in this tree. It serves the same API shape from generated traces: the
// seed app's operations (/items, /fetch-external across two services, a
// failing request, a span link) and, on request, one 10 000-span trace.
//
//   node fixture_server.mjs [--port N] [--ui-dir DIR] [--big-spans N]
//
// The first stdout line is `ui=http://127.0.0.1:PORT` like otelweb-view's.
// POST /fixture/add stores one more /items trace (live-update tests).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt('--port', '0'));
const uiDir = opt('--ui-dir', '');
const bigSpans = Number(opt('--big-spans', '0'));

let seq = 1;
const hex = (n, len) => n.toString(16).padStart(len, '0');
const newTraceId = () => hex(0xabc000 + seq++, 32);
let spanSeq = 1;
const newSpanId = () => hex(0x1000 + spanSeq++, 16);

const traces = new Map(); // traceId -> spans
let generation = 1;
const base = 1764547200000000000n; // 2025-12-01T00:00:00Z

const resourceOf = (service) => ({
  attributes: { 'service.name': service, 'telemetry.sdk.language': 'cpp', 'telemetry.sdk.name': 'otelweb' },
});

function span(traceId, parent, service, name, kind, startNs, durNs, extra = {}) {
  const s = {
    spanId: newSpanId(),
    parentSpanId: parent ? parent.spanId : '',
    name,
    kind,
    service,
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: (startNs + BigInt(durNs)).toString(),
    durationNano: durNs,
    status: { code: 'UNSET', message: '' },
    attributes: {},
    events: [],
    links: [],
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    resource: resourceOf(service),
    scope: { name: 'otelweb', version: '0.1.0' },
    traceState: '',
    ...extra,
  };
  traces.get(traceId).push(s);
  return s;
}

function addItems(t0) {
  const id = newTraceId();
  traces.set(id, []);
  const root = span(id, null, 'seed-app', 'GET /items', 'SERVER', t0, 4_200_000, {
    attributes: { 'http.request.method': 'GET', 'http.route': '/items', 'http.response.status_code': 200, 'url.path': '/items' },
  });
  const conn = span(id, root, 'seed-app', 'sqlite3_open_v2', 'CLIENT', t0 + 200_000n, 600_000, {
    attributes: { 'db.system': 'sqlite', 'db.namespace': 'items.db' },
  });
  span(id, root, 'seed-app', 'SELECT items', 'CLIENT', t0 + 900_000n, 2_500_000, {
    attributes: { 'db.system': 'sqlite', 'db.query.text': 'SELECT id, name FROM items', 'db.response.returned_rows': 3 },
    events: [{ name: 'rows fetched', timeUnixNano: (t0 + 3_000_000n).toString(), attributes: { rows: 3 } }],
  });
  void conn;
  return id;
}

function addFetchExternal(t0, linkTo) {
  const id = newTraceId();
  traces.set(id, []);
  const root = span(id, null, 'seed-app', 'GET /fetch-external', 'SERVER', t0, 12_000_000, {
    attributes: { 'http.request.method': 'GET', 'http.route': '/fetch-external', 'http.response.status_code': 200 },
  });
  const client = span(id, root, 'seed-app', 'GET', 'CLIENT', t0 + 500_000n, 10_000_000, {
    attributes: { 'http.request.method': 'GET', 'url.full': 'http://127.0.0.1:8081/external', 'server.port': 8081 },
    links: linkTo ? [{ traceId: linkTo.traceId, spanId: linkTo.spanId, attributes: { reason: 'follows' } }] : [],
  });
  const backend = span(id, client, 'seed-backend', 'GET /external', 'SERVER', t0 + 1_000_000n, 8_500_000, {
    attributes: { 'http.request.method': 'GET', 'http.route': '/external', 'http.response.status_code': 200 },
  });
  span(id, backend, 'seed-backend', 'render payload', 'INTERNAL', t0 + 2_000_000n, 5_000_000);
  return id;
}

function addFailure(t0) {
  const id = newTraceId();
  traces.set(id, []);
  const root = span(id, null, 'seed-app', 'GET /fail', 'SERVER', t0, 2_000_000, {
    attributes: { 'http.request.method': 'GET', 'http.route': '/fail', 'http.response.status_code': 500 },
    status: { code: 'ERROR', message: '' },
  });
  span(id, root, 'seed-app', 'SELECT missing', 'CLIENT', t0 + 300_000n, 900_000, {
    attributes: { 'db.system': 'sqlite', 'db.query.text': 'SELECT * FROM missing' },
    status: { code: 'ERROR', message: 'no such table: missing' },
    events: [
      {
        name: 'exception',
        timeUnixNano: (t0 + 1_100_000n).toString(),
        attributes: { 'exception.type': 'sqlite_error', 'exception.message': 'no such table: missing' },
      },
    ],
  });
  return id;
}

// A trace of `n` spans over three services: a tree ten wide, a few errors.
function addBig(t0, n) {
  const id = newTraceId();
  traces.set(id, []);
  const services = ['gateway', 'orders', 'inventory'];
  const total = 2_000_000_000;
  const root = span(id, null, 'gateway', 'POST /batch', 'SERVER', t0, total, { attributes: { 'http.route': '/batch' } });
  const all = [root];
  for (let k = 1; k < n; k++) {
    const parent = all[Math.floor((k - 1) / 10)];
    const ps = BigInt(parent.startTimeUnixNano);
    const pd = parent.durationNano;
    const slot = (k - 1) % 10;
    const start = ps + BigInt(Math.floor((pd / 10) * slot));
    const dur = Math.max(1000, Math.floor(pd / 12));
    const failed = k % 97 === 0;
    all.push(
      span(id, parent, services[k % 3], `step ${k}`, k % 2 ? 'INTERNAL' : 'CLIENT', start, dur, {
        attributes: { 'batch.item': k, 'batch.key': `key-${k}` },
        status: failed ? { code: 'ERROR', message: `item ${k} failed` } : { code: 'UNSET', message: '' },
      }),
    );
  }
  return id;
}

const now = base;
const itemsIds = [addItems(now), addItems(now + 1_000_000_000n)];
const failId = addFailure(now + 2_000_000_000n);
const firstItems = traces.get(itemsIds[0])[0];
const fetchId = addFetchExternal(now + 3_000_000_000n, { traceId: itemsIds[0], spanId: firstItems.spanId });
const bigId = bigSpans > 0 ? addBig(now + 4_000_000_000n, bigSpans) : '';
void failId;
void fetchId;

function summary(traceId) {
  const spans = traces.get(traceId);
  const root = spans.find((s) => !s.parentSpanId);
  let start = null;
  let end = null;
  for (const s of spans) {
    const a = BigInt(s.startTimeUnixNano);
    const b = BigInt(s.endTimeUnixNano);
    if (start === null || a < start) start = a;
    if (end === null || b > end) end = b;
  }
  return {
    traceId,
    rootName: root ? root.name : '',
    rootService: root ? root.service : '',
    services: [...new Set(spans.map((s) => s.service))].sort(),
    spanCount: spans.length,
    errorCount: spans.filter((s) => s.status.code === 'ERROR').length,
    startTimeUnixNano: (root ? BigInt(root.startTimeUnixNano) : start).toString(),
    durationNano: root ? root.durationNano : Number(end - start),
  };
}

function filterTraces(q) {
  let out = [...traces.keys()].map(summary);
  const spansOf = (t) => traces.get(t.traceId);
  if (q.get('service')) out = out.filter((t) => t.services.includes(q.get('service')));
  if (q.get('name')) {
    const n = q.get('name');
    out = out.filter((t) => spansOf(t).some((s) => s.name === n || s.attributes['http.route'] === n));
  }
  if (q.get('error') === '1') out = out.filter((t) => t.errorCount > 0);
  if (q.get('minDuration')) out = out.filter((t) => t.durationNano >= Number(q.get('minDuration')));
  if (q.get('maxDuration')) out = out.filter((t) => t.durationNano <= Number(q.get('maxDuration')));
  if (q.get('start')) out = out.filter((t) => BigInt(t.startTimeUnixNano) >= BigInt(q.get('start')));
  if (q.get('end')) out = out.filter((t) => BigInt(t.startTimeUnixNano) <= BigInt(q.get('end')));
  for (const a of q.getAll('attr')) {
    const eq = a.indexOf('=');
    if (eq < 0) continue;
    const k = a.slice(0, eq);
    const v = a.slice(eq + 1);
    out = out.filter((t) => spansOf(t).some((s) => k in s.attributes && String(s.attributes[k]) === v));
  }
  if (q.get('sort') === 'duration') out.sort((a, b) => b.durationNano - a.durationNano);
  else out.sort((a, b) => (BigInt(b.startTimeUnixNano) > BigInt(a.startTimeUnixNano) ? 1 : -1));
  const total = out.length;
  const offset = Number(q.get('offset') || 0);
  const limit = Math.min(1000, Number(q.get('limit') || 50));
  return { traces: out.slice(offset, offset + limit), total };
}

function otlpValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Number.isInteger(v)) return { intValue: String(v) };
  if (typeof v === 'number') return { doubleValue: v };
  return { stringValue: JSON.stringify(v) };
}
const otlpAttrs = (o) => Object.entries(o || {}).map(([key, v]) => ({ key, value: otlpValue(v) }));
const KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const CODE = { UNSET: 0, OK: 1, ERROR: 2 };

function otlpRequest(traceId) {
  const byService = new Map();
  for (const s of traces.get(traceId)) {
    if (!byService.has(s.service)) byService.set(s.service, []);
    byService.get(s.service).push({
      traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      kind: KIND[s.kind],
      startTimeUnixNano: s.startTimeUnixNano,
      endTimeUnixNano: s.endTimeUnixNano,
      attributes: otlpAttrs(s.attributes),
      events: s.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: otlpAttrs(e.attributes) })),
      links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: otlpAttrs(l.attributes) })),
      status: { code: CODE[s.status.code], message: s.status.message },
    });
  }
  return {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: otlpAttrs(resourceOf(service).attributes) },
      scopeSpans: [{ scope: { name: 'otelweb', version: '0.1.0' }, spans }],
    })),
  };
}

// GET /api/traces/<id> as otelweb-view answers it (docs/view.md): resources and
// scopes listed once and named by index, members at their default left out.
function apiTrace(traceId) {
  const resources = [];
  const scopes = [];
  const indexOf = (list, v) => {
    const key = JSON.stringify(v);
    let i = list.findIndex((x) => x.key === key);
    if (i === -1) i = list.push({ key, v }) - 1;
    return i;
  };
  const spans = traces.get(traceId).map((s) => {
    const { resource, scope, events, links, traceState, droppedAttributesCount, droppedEventsCount, droppedLinksCount, status, ...rest } = s;
    const out = { ...rest, status: status.message ? status : { code: status.code } };
    if (events.length) out.events = events;
    if (links.length) out.links = links;
    if (droppedAttributesCount) out.droppedAttributesCount = droppedAttributesCount;
    if (droppedEventsCount) out.droppedEventsCount = droppedEventsCount;
    if (droppedLinksCount) out.droppedLinksCount = droppedLinksCount;
    out.resourceIndex = indexOf(resources, resource);
    out.scopeIndex = indexOf(scopes, scope);
    if (traceState) out.traceState = traceState;
    return out;
  });
  return { traceId, spans, resources: resources.map((x) => x.v), scopes: scopes.map((x) => x.v) };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
const json = (res, status, v) => send(res, status, 'application/json', JSON.stringify(v));

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (req.method === 'POST' && p === '/fixture/add') {
    const id = addItems(now + BigInt(10 + generation) * 1_000_000_000n);
    generation++;
    return json(res, 200, { traceId: id });
  }
  if (p === '/api/services') {
    const all = new Set();
    for (const spans of traces.values()) for (const s of spans) all.add(s.service);
    return json(res, 200, { services: [...all].sort() });
  }
  if (p === '/api/stats') {
    let spans = 0;
    for (const s of traces.values()) spans += s.length;
    return json(res, 200, { traces: traces.size, spans, logs: 0, metricPoints: 0, dbBytes: 0, capBytes: 0, generation });
  }
  if (p === '/api/traces') return json(res, 200, filterTraces(url.searchParams));
  if (p === '/api/export') {
    const lines = filterTraces(url.searchParams).traces.map((t) => JSON.stringify(otlpRequest(t.traceId)));
    return send(res, 200, 'application/x-ndjson', lines.join('\n') + '\n');
  }
  let m = /^\/api\/traces\/([0-9a-f]{32})(\/otlp)?$/.exec(p);
  if (m) {
    if (!traces.has(m[1])) return json(res, 404, { error: `trace ${m[1]} is not stored` });
    if (m[2]) return json(res, 200, otlpRequest(m[1]));
    return json(res, 200, apiTrace(m[1]));
  }
  if (p.startsWith('/api/')) return json(res, 400, { error: `unknown API path ${p}: see docs/view.md` });
  if (!uiDir) return send(res, 404, 'text/plain', 'start with --ui-dir DIR to serve the page\n');
  const file = path.join(uiDir, path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
  if (p !== '/' && fs.existsSync(file) && fs.statSync(file).isFile()) {
    return send(res, 200, TYPES[path.extname(file)] || 'application/octet-stream', fs.readFileSync(file));
  }
  return send(res, 200, TYPES['.html'], fs.readFileSync(path.join(uiDir, 'index.html')));
});

server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(`ui=http://127.0.0.1:${a.port} big=${bigId} fetch=${fetchId} fail=${failId} items=${itemsIds.join(',')}`);
});
