// Interop: a Node.js client instrumented with the official OpenTelemetry SDK
// calls an otelweb-traced cpp-httplib server with its W3C traceparent. The
// server span must carry the client's trace id and have the client span as
// its parent.
//
// Usage: node httplib_server_interop.mjs <path to otelweb_httplib_interop_server>
// Exit codes: 0 pass, 1 fail (also when the npm packages are missing and
// cannot be installed: run scripts/setup, or npm install in tests/js).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { loadOrInstall } from './peers.mjs';

const require = createRequire(import.meta.url);
let api, base, node;
const load = () => {
  api = require('@opentelemetry/api');
  base = require('@opentelemetry/sdk-trace-base');
  node = require('@opentelemetry/sdk-trace-node');
};
loadOrInstall(load);

const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
};
setTimeout(() => fail('timed out after 30 s'), 30000).unref();

const exporter = new base.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({
  spanProcessors: [new base.SimpleSpanProcessor(exporter)],
});
provider.register(); // W3C trace context + baggage propagators, async-hooks context
const tracer = api.trace.getTracer('otelweb-interop-client');

const server = spawn(process.argv[2], [], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
server.stdout.on('data', (d) => { out += d.toString(); });
const port = await new Promise((resolve, reject) => {
  const t = setInterval(() => {
    const m = out.match(/PORT (\d+)/);
    if (m) { clearInterval(t); resolve(Number(m[1])); }
  }, 10);
  server.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
}).catch((e) => fail(e.message));

function get(path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
  });
}

// The client span, made active; its context is injected into the headers.
const res = await tracer.startActiveSpan('GET /hello/{name}', { kind: api.SpanKind.CLIENT },
  async (span) => {
    const headers = {};
    api.propagation.inject(api.context.active(), headers);
    try {
      return await get('/hello/node', headers);
    } finally {
      span.end();
    }
  });
if (res.status !== 200 || res.body !== 'hello node') fail(`unexpected response ${res.status} ${res.body}`);
await get('/shutdown', {});
await new Promise((resolve) => server.on('exit', resolve));

const client = exporter.getFinishedSpans()[0];
const ctx = client.spanContext();
const spans = out.split('\n').filter((l) => l.startsWith('SPAN ')).map((l) => {
  const [, kind, traceId, spanId, parent, ...name] = l.split(' ');
  return { kind, traceId, spanId, parent, name: name.join(' ') };
});
const srv = spans.find((s) => s.name === 'GET /hello/:name');
if (!srv) fail(`no server span for /hello/:name in:\n${out}`);
if (srv.kind !== 'SERVER') fail(`server span kind ${srv.kind}`);
if (srv.traceId !== ctx.traceId) fail(`trace id ${srv.traceId} != client ${ctx.traceId}`);
if (srv.parent !== ctx.spanId) fail(`parent ${srv.parent} != client span ${ctx.spanId}`);
console.log(`PASS: server span ${srv.spanId} in trace ${srv.traceId}, parent = Node client span ${ctx.spanId}`);
console.log('1 passed, 0 failed');
process.exit(0);
