// The critical path (web/view/src/critical.js) of a 10 000-span trace, in
// node (the page runs the same code in Chromium's V8): the tree of
// bench/view_page_bench.mjs's shape (ten wide, every span shorter than its
// parent, so siblings overlap) and a 10 000-deep chain; median of --runs.
//   node --expose-gc bench/view_critical_bench.mjs [--spans 10000] [--runs 21]
// With --expose-gc, a full collection runs before each case's first (cold)
// run, so that the garbage of building the traces is not timed as its pause.
import { buildModel } from '../web/view/src/model.js';
import { criticalPath } from '../web/view/src/critical.js';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const n = opt('--spans', 10000);
const runs = opt('--runs', 21);
const hex = (v) => v.toString(16).padStart(16, '0');
const T0 = 1700000000000000000n;

function wide(n) {
  const spans = [];
  for (let k = 0; k < n; k++) {
    const p = k === 0 ? null : spans[Math.floor((k - 1) / 10)];
    const start = p ? p.s + Math.floor((p.d / 10) * ((k - 1) % 10)) : 0;
    const d = p ? Math.max(1000, Math.floor(p.d / 4)) : 2e9; // siblings overlap
    spans.push({ s: start, d, id: hex(k + 1), parent: p ? p.id : '' });
  }
  return spans;
}
function chain(n) {
  return Array.from({ length: n }, (_, k) => ({ s: k * 10, d: 2e9 - k * 20, id: hex(k + 1), parent: k ? hex(k) : '' }));
}
function trace(spans) {
  return {
    spans: spans.map((x) => ({
      spanId: x.id,
      parentSpanId: x.parent,
      name: 'op',
      service: 'svc',
      startTimeUnixNano: (T0 + BigInt(x.s)).toString(),
      endTimeUnixNano: (T0 + BigInt(x.s + x.d)).toString(),
      durationNano: x.d,
    })),
  };
}
for (const [name, spans] of [['ten-wide tree', wide(n)], ['chain', chain(n)]]) {
  const m = buildModel(trace(spans));
  const times = [];
  let onPath = 0;
  let cold = 0;
  if (globalThis.gc) globalThis.gc();
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const { on } = criticalPath(m);
    times.push(performance.now() - t);
    if (r === 0) cold = times[0];
    onPath = on.reduce((a, b) => a + b, 0);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
  times.sort((a, b) => a - b);
  console.log(
    `${name}, ${n} spans: critical path ${onPath} spans; median ${times[runs >> 1].toFixed(2)} ms, ` +
      `min ${times[0].toFixed(2)}, max ${times[runs - 1].toFixed(2)}, first (cold) ${cold.toFixed(2)} ms over ${runs} runs; ` +
      `CPU ${cpuMs.toFixed(2)} ms per run (all threads: the machine's load inflates wall times)`,
  );
}
