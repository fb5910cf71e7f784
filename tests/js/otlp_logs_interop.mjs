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
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import http from 'node:http';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadOrInstall } from './peers.mjs';

const require = createRequire(import.meta.url);
let grpc, root;
loadOrInstall(() => {
  grpc = require('@grpc/grpc-js');
  const main = require.resolve('@opentelemetry/otlp-transformer');
  root = require(join(dirname(main), 'generated', 'root.js'));
});
setTimeout(() => { console.error('FAIL: timed out after 120 s'); process.exit(1); }, 120000).unref();

const pb = root.opentelemetry.proto;
const Req = pb.collector.logs.v1.ExportLogsServiceRequest;
const Resp = pb.collector.logs.v1.ExportLogsServiceResponse;

const hex = (b) => Buffer.from(b || []).toString('hex');
const str64 = (v) => (v === undefined || v === null ? '0' : v.toString());
function anyFromPb(v) {
  switch (v.value) {
    case 'stringValue': return { s: v.stringValue };
    case 'boolValue': return { b: v.boolValue };
    case 'intValue': return { i: str64(v.intValue) };
    case 'doubleValue': return { d: v.doubleValue };
    case 'arrayValue': return { a: ((v.arrayValue && v.arrayValue.values) || []).map(anyFromPb) };
    case 'kvlistValue':
      return { kv: ((v.kvlistValue && v.kvlistValue.values) || []).map((e) => [e.key, anyFromPb(e.value || {})]) };
    default: return { unset: true };
  }
}
const jsonInt64 = (x, what) => {
  if (x === undefined) return '0';
  if (typeof x !== 'string' || !/^-?[0-9]+$/.test(x)) {
    throw new Error(`OTLP/JSON: ${what} must be a decimal string, got ${JSON.stringify(x)}`);
  }
  return x;
};
const jsonId = (x, len) => {
  if (x === undefined || x === '') return '';
  if (typeof x !== 'string' || x.length !== len || !/^[0-9a-f]+$/.test(x)) {
    throw new Error(`OTLP/JSON: id must be ${len} lowercase hex digits, got ${JSON.stringify(x)}`);
  }
  return x;
};
function anyFromJson(v) {
  if ('stringValue' in v) return { s: v.stringValue };
  if ('boolValue' in v) return { b: v.boolValue };
  if ('intValue' in v) return { i: jsonInt64(v.intValue, 'intValue') };
  if ('doubleValue' in v) return { d: Number(v.doubleValue) };
  if ('arrayValue' in v) return { a: (v.arrayValue.values || []).map(anyFromJson) };
  if ('kvlistValue' in v) return { kv: (v.kvlistValue.values || []).map((e) => [e.key, anyFromJson(e.value || {})]) };
  return { unset: true };
}

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
const httpServer = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ct = req.headers['content-type'];
    try {
      assert.equal(req.url, '/v1/logs');
      if (ct === 'application/json') {
        received.push({ records: flatten(JSON.parse(body.toString('utf8')), true) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      } else {
        received.push({ records: flatten(Req.decode(body), false) });
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
        res.end(Buffer.from(Resp.encode({}).finish()));
      }
    } catch (e) {
      received.push({ error: e.message });
      res.writeHead(400);
      res.end();
    }
  });
});
await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
const httpPort = httpServer.address().port;

const grpcServer = new grpc.Server();
const raw = (x) => x;
grpcServer.addService({
  Export: {
    path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
    requestStream: false, responseStream: false,
    requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw,
  },
}, {
  Export: (call, cb) => {
    try {
      received.push({ records: flatten(Req.decode(call.request), false) });
      cb(null, Buffer.from(Resp.encode({}).finish()));
    } catch (e) {
      received.push({ error: e.message });
      cb({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
    }
  },
});
const grpcPort = await new Promise((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0',
  grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));

function runClient(protocol, endpoint) {
  return new Promise((resolve) => {
    const c = spawn(process.argv[2], [protocol, endpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), 30000);
    c.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

let passed = 0;
let failed = 0;
for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
  received = [];
  const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${grpcPort}` : `http://127.0.0.1:${httpPort}/v1/logs`;
  const r = await runClient(protocol, endpoint);
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
