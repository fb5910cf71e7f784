// Interop (issue 17): otelweb_grpc against @grpc/grpc-js instrumented with
// @opentelemetry/instrumentation-grpc, both ways, over 127.0.0.1.
//   A. A Node client calls our instrumented C++ server (otelweb_grpc_interop_peer
//      server): Unary, ServerStream, ClientStream, Bidi, Unary ending NOT_FOUND
//      and INTERNAL, Unary past its deadline. Each C++ SERVER span is the child
//      of the Node CLIENT span of the same call, the handler's span the child
//      of the SERVER span, and rpc.system / rpc.service / rpc.method /
//      rpc.grpc.status_code agree; server status Error only for the listed codes.
//      The deadline call: the Node client records DEADLINE_EXCEEDED; our server
//      records what it saw (docs/grpc.md): DEADLINE_EXCEEDED (Error) when its
//      own copy of the deadline had passed, CANCELLED (Unset) when the client's
//      cancellation arrived first. Which one is a race on the wire, so both
//      are accepted, each with its own status; any other code fails.
//      Also streaming calls ending with an error (ServerStream after two
//      replies with INTERNAL, Bidi after two messages with NOT_FOUND). The
//      Node root span has a remote parent with tracestate "node=t1" and the
//      baggage entry tenant=node-tenant: every C++ SERVER span carries that
//      tracestate and every handler span saw both (test.tracestate, test.tenant).
//   B. Our C++ client (otelweb_grpc_interop_peer client) calls a Node server:
//      each Node SERVER span is the child of our CLIENT span, attributes agree,
//      our client spans are Error for every non-OK code (NOT_FOUND, INTERNAL,
//      DEADLINE_EXCEEDED), including the streaming errors (ServerStream and
//      ClientStream INTERNAL, Bidi NOT_FOUND) whose codes the Node server
//      spans record too; each Node handler saw our tracestate "cpp=t1" and
//      baggage tenant=cpp-tenant in its active context.
//
// Usage: node grpc_interop.mjs <path to otelweb_grpc_interop_peer>
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrInstall } from './peers.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
let api, base, node, instr, GrpcInstrumentation;
loadOrInstall(() => {
  api = require('@opentelemetry/api');
  base = require('@opentelemetry/sdk-trace-base');
  node = require('@opentelemetry/sdk-trace-node');
  instr = require('@opentelemetry/instrumentation');
  ({ GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc'));
  require('@grpc/proto-loader');
});

// On failure, everything the C++ peers printed so far goes to stderr too (an
// integration run under load once failed here and kept only "FAIL"): the
// spans with their status codes are what tells a race from a defect.
let sout = '';
let cout = '';
const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  if (sout) console.error(`--- otelweb server output ---\n${sout}`);
  if (cout) console.error(`--- otelweb client output ---\n${cout}`);
  process.exit(1);
};
setTimeout(() => fail('timed out after 60 s'), 60000).unref();

const exporter = new base.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new base.SimpleSpanProcessor(exporter)] });
provider.register();
instr.registerInstrumentations({ instrumentations: [new GrpcInstrumentation()] });
// Loaded after the instrumentation is registered, so that it is patched.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const def = loader.loadSync(path.join(here, '../../examples/proto/interop/v1/echo.proto'),
  { keepCase: true, defaults: true });
const Echo = grpc.loadPackageDefinition(def).interop.v1.Echo;
const tracer = api.trace.getTracer('otelweb-grpc-interop');

const SERVER = api.SpanKind.SERVER;
const CLIENT = api.SpanKind.CLIENT;
const ERROR = api.SpanStatusCode.ERROR;
const peerBin = process.argv[2];
const jsParent = (s) => (s.parentSpanContext ?? s.parentSpanId ?? {}).spanId ?? s.parentSpanId;
const methodOf = (s) => `${s.attributes['rpc.service']}/${s.attributes['rpc.method']}`;
const agree = (js, cpp, what, keys = ['rpc.system', 'rpc.service', 'rpc.method', 'rpc.grpc.status_code']) => {
  for (const k of keys) {
    if (String(js.attributes[k]) !== String(cpp.attrs[k])) {
      fail(`${what}: ${k} differs: node ${js.attributes[k]} vs otelweb ${cpp.attrs[k]}`);
    }
  }
};
const grpcCodeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code);
const parseSpans = (out) => out.split('\n').filter((l) => l.startsWith('{"span"')).map((l) => JSON.parse(l).span);

