// Logs interop (issue 14): the official OpenTelemetry JavaScript packages
// receive otelweb's OTLP log exports and decode them with their own code (the
// protobuf classes generated into @opentelemetry/otlp-transformer, a
// @grpc/grpc-js server) over gRPC, HTTP/protobuf and HTTP/JSON. One record is
// logged through spdlog inside a traced cpp-httplib request and must carry
// that server span's ids; another has every field set; a third has a map body
// holding an array and a nested map (AnyValue kvlist_value / array_value).
//
// Usage: node otlp_logs_interop.mjs <path to otelweb_otlp_logs_interop_client>
// Exit codes: 0 pass, 1 fail.
import assert from 'node:assert/strict';
import {
  anyFromJson, anyFromPb, hex, jsonId, jsonInt64, loadOtlpPeers, runClient, startGrpcReceiver, startHttpReceiver,
  str64,
} from './peers.mjs';

const { grpc, pb } = loadOtlpPeers();
const Req = pb.collector.logs.v1.ExportLogsServiceRequest;
const Resp = pb.collector.logs.v1.ExportLogsServiceResponse;

function flatten(req, json) {
  const any = json ? anyFromJson : anyFromPb;
  const id = json ? jsonId : (x) => hex(x);
  const t = json ? (x) => jsonInt64(x, 'a time') : str64;
  const out = [];
  for (const rl of req.resourceLogs || []) {
    const service = ((rl.resource && rl.resource.attributes) || []).find((kv) => kv.key === 'service.name');
    for (const sl of rl.scopeLogs || []) {
      for (const r of sl.logRecords || []) {
        out.push({
          scope: (sl.scope && sl.scope.name) || '', scopeVersion: (sl.scope && sl.scope.version) || '',
          traceId: id(r.traceId, 32), spanId: id(r.spanId, 16), flags: r.flags || 0,
          severityNumber: r.severityNumber || 0, severityText: r.severityText || '',
          body: any(r.body || {}), eventName: r.eventName || '',
          time: t(r.timeUnixNano), observed: t(r.observedTimeUnixNano),
          attributes: (r.attributes || []).map((kv) => ({ key: kv.key, value: any(kv.value || {}) })),
          service: service ? any(service.value).s : '',
        });
      }
    }
  }
  return out;
}

let received = [];
const onError = (error) => received.push({ error });
const { server: httpServer, port: httpPort } = await startHttpReceiver(Resp, (body, { json, url }) => {
  assert.equal(url, '/v1/logs');
  received.push({ records: flatten(json ? body : Req.decode(body), json) });
}, onError);
const { server: grpcServer, port: grpcPort } = await startGrpcReceiver(grpc,
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export', Resp,
  (bytes) => received.push({ records: flatten(Req.decode(bytes), false) }), onError);

let passed = 0;
let failed = 0;
for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
  received = [];
  const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${grpcPort}` : `http://127.0.0.1:${httpPort}/v1/logs`;
  const r = await runClient(process.argv[2], [protocol, endpoint]);
  try {
    assert.equal(r.code, 0, `client exit ${r.code}: ${r.err}`);
    const line = r.out.split('\n').find((l) => l.startsWith('EXPECT '));
    assert.ok(line, 'no EXPECT line');
    const expected = JSON.parse(line.slice(7));
    assert.deepEqual(received.filter((x) => x.error), []);
    const got = received.flatMap((x) => x.records);
    assert.equal(got.length, expected.length, 'record count');
    for (const want of expected) {
      const same = got.filter((x) => x.scope === want.scope);
      assert.equal(same.length, 1, `records of ${want.scope}`);
      const g = same[0];
      for (const k of Object.keys(want)) {
        if (k === 'codeLine') {
          const line = g.attributes.find((a) => a.key === 'code.line.number');
          assert.ok(line && Number(line.value.i) > 0, 'code.line.number');
          assert.ok(g.attributes.find((a) => a.key === 'code.file.path') === undefined ||
                    g.attributes.find((a) => a.key === 'code.file.path').value.s !== '', 'code.file.path');
          continue;
        }
        assert.deepStrictEqual(g[k], want[k], `${want.scope}: ${k}`);
      }
    }
    console.log(`ok: ${protocol} (${expected.length} records; the spdlog line carries the server span's ids)`);
    passed++;
  } catch (e) {
    console.log(`FAIL: ${protocol}: ${e.message}`);
    failed++;
  }
}
httpServer.close();
grpcServer.forceShutdown();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
