// Interop (issue 3): the official OpenTelemetry JavaScript packages receive
// otelweb's OTLP exports and decode them with their own code: the protobuf
// classes generated into @opentelemetry/otlp-transformer (not our .proto
// files) and a @grpc/grpc-js server. Every transport (gRPC, HTTP/protobuf,
// HTTP/JSON), with and without gzip; every span field is compared with what
// the C++ client says it sent.
//
// Usage: node otlp_exporter_interop.mjs <path to otelweb_otlp_interop_client>
// Exit codes: 0 pass, 1 fail (including when the npm packages cannot be installed).
import assert from 'node:assert/strict';
import {
  anyFromJson, anyFromPb, hex, jsonId, jsonInt64, loadOtlpPeers, runClient, startGrpcReceiver, startHttpReceiver,
  str64,
} from './peers.mjs';

const { grpc, pb } = loadOtlpPeers();
const Req = pb.collector.trace.v1.ExportTraceServiceRequest;
const Resp = pb.collector.trace.v1.ExportTraceServiceResponse;

// ---- normalising what was received into the client's neutral shape -------
function flatten(req, json) {
  const any = json ? anyFromJson : anyFromPb;
  const id = json ? (x, len) => jsonId(x, len, `a ${len / 2}-byte id`) : (x) => hex(x);
  const t = json ? (x) => jsonInt64(x, 'a time') : str64;
  const attrs = (l) => (l || []).map((kv) => ({ key: kv.key, value: any(kv.value || {}) }));
  const out = [];
  for (const rs of req.resourceSpans || []) {
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        out.push({
          traceId: id(s.traceId, 32), spanId: id(s.spanId, 16), parentSpanId: id(s.parentSpanId, 16),
          traceState: s.traceState || '', flags: s.flags || 0, name: s.name, kind: s.kind || 0,
          start: t(s.startTimeUnixNano), end: t(s.endTimeUnixNano),
          attributes: attrs(s.attributes), droppedAttributesCount: s.droppedAttributesCount || 0,
          events: (s.events || []).map((e) => ({
            time: t(e.timeUnixNano), name: e.name, attributes: attrs(e.attributes),
            droppedAttributesCount: e.droppedAttributesCount || 0,
          })),
          droppedEventsCount: s.droppedEventsCount || 0,
          links: (s.links || []).map((l) => ({
            traceId: id(l.traceId, 32), spanId: id(l.spanId, 16), traceState: l.traceState || '',
            attributes: attrs(l.attributes), droppedAttributesCount: l.droppedAttributesCount || 0,
            flags: l.flags || 0,
          })),
          droppedLinksCount: s.droppedLinksCount || 0,
          status: { code: (s.status && s.status.code) || 0, message: (s.status && s.status.message) || '' },
          scope: {
            name: (ss.scope && ss.scope.name) || '', version: (ss.scope && ss.scope.version) || '',
            schemaUrl: ss.schemaUrl || '',
          },
          resource: { schemaUrl: rs.schemaUrl || '', attributes: attrs(rs.resource && rs.resource.attributes) },
        });
      }
    }
  }
  return out;
}

// ---- receivers -------------------------------------------------------------
let received = [];
const onError = (error) => received.push({ error });
const { server: httpServer, port: httpPort } = await startHttpReceiver(Resp, (body, { json, gzip, ct }) => {
  received.push({ transport: 'http', gzip, ct, spans: flatten(json ? body : Req.decode(body), json) });
}, onError);
const { server: grpcServer, port: grpcPort } = await startGrpcReceiver(grpc,
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export', Resp, (bytes, call) => {
    const enc = call.metadata.get('grpc-encoding');
    // grpc-js hides grpc-encoding once it has decompressed the message.
    received.push({ transport: 'grpc', gzip: enc.length ? enc[0] === 'gzip' : undefined,
      spans: flatten(Req.decode(bytes), false) });
  }, onError);

// ---- cases ------------------------------------------------------------------
let passed = 0;
let failed = 0;
for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
  for (const gzip of [false, true]) {
    const name = `${protocol}${gzip ? ' gzip' : ''}`;
    received = [];
    const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${grpcPort}` : `http://127.0.0.1:${httpPort}/v1/traces`;
    const r = await runClient(process.argv[2], [protocol, endpoint, gzip ? '1' : '0']);
    try {
      assert.equal(r.code, 0, `client exit ${r.code}: ${r.err}`);
      const line = r.out.split('\n').find((l) => l.startsWith('EXPECT '));
      assert.ok(line, 'no EXPECT line');
      const expected = JSON.parse(line.slice(7));
      const errors = received.filter((x) => x.error);
      assert.deepEqual(errors, []);
      for (const x of received) {
        if (protocol !== 'grpc') {
          assert.equal(x.gzip, gzip, 'Content-Encoding');
          assert.equal(x.ct, protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
        } else if (x.gzip !== undefined) {
          assert.equal(x.gzip, gzip, 'grpc-encoding');
        }
      }
      const got = received.flatMap((x) => x.spans);
      assert.equal(got.length, expected.length, 'span count');
      for (const want of expected) {
        const same = got.filter((s) => s.spanId === want.spanId);
        assert.equal(same.length, 1, `span ${want.name} delivered ${same.length} times`);
        assert.deepStrictEqual(same[0], want, `span ${want.name}`);
      }
      console.log(`ok: ${name} (${expected.length} spans, every field equal)`);
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
