// Issue 15: the official OpenTelemetry JavaScript SDK exports to otelweb-view
// (the real program, argv[2]) over OTLP/HTTP protobuf, OTLP/HTTP JSON (plain
// and gzip) and OTLP/gRPC: spans made by sdk-trace-base, encoded by
// @opentelemetry/otlp-transformer's serializers (what the SDK's OTLP exporters
// send), and each trace read back through the viewer's JSON API.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import zlib from 'node:zlib';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadOrInstall } from './peers.mjs';

const require = createRequire(import.meta.url);
let api, base, resources, transformer, grpc;
loadOrInstall(() => {
  api = require('@opentelemetry/api');
  base = require('@opentelemetry/sdk-trace-base');
  resources = require('@opentelemetry/resources');  // a dependency of sdk-trace-base
  transformer = require('@opentelemetry/otlp-transformer');
  grpc = require('@grpc/grpc-js');
});
setTimeout(() => { console.error('FAIL: timed out after 60 s'); process.exit(1); }, 60000).unref();

const view = spawn(process.argv[2], ['--ui-port', '0', '--grpc-port', '0', '--http-port', '0'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const line = await new Promise((resolve, reject) => {
  createInterface({ input: view.stdout }).once('line', resolve);
  view.once('exit', (code) => reject(new Error(`otelweb-view exited with ${code}`)));
});
const m = /^ui=http:\/\/127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)$/.exec(line);
assert.ok(m, `first line: ${line}`);
const [ui, grpcPort, httpPort] = [m[1], m[2], m[3]];

const exporter = new base.InMemorySpanExporter();
const provider = new base.BasicTracerProvider({
  resource: resources.resourceFromAttributes({ 'service.name': 'js-peer' }),
  spanProcessors: [new base.SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('view-interop', '9.9');

// One trace: GET /js (SERVER, http.route, an int and a bool) -> SELECT (CLIENT, ERROR, an event).
function makeTrace(label) {
  exporter.reset();
  const root = tracer.startSpan(`GET /js-${label}`, { kind: api.SpanKind.SERVER,
    attributes: { 'http.route': `/js-${label}`, 'http.response.status_code': 200, cached: false } });
  const ctx = api.trace.setSpan(api.context.active(), root);
  const child = tracer.startSpan('SELECT', { kind: api.SpanKind.CLIENT }, ctx);
  child.addEvent('rows', { count: 3 });
  child.setStatus({ code: api.SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  root.end();
  return { traceId: root.spanContext().traceId, spans: exporter.getFinishedSpans() };
}

async function post(path, body, contentType, gzip) {
  const headers = { 'Content-Type': contentType };
  if (gzip) { body = zlib.gzipSync(body); headers['Content-Encoding'] = 'gzip'; }
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, { method: 'POST', headers, body });
  assert.equal(r.status, 200, `${path} ${contentType}: ${await r.text()}`);
}

function grpcExport(bytes) {
  const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b) => b, (b) => b, Buffer.from(bytes), (err) => { client.close(); err ? reject(err) : resolve(); });
  });
}

const sent = {};
let t = makeTrace('protobuf');
await post('/v1/traces', transformer.ProtobufTraceSerializer.serializeRequest(t.spans), 'application/x-protobuf');
sent.protobuf = t.traceId;
t = makeTrace('json');
await post('/v1/traces', transformer.JsonTraceSerializer.serializeRequest(t.spans), 'application/json');
sent.json = t.traceId;
t = makeTrace('json-gzip');
await post('/v1/traces', transformer.JsonTraceSerializer.serializeRequest(t.spans), 'application/json', true);
sent['json-gzip'] = t.traceId;
t = makeTrace('grpc');
await grpcExport(transformer.ProtobufTraceSerializer.serializeRequest(t.spans));
sent.grpc = t.traceId;

const get = async (path) => {
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`http://127.0.0.1:${ui}${path}`);
    if (r.status === 200) return r.json();
    await new Promise((res) => setTimeout(res, 50));  // stored by the writer thread a moment later
  }
  throw new Error(`${path} never answered 200`);
};
for (const [label, traceId] of Object.entries(sent)) {
  const tr = await get(`/api/traces/${traceId}`);
  assert.equal(tr.spans.length, 2, label);
  const [root, child] = tr.spans;
  assert.equal(root.name, `GET /js-${label}`, label);
  assert.equal(root.kind, 'SERVER', label);
  assert.equal(root.parentSpanId, '', label);
  assert.equal(root.service, 'js-peer', label);
  assert.equal(root.attributes['http.route'], `/js-${label}`, label);
  assert.equal(root.attributes['http.response.status_code'], 200, label);
  assert.equal(root.attributes.cached, false, label);
  const scope = tr.scopes[root.scopeIndex];  // each scope listed once (docs/view.md)
  assert.equal(scope.name, 'view-interop', label);
  assert.equal(scope.version, '9.9', label);
  assert.equal(tr.resources[root.resourceIndex].attributes['service.name'], 'js-peer', label);
  assert.equal(child.parentSpanId, root.spanId, label);
  assert.equal(child.kind, 'CLIENT', label);
  assert.deepEqual(child.status, { code: 'ERROR', message: 'boom' }, label);
  assert.equal(child.events[0].name, 'rows', label);
  assert.equal(child.events[0].attributes.count, 3, label);
  const list = await get(`/api/traces?name=${encodeURIComponent(`/js-${label}`)}&error=1`);
  assert.deepEqual(list.traces.map((x) => x.traceId), [traceId], label);
  console.log(`ok: ${label} trace ${traceId} shows up`);
}
view.kill('SIGTERM');
await new Promise((res) => view.once('exit', res));
console.log('PASS: the OpenTelemetry JS SDK exports to otelweb-view over every transport');
