// Interop: otelweb's HTTP clients (cpp-httplib TracedClient, libcurl Easy and
// Multi) call a Node.js HTTP server instrumented with the official
// OpenTelemetry packages (@opentelemetry/instrumentation-http on a
// NodeTracerProvider). For each client, the Node server span must be in the
// client's trace and have the client span as its parent.
//
// Usage: node clients_interop.mjs <path to otelweb_clients_interop_client>
// Exit codes: 0 pass, 1 fail (including when the npm packages cannot be installed).
import { createRequire } from 'node:module';
import { loadOrInstall, runClient } from './peers.mjs';

const require = createRequire(import.meta.url);
let api, base, node, instr, httpInstr;
const load = () => {
  api = require('@opentelemetry/api');
  base = require('@opentelemetry/sdk-trace-base');
  node = require('@opentelemetry/sdk-trace-node');
  instr = require('@opentelemetry/instrumentation');
  httpInstr = require('@opentelemetry/instrumentation-http');
};
loadOrInstall(load);

const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
};
setTimeout(() => fail('timed out after 60 s'), 60000).unref();

const exporter = new base.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({
  spanProcessors: [new base.SimpleSpanProcessor(exporter)],
});
provider.register(); // W3C trace context + baggage propagators, async-hooks context
instr.registerInstrumentations({ instrumentations: [new httpInstr.HttpInstrumentation()] });
// Loaded after the instrumentation is registered, so that it is patched.
const http = require('node:http');

const received = new Map(); // X-Client -> traceparent the server received
const server = http.createServer((req, res) => {
  received.set(req.headers['x-client'], req.headers.traceparent);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello from node');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;

const { code, out, err } = await runClient(process.argv[2], [String(port)], 60000);
server.close();
if (code !== 0) fail(`client exited with ${code}:\n${out}\n${err}`);

const clients = out.split('\n').filter((l) => l.startsWith('CLIENT ')).map((l) => {
  const [, label, traceId, spanId, status] = l.split(' ');
  return { label, traceId, spanId, status: Number(status) };
});
const labels = ['httplib', 'curl-easy', 'curl-multi'];
const spans = exporter.getFinishedSpans();
const parentOf = (s) => (s.parentSpanContext ? s.parentSpanContext.spanId : s.parentSpanId);
let passed = 0;
for (const label of labels) {
  const c = clients.find((x) => x.label === label);
  if (!c) fail(`no client span printed for ${label}:\n${out}`);
  if (c.status !== 200) fail(`${label}: client span status code ${c.status}`);
  const tp = received.get(label);
  if (!tp) fail(`${label}: the server received no traceparent`);
  const [, tpTrace, tpParent] = tp.split('-');
  if (tpTrace !== c.traceId || tpParent !== c.spanId) {
    fail(`${label}: traceparent ${tp} does not name client span ${c.traceId}/${c.spanId}`);
  }
  const srv = spans.find((s) => s.kind === api.SpanKind.SERVER && parentOf(s) === c.spanId);
  if (!srv) fail(`${label}: no Node server span with parent ${c.spanId}`);
  if (srv.spanContext().traceId !== c.traceId) {
    fail(`${label}: server trace ${srv.spanContext().traceId} != client trace ${c.traceId}`);
  }
  console.log(`PASS ${label}: Node server span ${srv.spanContext().spanId} in trace ${c.traceId}, parent = otelweb client span ${c.spanId}`);
  ++passed;
}
console.log(`${passed} passed, 0 failed`);
process.exit(0);
