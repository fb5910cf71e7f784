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
// O(n log n): one sort of all spans by end, then the children of each span as
// one flat Int32Array (CSR); no recursion (deep chains), no object or closure
// per span, so that even the first, not yet optimized run is fast.
//
// Input: the model of model.js (spans, children, parent, offset in ns from
// the trace start). Output: { on: Uint8Array (1 = span on the path),
// segments: { get(i) -> [[from, to], ...] in ns from the trace start, latest
// first, or undefined; iterable as [i, segments] entries } }.
export function criticalPath(model) {
  const { spans, children, parent } = model;
  const n = spans.length;
  const on = new Uint8Array(n);
  const segHead = new Int32Array(n).fill(-1);
  const segTail = new Int32Array(n);
  const segNext = new Int32Array(2 * n + 2);
  const segFrom = new Float64Array(2 * n + 2);
  const segTo = new Float64Array(2 * n + 2);
  let nSeg = 0;
  const segments = {
    get(i) {
      if (i < 0 || i >= n || segHead[i] < 0) return undefined;
      const out = [];
      for (let k = segHead[i]; k >= 0; k = segNext[k]) out.push([segFrom[k], segTo[k]]);
      return out;
    },
    // [span, segments] of every span with segments, like a Map's entries.
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) if (segHead[i] >= 0) yield [i, this.get(i)];
    },
  };
  if (!n) return { on, segments };
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const offset = model.offset;
  for (let i = 0; i < n; i++) {
    const d = Number(spans[i].durationNano);
    start[i] = offset[i];
    end[i] = d > 0 ? start[i] + d : start[i];
  }
  let root = -1;
  for (let i = 0; i < n; i++) if (parent[i] === -1 && (root === -1 || end[i] > end[root])) root = i;
  if (root === -1) root = 0;
  // Every span's children by end, latest first (ties: model.js's order, by
  // start): the children in model order, one stable sort by end, then a
  // stable counting sort by parent into kids[first[p] .. first[p + 1]).
  const first = new Int32Array(n + 1);
  let m = 0;
  for (let i = 0; i < n; i++) {
    first[i] = m;
    m += children[i].length;
  }
  first[n] = m;
  const all = new Int32Array(m);
  const owner = new Int32Array(n);
  for (let i = 0, k = 0; i < n; i++) {
    const c = children[i];
    for (let j = 0; j < c.length; j++) {
      all[k++] = c[j];
      owner[c[j]] = i;
    }
  }
  // The stable sort by end without a comparator (a function call per
  // comparison is what costs in a cold run): the ends sorted natively, then
  // each child placed, in model order, at the first free slot of its value.
  const ends = new Float64Array(m);
  for (let k = 0; k < m; k++) ends[k] = end[all[k]];
  ends.sort();
  const used = new Int32Array(m + 1);
  const byEnd = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const c = all[k];
    const v = end[c];
    let a = 0;
    let b = m; // first index whose end is > v
    while (a < b) {
      const h = (a + b) >>> 1;
      if (ends[h] > v) b = h;
      else a = h + 1;
    }
    byEnd[m - a + used[a]++] = c; // m - a ends are later than v
  }
  const kids = new Int32Array(m);
  const fill = first.slice(0, n);
  for (let k = 0; k < m; k++) {
    const c = byEnd[k];
    kids[fill[owner[c]]++] = c;
  }
  // The walk's stack as parallel typed arrays: span, window [lo, hi] (clamped
  // to the parent's), cursor (the earliest time on the path found so far in
  // that span), next child to look at (an index into kids).
  const sI = new Int32Array(n + 1);
  const sK = new Int32Array(n + 1);
  const sLo = new Float64Array(n + 1);
  const sHi = new Float64Array(n + 1);
  const sCur = new Float64Array(n + 1);
  let top = 0;
  on[root] = 1;
  sI[0] = root;
  sK[0] = first[root];
  sLo[0] = start[root];
  sHi[0] = end[root];
  sCur[0] = end[root];
  top = 1;
  while (top > 0) {
    const f = top - 1;
    const i = sI[f];
    const last = first[i + 1];
    const lo = sLo[f];
    const hi = sHi[f];
    const cur = sCur[f];
    let k = sK[f];
    let next = -1;
    let cs = 0;
    let ce = 0;
    while (k < last) {
      const c = kids[k++];
      if (on[c] === 1) continue; // a parent cycle in bad data
      ce = end[c] < hi ? end[c] : hi;
      cs = start[c] > lo ? start[c] : lo;
      if (ce <= cs) continue; // empty, or wholly outside the parent (skew)
      if (ce > cur) continue; // overlaps the part of the path already found
      next = c;
      break;
    }
    sK[f] = k;
    // The span's own time: after the child taken, or down to its start.
    const from = next >= 0 ? ce : lo;
    if (cur > from) {
      segFrom[nSeg] = from;
      segTo[nSeg] = cur;
      segNext[nSeg] = -1;
      if (segHead[i] < 0) segHead[i] = nSeg;
      else segNext[segTail[i]] = nSeg;
      segTail[i] = nSeg;
      nSeg++;
    }
    if (next >= 0) {
      on[next] = 1;
      sI[top] = next;
      sK[top] = first[next];
      sLo[top] = cs;
      sHi[top] = ce;
      sCur[top] = ce;
      top++;
    } else {
      top--;
      if (top > 0) sCur[top - 1] = lo;
    }
  }
  return { on, segments };
}
