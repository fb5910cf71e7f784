// What the interop scripts share: loading the pinned npm packages
// (tests/js/package.json), installing them first if this checkout has none;
// OTLP receivers (HTTP and gRPC) on the official packages, running the C++
// client, and turning OTLP values into the neutral shape the clients print.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

// Calls load(); if it throws (packages missing), runs npm install in
// tests/js (no lock file) and calls it again. A second failure exits 1: the
// test fails rather than skips.
export function loadOrInstall(load) {
  try {
    return load();
  } catch {
    spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund'],
      { cwd: dirname(fileURLToPath(import.meta.url)), stdio: 'inherit', timeout: 180000 });
    try {
      return load();
    } catch (e) {
      console.error(`FAIL: npm packages missing and npm install did not provide them (${e.message}); ` +
                    'run scripts/setup or npm install in tests/js');
      process.exit(1);
    }
  }
}

// ---- OTLP receivers built on the official packages (the interop scripts) ----
// The generated protobuf classes of @opentelemetry/otlp-transformer (not our
// .proto files) and @grpc/grpc-js, installed first if missing; also arms the
// script's overall time limit.
export function loadOtlpPeers(limitMs = 120000) {
  const require = createRequire(import.meta.url);
  const peers = loadOrInstall(() => {
    const grpc = require('@grpc/grpc-js');
    const main = require.resolve('@opentelemetry/otlp-transformer');  // .../build/src/index.js
    const root = require(join(dirname(main), 'generated', 'root.js'));
    return { grpc, pb: root.opentelemetry.proto };
  });
  setTimeout(() => { console.error(`FAIL: timed out after ${limitMs / 1000} s`); process.exit(1); }, limitMs).unref();
  return peers;
}

// An OTLP/HTTP receiver on 127.0.0.1: gunzips, then calls
// decode(body, { json, gzip, ct, url }) and answers 200 with an empty
// response (JSON or protobuf `Resp`); when decode throws, 400 and
// onError(message). Resolves to { server, port }.
export async function startHttpReceiver(Resp, decode, onError) {
  // Imported here, not at the top: clients_interop.mjs must load node:http
  // only after registering the http instrumentation.
  const { default: http } = await import('node:http');
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const gzip = req.headers['content-encoding'] === 'gzip';
      const ct = req.headers['content-type'];
      const json = ct === 'application/json';
      try {
        if (gzip) body = zlib.gunzipSync(body);
        decode(json ? JSON.parse(body.toString('utf8')) : body, { json, gzip, ct, url: req.url });
        if (json) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{}');
        } else {
          res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
          res.end(Buffer.from(Resp.encode({}).finish()));
        }
      } catch (e) {
        onError(e.message);
        res.writeHead(400);
        res.end();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: server.address().port };
}

// An OTLP/gRPC receiver on 127.0.0.1 for one Export method (`path`, e.g.
// '/opentelemetry.proto.collector.logs.v1.LogsService/Export'), raw bytes
// in and out: decode(requestBytes, call); INVALID_ARGUMENT and onError when
// it throws. Resolves to { server, port }.
export async function startGrpcReceiver(grpc, path, Resp, decode, onError) {
  const server = new grpc.Server();
  const raw = (x) => x;
  server.addService({
    Export: {
      path, requestStream: false, responseStream: false,
      requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw,
    },
  }, {
    Export: (call, cb) => {
      try {
        decode(call.request, call);
        cb(null, Buffer.from(Resp.encode({}).finish()));
      } catch (e) {
        onError(e.message);
        cb({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
      }
    },
  });
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port };
}

// Runs a C++ test client (killed after timeoutMs); resolves to { code, out, err }.
export function runClient(path, args, timeoutMs = 30000) {
  return new Promise((resolve) => {
    const c = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

// ---- OTLP values to the neutral shape the C++ clients print ----------------
export const hex = (b) => Buffer.from(b || []).toString('hex');
export const str64 = (v) => (v === undefined || v === null ? '0' : v.toString());

// OTLP/JSON rules checked strictly (JSON.parse alone would accept numbers):
// 64-bit integers are decimal strings, ids lowercase hex of the right length.
export function jsonInt64(x, what) {
  if (x === undefined) return '0';
  if (typeof x !== 'string' || !/^-?[0-9]+$/.test(x)) {
    throw new Error(`OTLP/JSON: ${what} must be a decimal string, got ${JSON.stringify(x)}`);
  }
  return x;
}
export function jsonId(x, len, what = `a ${len / 2}-byte id`) {
  if (x === undefined || x === '') return '';
  if (typeof x !== 'string' || x.length !== len || !/^[0-9a-f]+$/.test(x)) {
    throw new Error(`OTLP/JSON: ${what} must be ${len} lowercase hex digits, got ${JSON.stringify(x)}`);
  }
  return x;
}

// AnyValue -> {s}|{b}|{i: decimal string}|{d}|{a: [...]}|{kv: [[key, value], ...]}|{unset}.
export function anyFromPb(v) {
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
export function anyFromJson(v) {
  if ('stringValue' in v) return { s: v.stringValue };
  if ('boolValue' in v) return { b: v.boolValue };
  if ('intValue' in v) return { i: jsonInt64(v.intValue, 'intValue') };
  if ('doubleValue' in v) return { d: Number(v.doubleValue) };
  if ('arrayValue' in v) return { a: (v.arrayValue.values || []).map(anyFromJson) };
  if ('kvlistValue' in v) return { kv: (v.kvlistValue.values || []).map((e) => [e.key, anyFromJson(e.value || {})]) };
  return { unset: true };
}
