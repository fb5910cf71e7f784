// Two traces of the same operation side by side (issue 16): spans matched by
// service and name along their path from the root (the k-th "svc: name"
// child of matched parents matches the k-th), so repeated names in
// different places stay apart. Pure; used by ComparePage.jsx.
import { buildModel } from './model.js';

function keys(model) {
  const key = new Array(model.spans.length);
  const seen = new Map(); // parent key + label -> count
  for (const i of model.order) {
    const s = model.spans[i];
    const p = model.parent[i];
    const base = `${p === -1 ? '' : key[p]}/${s.service}: ${s.name}`;
    const k = seen.get(base) || 0;
    seen.set(base, k + 1);
    key[i] = `${base}#${k}`;
  }
  return key;
}

// Rows in A's tree order, B's unmatched spans after their matched parent
// (or at the end): {key, depth, service, name, a, b} (a/b: span or null).
export function compareTraces(traceA, traceB) {
  const A = buildModel(traceA);
  const B = buildModel(traceB);
  const ka = keys(A);
  const kb = keys(B);
  const bByKey = new Map();
  for (const i of B.order) bByKey.set(kb[i], i);
  const aKeys = new Set(ka);
  const rows = [];
  const extra = new Map(); // a's key of the parent -> B rows only in B
  const tail = [];
  for (const i of B.order) {
    if (aKeys.has(kb[i])) continue;
    const p = B.parent[i];
    const s = B.spans[i];
    const row = { key: kb[i], depth: B.depth[i], service: s.service, name: s.name, a: null, b: s };
    if (p !== -1 && aKeys.has(kb[p])) {
      if (!extra.has(kb[p])) extra.set(kb[p], []);
      extra.get(kb[p]).push(row);
    } else tail.push(row);
  }
  for (const i of A.order) {
    const s = A.spans[i];
    const j = bByKey.get(ka[i]);
    rows.push({ key: ka[i], depth: A.depth[i], service: s.service, name: s.name, a: s, b: j === undefined ? null : B.spans[j] });
    for (const r of extra.get(ka[i]) || []) rows.push(r);
  }
  return { rows: rows.concat(tail), a: A, b: B };
}

// "slower" / "faster" when B differs from A by at least `ratio` (and 1 µs).
export function verdict(a, b, ratio = 0.2) {
  if (!a || !b) return 'only';
  const x = Number(a.durationNano);
  const y = Number(b.durationNano);
  const d = y - x;
  if (Math.abs(d) < 1000 || Math.abs(d) < ratio * Math.max(x, 1)) return 'same';
  return d > 0 ? 'slower' : 'faster';
}
