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
  const seg = (i, from, to) => {
    if (to <= from) return;
    let s = segments.get(i);
    if (!s) segments.set(i, (s = []));
    s.push([from, to]);
  };
  const frame = (i, lo, hi) => {
    const kids = children[i];
    let sorted = kids;
    if (kids.length > 1) {
      const e = kids.map((c) => Math.min(end[c], hi));
      const idx = kids.map((_, k) => k).sort((a, b) => e[b] - e[a]);
      sorted = idx.map((k) => kids[k]);
    }
    return { i, lo, hi, cursor: hi, kids: sorted, k: 0 };
  };
  on[root] = 1;
  const stack = [frame(root, start[root], end[root])];
  while (stack.length) {
    const f = stack[stack.length - 1];
    let pushed = false;
    while (f.k < f.kids.length) {
      const c = f.kids[f.k++];
      if (on[c]) continue; // a parent cycle in bad data
      const ce = Math.min(end[c], f.hi);
      const cs = Math.max(start[c], f.lo);
      if (ce <= cs) continue; // empty, or wholly outside the parent (skew)
      if (ce > f.cursor) continue; // overlaps the part of the path already found
      seg(f.i, ce, f.cursor);
      on[c] = 1;
      stack.push(frame(c, cs, ce));
      pushed = true;
      break;
    }
    if (pushed) continue;
    seg(f.i, f.lo, f.cursor);
    stack.pop();
    if (stack.length) stack[stack.length - 1].cursor = f.lo;
  }
  return { on, segments };
}
