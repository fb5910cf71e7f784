// Interop (issue 3): the official OpenTelemetry JavaScript packages receive
// otelweb's OTLP exports and decode them with their own code: the protobuf
// classes generated into @opentelemetry/otlp-transformer (not our .proto
// files) and a @grpc/grpc-js server. Every transport (gRPC, HTTP/protobuf,
// HTTP/JSON), with and without gzip; every span field is compared with what
// the C++ client says it sent.
//
// Usage: node otlp_exporter_interop.mjs <path to otelweb_otlp_interop_client>
// Exit codes: 0 pass, 1 fail (including when the npm packages cannot be installed).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadOrInstall } from './peers.mjs';

const require = createRequire(import.meta.url);
let grpc, root;
const load = () => {
  grpc = require('@grpc/grpc-js');
  const main = require.resolve('@opentelemetry/otlp-transformer');  // .../build/src/index.js
  root = require(join(dirname(main), 'generated', 'root.js'));
};
loadOrInstall(load);
setTimeout(() => { console.error('FAIL: timed out after 120 s'); process.exit(1); }, 120000).unref();

const pb = root.opentelemetry.proto;
const Req = pb.collector.trace.v1.ExportTraceServiceRequest;
const Resp = pb.collector.trace.v1.ExportTraceServiceResponse;

// ---- normalising what was received into the client's neutral shape -------
const hex = (b) => Buffer.from(b || []).toString('hex');
const str64 = (v) => (v === undefined || v === null ? '0' : v.toString());

function anyFromPb(v) {
  switch (v.value) {
    case 'stringValue': return { s: v.stringValue };
    case 'boolValue': return { b: v.boolValue };
    case 'intValue': return { i: str64(v.intValue) };
    case 'doubleValue': return { d: v.doubleValue };
    case 'arrayValue': return { a: (v.arrayValue.values || []).map(anyFromPb) };
    default: return { unset: true };
  }
}
// OTLP/JSON rules checked strictly (JSON.parse alone would accept numbers):
// 64-bit integers are decimal strings, ids lowercase hex of the right length.
const jsonInt64 = (x, what) => {
  if (x === undefined) return '0';
  if (typeof x !== 'string' || !/^-?[0-9]+$/.test(x)) {
    throw new Error(`OTLP/JSON: ${what} must be a decimal string, got ${JSON.stringify(x)}`);
  }
  return x;
};
const jsonId = (x, len, what) => {
  if (x === undefined || x === '') return '';
  if (typeof x !== 'string' || x.length !== len || !/^[0-9a-f]+$/.test(x)) {
    throw new Error(`OTLP/JSON: ${what} must be ${len} lowercase hex digits, got ${JSON.stringify(x)}`);
  }
  return x;
};
function anyFromJson(v) {
  if ('stringValue' in v) return { s: v.stringValue };
  if ('boolValue' in v) return { b: v.boolValue };
  if ('intValue' in v) return { i: jsonInt64(v.intValue, 'intValue') };
  if ('doubleValue' in v) return { d: Number(v.doubleValue) };
  if ('arrayValue' in v) return { a: (v.arrayValue.values || []).map(anyFromJson) };
  return { unset: true };
}

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
const httpServer = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    const gz = req.headers['content-encoding'] === 'gzip';
    if (gz) body = zlib.gunzipSync(body);
    const ct = req.headers['content-type'];
    try {
      if (ct === 'application/json') {
        received.push({ transport: 'http', gzip: gz, ct, spans: flatten(JSON.parse(body.toString('utf8')), true) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      } else {
        received.push({ transport: 'http', gzip: gz, ct, spans: flatten(Req.decode(body), false) });
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
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false, responseStream: false,
    requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw,
  },
}, {
  Export: (call, cb) => {
    try {
      const enc = call.metadata.get('grpc-encoding');
      // grpc-js hides grpc-encoding once it has decompressed the message.
      received.push({ transport: 'grpc', gzip: enc.length ? enc[0] === 'gzip' : undefined,
        spans: flatten(Req.decode(call.request), false) });
      cb(null, Buffer.from(Resp.encode({}).finish()));
    } catch (e) {
      received.push({ error: e.message });
      cb({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
    }
  },
});
const grpcPort = await new Promise((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0',
  grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));

// ---- cases ------------------------------------------------------------------
function runClient(protocol, endpoint, gzip) {
  return new Promise((resolve) => {
    const c = spawn(process.argv[2], [protocol, endpoint, gzip ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  for (const gzip of [false, true]) {
    const name = `${protocol}${gzip ? ' gzip' : ''}`;
    received = [];
    const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${grpcPort}` : `http://127.0.0.1:${httpPort}/v1/traces`;
    const r = await runClient(protocol, endpoint, gzip);
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
