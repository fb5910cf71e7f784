// The official OpenTelemetry JavaScript SDK as a sender to otelweb-view (issue
// 15: "the official OpenTelemetry JavaScript SDK can export to it as well as
// our own exporters: both show up correctly"): sdk-trace-base with its
// BatchSpanProcessor and @opentelemetry/exporter-trace-otlp-http (OTLP/HTTP
// protobuf), from tests/js's packages (installed there if missing).
//
//   const { traceId } = await sendWithJsSdk('http://127.0.0.1:PORT');
//
// One trace of service `js-sdk-peer`: SERVER `GET /js-sdk` -> INTERNAL
// `render` -> CLIENT `SELECT cart` (ERROR, an event); resolves once the
// exporter reports the batch accepted.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadOrInstall } from '../js/peers.mjs';

const jsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../js');

export async function sendWithJsSdk(otlpHttp) {
  const require = createRequire(path.join(jsDir, 'package.json'));
  const { api, base, resources, OTLPTraceExporter } = loadOrInstall(() => ({
    api: require('@opentelemetry/api'),
    base: require('@opentelemetry/sdk-trace-base'),
    resources: require('@opentelemetry/resources'),
    OTLPTraceExporter: require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter,
  }));
  const exporter = new OTLPTraceExporter({ url: `${otlpHttp}/v1/traces` });
  let exported = 0;
  const failures = [];
  const counting = {
    export(spans, done) {
      exporter.export(spans, (r) => {
        if (r.code === 0) exported += spans.length;
        else failures.push(String(r.error));
        done(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  const provider = new base.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': 'js-sdk-peer', 'deployment.environment': 'test' }),
    spanProcessors: [new base.BatchSpanProcessor(counting)],
  });
  const tracer = provider.getTracer('js-sdk-sender', '1.0.0');
  const root = tracer.startSpan('GET /js-sdk', {
    kind: api.SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.route': '/js-sdk', 'http.response.status_code': 500 },
  });
  const inRoot = api.trace.setSpan(api.context.active(), root);
  const render = tracer.startSpan('render', { kind: api.SpanKind.INTERNAL, attributes: { items: 3 } }, inRoot);
  const inRender = api.trace.setSpan(api.context.active(), render);
  const query = tracer.startSpan('SELECT cart', { kind: api.SpanKind.CLIENT, attributes: { 'db.system': 'sqlite' } }, inRender);
  query.addEvent('cache miss', { key: 'cart:42' });
  query.setStatus({ code: api.SpanStatusCode.ERROR, message: 'no such table: cart' });
  query.end();
  render.end();
  root.setStatus({ code: api.SpanStatusCode.ERROR });
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  if (exported !== 3) throw new Error(`the JS SDK exported ${exported} of 3 spans: ${failures.join('; ')}`);
  return { traceId: root.spanContext().traceId };
}