// ---- A. Node client -> otelweb server -------------------------------------
const server = spawn(peerBin, ['server'], { stdio: ['pipe', 'pipe', 'inherit'] });
server.stdout.on('data', (d) => { sout += d.toString(); });
const port = await new Promise((resolve, reject) => {
  const t = setInterval(() => {
    const m = sout.match(/listening on (\d+)/);
    if (m) { clearInterval(t); resolve(Number(m[1])); }
  }, 10);
  server.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
}).catch((e) => fail(e.message));

const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const req = (message, extra = {}) => ({ message, count: 0, delay_ms: 0, status_code: 0, ...extra });
const unary = (r, opts = {}) => new Promise((resolve) => {
  client.Unary(r, new grpc.Metadata(), opts, (err, reply) => resolve(err ? err.code : 0));
});
const finishStream = (call) => new Promise((resolve) => {
  call.on('data', () => {});
  call.on('error', (e) => resolve(e.code));
  call.on('status', (s) => { if (s.code === 0) resolve(0); });
});
const codesA = {};
// A remote parent with a tracestate, and baggage: what the C++ side must see.
const nodeParent = api.trace.setSpanContext(
  api.propagation.setBaggage(api.context.active(),
    api.propagation.createBaggage({ tenant: { value: 'node-tenant' } })),
  { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true,
    traceState: api.createTraceState('node=t1') });
await tracer.startActiveSpan('node-root', {}, nodeParent, async (root) => {
  codesA.Unary = await unary(req('hello'));
  codesA.ServerStream = await finishStream(client.ServerStream(req('hello', { count: 2 })));
  codesA.ClientStream = await new Promise((resolve) => {
    const call = client.ClientStream((err) => resolve(err ? err.code : 0));
    for (const m of ['a', 'b', 'c']) call.write(req(m));
    call.end();
  });
  {
    const call = client.Bidi();
    const done = finishStream(call);
    for (const m of ['a', 'b', 'c']) call.write(req(m));
    call.end();
    codesA.Bidi = await done;
  }
  codesA.NotFound = await unary(req('e', { status_code: 5 }));
  codesA.Internal = await unary(req('e', { status_code: 13 }));
  // The deadline leaves our server time to receive the request and start the
  // handler on a loaded machine (with 100 ms the call could arrive after it:
  // gRPC then answers INTERNAL without running the handler). The handler
  // stops when the call is cancelled, so its long delay costs nothing.
  codesA.Deadline = await unary(req('slow', { delay_ms: 10000 }), { deadline: Date.now() + 1000 });
  {
    const call = client.ServerStream(req('e', { count: 2, status_code: 13 }));
    let replies = 0;
    call.on('data', () => { ++replies; });
    codesA.ServerStreamInternal = await new Promise((resolve) => {
      call.on('error', (e) => resolve(e.code));
      call.on('status', (s) => { if (s.code === 0) resolve(0); });
    });
    if (replies !== 2) fail(`A: ServerStream ending INTERNAL: ${replies} replies before the status, expected 2`);
  }
  {
    const call = client.Bidi();
    const done = finishStream(call);
    call.write(req('a'));
    call.write(req('b', { status_code: 5 }));
    call.end();
    codesA.BidiNotFound = await done;
  }
  root.end();
});
const wantCodes = { Unary: 0, ServerStream: 0, ClientStream: 0, Bidi: 0, NotFound: 5, Internal: 13, Deadline: 4 };
const wantCodesA = { ...wantCodes, ServerStreamInternal: 13, BidiNotFound: 5 };
const wantCodesB = { ...wantCodes, ServerStreamInternal: 13, BidiNotFound: 5, ClientStreamInternal: 13 };
for (const [k, v] of Object.entries(wantCodesA)) {
  if (codesA[k] !== v) fail(`A: node client got code ${codesA[k]} for ${k}, expected ${v}`);
}
await new Promise((r) => setTimeout(r, 300));  // the deadline call's server span ends when it closes
server.stdin.end();
await new Promise((resolve) => server.on('exit', resolve));
const cppServer = parseSpans(sout);
const nodeClients = exporter.getFinishedSpans().filter((s) => s.kind === CLIENT);
const nA = Object.keys(wantCodesA).length;
if (nodeClients.length !== nA) fail(`A: expected ${nA} node client spans, got ${nodeClients.length}`);
let checkedA = 0;
const deadlineSeen = { 1: 0, 4: 0 };
for (const c of nodeClients) {
  const cid = c.spanContext().spanId;
  const s = cppServer.find((x) => x.kind === 'SERVER' && x.parentSpanId === cid);
  if (!s) fail(`A: no otelweb server span is the child of node's ${c.name}`);
  if (s.traceId !== c.spanContext().traceId) fail(`A: ${c.name}: trace ids differ`);
  if (s.name !== methodOf(c)) fail(`A: server span name ${s.name}, expected ${methodOf(c)}`);
  const code = Number(s.attrs['rpc.grpc.status_code']);
  if (Number(c.attributes['rpc.grpc.status_code']) === 4) {
    // What the server could see of a call the client ended at its deadline.
    agree(c, s, `A ${s.name} (deadline)`, ['rpc.system', 'rpc.service', 'rpc.method']);
    if (code !== 4 && code !== 1) fail(`A: deadline call: server code ${code}, expected 4 or 1`);
    ++deadlineSeen[code];
  } else {
    agree(c, s, `A ${s.name}`);
  }
  const wantError = [2, 4, 12, 13, 14, 15].includes(code);
  if ((s.status === 2) !== wantError) fail(`A: ${s.name} code ${code}: server status ${s.status}`);
  const h = cppServer.find((x) => x.parentSpanId === s.spanId && x.name.startsWith('handler '));
  if (!h) fail(`A: no handler span under the otelweb server span ${s.name} (code ${code})`);
  if (s.tracestate !== 'node=t1') fail(`A: ${s.name}: otelweb server span tracestate "${s.tracestate}", expected node=t1`);
  if (h.attrs['test.tracestate'] !== 'node=t1' || h.attrs['test.tenant'] !== 'node-tenant') {
    fail(`A: ${s.name}: the handler saw tracestate "${h.attrs['test.tracestate']}" and tenant ` +
         `"${h.attrs['test.tenant']}", expected node=t1 and node-tenant`);
  }
  if (wantError !== (s.attrs['error.type'] !== undefined)) fail(`A: ${s.name} code ${code}: error.type ${s.attrs['error.type']}`);
  if (wantError && s.attrs['error.type'] !== grpcCodeName(code)) fail(`A: ${s.name}: error.type ${s.attrs['error.type']}`);
  ++checkedA;
}
if (deadlineSeen[1] + deadlineSeen[4] !== 1) fail('A: the deadline call was not checked');
console.log(`A ok: ${checkedA} node client spans -> otelweb server spans -> handler spans ` +
  `(deadline call seen by the server as ${deadlineSeen[4] ? 'DEADLINE_EXCEEDED' : 'CANCELLED'})`);

