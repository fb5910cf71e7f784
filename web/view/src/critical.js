// The critical path of a trace (issue 16): the chain of spans that
// determined the trace's duration, walked backwards from the end of the root
// (the root that ends last when there are several):
// - in a span, the child that ends last (before the part of the path already
//   found) is on the path; the walk continues from that child's start, and the
//   parent's own time between children is on the path too;
// - children that overlap a child already on the path and end after its start
//   are not (their work was not waited for);
// - a child that ends after its parent (asynchronous work) counts only up to
//   the parent's end, and one starting before its parent (clock skew between
//   hosts) from the parent's start; a child wholly outside its parent is skipped.
// O(n log n) (one sort of each span's children), no recursion (deep chains).
//
// Input: the model of model.js (spans, children, parent, offset in ns from
// the trace start). Output: { on: Uint8Array (1 = span on the path),
// segments: Map span index -> [[from, to], ...] in ns from the trace start,
// latest first }.
export function criticalPath(model) {
  const { spans, children, parent } = model;
  const n = spans.length;
  const on = new Uint8Array(n);
  const segments = new Map();
  if (!n) return { on, segments };
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    start[i] = model.offset[i];
    end[i] = start[i] + Math.max(0, Number(spans[i].durationNano) || 0);
  }
  let root = -1;
  for (let i = 0; i < n; i++) if (parent[i] === -1 && (root === -1 || end[i] > end[root])) root = i;
  if (root === -1) root = 0;
  // The walk's stack as parallel typed arrays (no object per span): span,
  // window [lo, hi] (clamped to the parent's), cursor (the earliest time on
  // the path found so far in that span), next child to look at.
  const sI = new Int32Array(n + 1);
  const sK = new Int32Array(n + 1);
  const sLo = new Float64Array(n + 1);
  const sHi = new Float64Array(n + 1);
  const sCur = new Float64Array(n + 1);
  // Segments found, flat (span, from, to).
  const gI = [];
  const gFrom = [];
  const gTo = [];
  const byEndDesc = (a, b) => end[b] - end[a]; // = by clamped end: min(end, hi) keeps the order
  const sorted = new Array(n);
  let top = 0;
  const push = (i, lo, hi) => {
    const kids = children[i];
    sorted[i] = kids.length > 1 ? kids.slice().sort(byEndDesc) : kids;
    sI[top] = i;
    sK[top] = 0;
    sLo[top] = lo;
    sHi[top] = hi;
    sCur[top] = hi;
    top++;
  };
  on[root] = 1;
  push(root, start[root], end[root]);
  while (top > 0) {
    const f = top - 1;
    const i = sI[f];
    const kids = sorted[i];
    const lo = sLo[f];
    const hi = sHi[f];
    let pushed = false;
    while (sK[f] < kids.length) {
      const c = kids[sK[f]++];
      if (on[c]) continue; // a parent cycle in bad data
      const ce = end[c] < hi ? end[c] : hi;
      const cs = start[c] > lo ? start[c] : lo;
      if (ce <= cs) continue; // empty, or wholly outside the parent (skew)
      if (ce > sCur[f]) continue; // overlaps the part of the path already found
      if (sCur[f] > ce) {
        gI.push(i);
        gFrom.push(ce);
        gTo.push(sCur[f]);
      }
      on[c] = 1;
      push(c, cs, ce);
      pushed = true;
      break;
    }
    if (pushed) continue;
    if (sCur[f] > lo) {
      gI.push(i);
      gFrom.push(lo);
      gTo.push(sCur[f]);
    }
    sorted[i] = undefined;
    top--;
    if (top > 0) sCur[top - 1] = lo;
  }
  for (let k = 0; k < gI.length; k++) {
    let list = segments.get(gI[k]);
    if (!list) segments.set(gI[k], (list = []));
    list.push([gFrom[k], gTo[k]]);
  }
  return { on, segments };
}
