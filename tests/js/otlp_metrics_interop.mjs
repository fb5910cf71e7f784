// Interop (issue 13): the official OpenTelemetry JavaScript packages receive
// otelweb's OTLP metric exports and decode them with their own code: the
// protobuf classes generated into @opentelemetry/otlp-transformer (not our
// .proto files) and a @grpc/grpc-js server, over gRPC, HTTP/protobuf and
// HTTP/JSON, with and without gzip. Every metric's kind, temporality, values,
// attributes, the exponential histogram's scale, zero count and bucket
// ranges, and the histogram's exemplar (trace and span id of the recording
// span, as the C++ client reports them) are checked.
//
// Usage: node otlp_metrics_interop.mjs <path to otelweb_otlp_metrics_interop_client>
import assert from 'node:assert/strict';
import { hex, loadOtlpPeers, runClient, startGrpcReceiver, startHttpReceiver } from './peers.mjs';

const { grpc, pb } = loadOtlpPeers();
const Req = pb.collector.metrics.v1.ExportMetricsServiceRequest;
const Resp = pb.collector.metrics.v1.ExportMetricsServiceResponse;

// Both encodings to one neutral shape: {name: {kind, temporality, monotonic, points}}.
function neutral(req, json) {
  const num = (v) => (v === undefined || v === null ? undefined : Number(v.toString()));
  const attrs = (kvs) => Object.fromEntries((kvs || []).map((kv) => {
    const v = kv.value || {};
    const val = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue.toString()) : v.doubleValue);
    return [kv.key, val];
  }));
  const out = { resource: {}, scope: null, metrics: {} };
  for (const rm of req.resourceMetrics) {
    out.resource = attrs(rm.resource.attributes);
    for (const sm of rm.scopeMetrics) {
      out.scope = `${sm.scope.name}@${sm.scope.version}`;
      for (const m of sm.metrics) {
        const d = m.sum ? ['sum', m.sum] : m.gauge ? ['gauge', m.gauge] : m.histogram ? ['histogram', m.histogram]
          : m.exponentialHistogram ? ['exponentialHistogram', m.exponentialHistogram] : ['?', {}];
        const buckets = (b) => (b ? { offset: b.offset ?? 0, bucketCounts: (b.bucketCounts || []).map(num) } : undefined);
        const points = (d[1].dataPoints || []).map((p) => ({
          attributes: attrs(p.attributes),
          value: p.asInt !== undefined && p.asInt !== null && (json ? true : p.value === 'asInt') ? num(p.asInt) : p.asDouble,
          count: num(p.count), sum: p.sum,
          bucketCounts: p.bucketCounts ? p.bucketCounts.map(num) : undefined,
          explicitBounds: p.explicitBounds,
          min: p.min, max: p.max,
          scale: p.scale ?? 0, zeroCount: num(p.zeroCount) ?? 0, // proto3: absent means 0
          positive: buckets(p.positive), negative: buckets(p.negative),
          exemplars: (p.exemplars || []).map((e) => ({
            value: e.asDouble ?? num(e.asInt),
            traceId: json ? e.traceId : hex(e.traceId), spanId: json ? e.spanId : hex(e.spanId),
          })),
          startBeforeTime: BigInt(p.startTimeUnixNano.toString()) <= BigInt(p.timeUnixNano.toString()),
        }));
        out.metrics[m.name] = { kind: d[0], unit: m.unit, temporality: d[1].aggregationTemporality,
          monotonic: d[1].isMonotonic, points };
      }
    }
  }
  return out;
}

let received = [];
const onError = (error) => received.push({ error });
const { server: httpServer, port: httpPort } = await startHttpReceiver(Resp, (body, { json, gzip, url }) => {
  if (url !== '/v1/metrics') throw new Error(`path ${url}`);
  received.push({ gzip, data: neutral(json ? body : Req.decode(body), json) });
}, onError);
const { server: grpcServer, port: grpcPort } = await startGrpcReceiver(grpc,
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', Resp,
  (bytes) => received.push({ data: neutral(Req.decode(bytes), false) }), onError);

let passed = 0;
let failed = 0;
for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
  for (const gzip of [false, true]) {
    const name = `${protocol}${gzip ? ' gzip' : ''}`;
    received = [];
    const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${grpcPort}` : `http://127.0.0.1:${httpPort}/v1/metrics`;
    const r = await runClient(process.argv[2], [protocol, endpoint, gzip ? '1' : '0']);
    try {
      assert.equal(r.code, 0, `client exit ${r.code}: ${r.err}`);
      const line = r.out.split('\n').find((l) => l.startsWith('EXPECT '));
      assert.ok(line, 'no EXPECT line');
      const want = JSON.parse(line.slice(7));
      assert.deepEqual(received.filter((x) => x.error), []);
      assert.ok(received.length >= 1, 'nothing received');
      if (protocol !== 'grpc') assert.equal(received[0].gzip, gzip, 'Content-Encoding');
      const d = received[0].data;
      assert.equal(d.resource['service.name'], 'metrics-interop');
      assert.equal(d.scope, 'interop.meter@3.1');
      const orders = d.metrics.orders;
      assert.equal(orders.kind, 'sum');
      assert.equal(orders.unit, '{order}');
      assert.equal(orders.temporality, 2);
      assert.equal(orders.monotonic, true);
      assert.deepEqual(orders.points[0].attributes, { region: 'eu', vip: true });
      assert.equal(orders.points[0].value, 3);
      assert.ok(orders.points[0].startBeforeTime);
      assert.equal(d.metrics.balance.kind, 'sum');
      assert.ok(!d.metrics.balance.monotonic);
      assert.equal(d.metrics.balance.points[0].value, -2.5);
      assert.equal(d.metrics.temperature.kind, 'gauge');
      assert.equal(d.metrics.temperature.points[0].value, 21);
      assert.deepEqual(d.metrics.temperature.points[0].attributes, { room: 7 });
      const lat = d.metrics.latency;
      assert.equal(lat.kind, 'histogram');
      assert.equal(lat.temporality, 2);
      const p = lat.points[0];
      assert.equal(p.count, 2);
      assert.equal(p.sum, 20.5);
      assert.deepEqual(p.explicitBounds, [0.1, 1, 10]);
      assert.deepEqual(p.bucketCounts, [0, 1, 0, 1]);
      assert.equal(p.min, 0.5);
      assert.equal(p.max, 20);
      assert.equal(p.exemplars.length, 1);
      assert.deepEqual(p.exemplars[0], { value: 0.5, traceId: want.traceId, spanId: want.spanId });
      const sizes = d.metrics.sizes;
      assert.equal(sizes.kind, 'exponentialHistogram');
      assert.equal(sizes.unit, 'By');
      assert.equal(sizes.temporality, 2);
      const e = sizes.points[0];
      assert.deepEqual(e.attributes, { kind: 'exp' });
      assert.equal(e.count, 6);
      assert.equal(e.sum, 13);
      assert.equal(e.scale, 0);
      assert.equal(e.zeroCount, 1);
      assert.deepEqual(e.positive, { offset: -1, bucketCounts: [1, 1, 1, 1] });
      assert.deepEqual(e.negative, { offset: 0, bucketCounts: [1] });
      assert.equal(e.min, -2);
      assert.equal(e.max, 8);
      console.log(`ok: ${name}`);
      passed++;
    } catch (e) {
      console.log(`FAIL: ${name}: ${e.message}`);
      failed++;
    }
  }
}
httpServer.close();
grpcServer.forceShutdown();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