// ---- B. otelweb client -> Node server --------------------------------------
exporter.reset();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const statusFor = (code) => (code >= 1 && code <= 16
  ? { code, details: `ended with status_code ${code}` }
  : { code: grpc.status.INVALID_ARGUMENT, details: 'not a status code' });
// Each handler notes on its (active) server span the tracestate and the
// baggage entry it received.
const noteContext = () => {
  const span = api.trace.getSpan(api.context.active());
  if (!span) return;
  span.setAttribute('test.tracestate', span.spanContext().traceState?.serialize() ?? '');
  span.setAttribute('test.tenant', api.propagation.getBaggage(api.context.active())?.getEntry('tenant')?.value ?? '');
};
const nodeServer = new grpc.Server();
nodeServer.addService(Echo.service, {
  Unary: async (call, cb) => {
    noteContext();
    const r = call.request;
    if (r.status_code) return cb(statusFor(r.status_code));
    await sleep(r.delay_ms);
    cb(null, { message: r.message, index: 0, received_messages: 1 });
  },
  ServerStream: async (call) => {
    noteContext();
    const r = call.request;
    for (let i = 0; i < Math.max(r.count, 1); ++i) {
      await sleep(r.delay_ms);
      call.write({ message: r.message, index: i, received_messages: 1 });
    }
    if (r.status_code) call.emit('error', statusFor(r.status_code)); else call.end();
  },
  ClientStream: (call, cb) => {
    noteContext();
    const msgs = [];
    let last = req('');
    call.on('data', (r) => { msgs.push(r.message); last = r; });
    call.on('end', async () => {
      if (last.status_code) return cb(statusFor(last.status_code));
      await sleep(last.delay_ms);
      cb(null, { message: msgs.join(','), index: 0, received_messages: msgs.length });
    });
  },
  Bidi: (call) => {
    noteContext();
    let n = 0;
    let last = req('');
    let chain = Promise.resolve();
    call.on('data', (r) => {
      last = r;
      chain = chain.then(async () => {
        await sleep(r.delay_ms);
        call.write({ message: r.message, index: n, received_messages: n + 1 });
        ++n;
      });
    });
    call.on('end', () => chain.then(() => {
      if (last.status_code) call.emit('error', statusFor(last.status_code)); else call.end();
    }));
  },
});
const nodePort = await new Promise((resolve) => {
  nodeServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => {
    if (err) fail(`bind: ${err.message}`);
    resolve(p);
  });
});
const peer = spawn(peerBin, ['client', `127.0.0.1:${nodePort}`], { stdio: ['ignore', 'pipe', 'inherit'] });
peer.stdout.on('data', (d) => { cout += d.toString(); });
const exit = await new Promise((resolve) => peer.on('exit', resolve));
if (exit !== 0) fail(`B: the otelweb client exited ${exit}`);
// The Node server's span of the deadline call ends when its handler does
// (1.5 s after the call started, later under load): wait until every call
// has its server span (at most 10 s) rather than a fixed time, which raced on
// a loaded machine.
const nB = Object.keys(wantCodesB).length;
const serverSpansDone = () => exporter.getFinishedSpans().filter((s) => s.kind === SERVER).length >= nB;
for (const t0 = Date.now(); !serverSpansDone() && Date.now() - t0 < 10000;) await sleep(20);
const codesLine = cout.split('\n').find((l) => l.startsWith('{"codes"'));
if (!codesLine) fail('B: the otelweb client printed no codes');
const codesB = JSON.parse(codesLine).codes;
for (const [k, v] of Object.entries(wantCodesB)) {
  if (codesB[k] !== v) fail(`B: otelweb client got code ${codesB[k]} for ${k}, expected ${v}`);
}
const cppClient = parseSpans(cout);
const cppRoot = cppClient.find((s) => s.name === 'cpp-root');
const nodeServers = exporter.getFinishedSpans().filter((s) => s.kind === SERVER);
const ourClients = cppClient.filter((s) => s.kind === 'CLIENT');
if (ourClients.length !== nB) fail(`B: expected ${nB} otelweb client spans, got ${ourClients.length}`);
let checkedB = 0;
for (const c of ourClients) {
  if (c.parentSpanId !== cppRoot.spanId || c.traceId !== cppRoot.traceId) fail(`B: ${c.name} is not under cpp-root`);
  const code = Number(c.attrs['rpc.grpc.status_code']);
  if ((c.status === 2) !== (code !== 0)) fail(`B: ${c.name} code ${code}: client status ${c.status}`);
  if (code !== 0 && c.attrs['error.type'] !== grpcCodeName(code)) fail(`B: ${c.name}: error.type ${c.attrs['error.type']}`);
  if (c.tracestate !== 'cpp=t1') fail(`B: ${c.name}: otelweb client span tracestate "${c.tracestate}", expected cpp=t1`);
  const s = nodeServers.find((x) => jsParent(x) === c.spanId);
  if (!s) fail(`B: no node server span is the child of otelweb's ${c.name} (code ${code})`);
  if (s.spanContext().traceId !== c.traceId) fail(`B: ${c.name}: trace ids differ`);
  for (const k of ['rpc.system', 'rpc.service', 'rpc.method']) {
    if (String(s.attributes[k]) !== String(c.attrs[k])) fail(`B: ${c.name}: ${k} node ${s.attributes[k]} vs otelweb ${c.attrs[k]}`);
  }
  if (code !== 4 && Number(s.attributes['rpc.grpc.status_code']) !== code) {
    fail(`B: ${c.name}: status code node ${s.attributes['rpc.grpc.status_code']} vs otelweb ${code}`);
  }
  if (s.attributes['test.tracestate'] !== 'cpp=t1' || s.attributes['test.tenant'] !== 'cpp-tenant') {
    fail(`B: ${c.name}: the node handler saw tracestate "${s.attributes['test.tracestate']}" and tenant ` +
         `"${s.attributes['test.tenant']}", expected cpp=t1 and cpp-tenant`);
  }
  ++checkedB;
}
console.log(`B ok: ${checkedB} otelweb client spans -> node server spans`);
nodeServer.forceShutdown();
await provider.shutdown();
process.exit(0);
