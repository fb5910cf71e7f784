// The span tree of one trace, built once per trace from parentSpanId (a span
// whose parent is not in the trace is an extra root), stored as arrays in
// depth-first order so that expand, collapse and search are plain loops over
// typed data, fast on a 10 000-span trace.

// The API lists each resource and scope once (`resources`, `scopes`) and a span
// names them by `resourceIndex` and `scopeIndex`: give each span its
// `resource` and `scope` objects again (shared, not copied). Members the API
// leaves out at their default (events, links, dropped counts, trace state,
// status message) are read with a fallback where they are used.
export function attachContexts(trace) {
  const resources = trace.resources || [];
  const scopes = trace.scopes || [];
  for (const s of trace.spans || []) {
    if (s.resource === undefined && s.resourceIndex !== undefined) s.resource = resources[s.resourceIndex];
    if (s.scope === undefined && s.scopeIndex !== undefined) s.scope = scopes[s.scopeIndex];
  }
  return trace;
}

// A time in ns since the epoch (a decimal string, beyond 2^53) as its high
// digits and its last 15 digits, both exact Numbers: differences within a
// trace are computed without BigInt (slow while the page's code is still
// cold, which is when a large trace is first shown).
function split(ns) {
  const s = ns || '0';
  const k = s.length - 15;
  return k > 0 ? [Number(s.slice(0, k)), Number(s.slice(k))] : [0, Number(s)];
}
const before = (h1, l1, h2, l2) => h1 < h2 || (h1 === h2 && l1 < l2);

export function buildModel(trace) {
  attachContexts(trace);
  const spans = trace.spans || [];
  const n = spans.length;
  const byId = new Map();
  const sHi = new Float64Array(n);
  const sLo = new Float64Array(n);
  let h0 = 0, l0 = 0, h1 = 0, l1 = 0; // earliest start, latest end
  let t0str = '0';
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    byId.set(s.spanId, i);
    const [sh, sl] = split(s.startTimeUnixNano);
    const [eh, el] = split(s.endTimeUnixNano || s.startTimeUnixNano);
    sHi[i] = sh;
    sLo[i] = sl;
    if (i === 0 || before(sh, sl, h0, l0)) {
      h0 = sh;
      l0 = sl;
      t0str = s.startTimeUnixNano || '0';
    }
    if (i === 0 || before(h1, l1, eh, el)) {
      h1 = eh;
      l1 = el;
    }
  }
  const t0 = n ? BigInt(t0str) : null;
  // Offsets from the trace's start, in ns (exact up to 2^53 ns, 104 days).
  const offset = new Float64Array(n);
  for (let i = 0; i < n; i++) offset[i] = (sHi[i] - h0) * 1e15 + (sLo[i] - l0);
  const children = Array.from({ length: n }, () => []);
  const parent = new Int32Array(n).fill(-1);
  const rootList = [];
  for (let i = 0; i < n; i++) {
    const p = spans[i].parentSpanId ? byId.get(spans[i].parentSpanId) : undefined;
    if (p !== undefined && p !== i) {
      children[p].push(i);
      parent[i] = p;
    } else {
      rootList.push(i);
    }
  }
  // Children in start order (the API sends spans sorted by start already).
  const byStart = (a, b) => offset[a] - offset[b] || a - b;
  for (const c of children) if (c.length > 1) c.sort(byStart);

  const order = []; // span indexes in depth-first order
  const depth = new Int32Array(n);
  const size = new Int32Array(n); // subtree size, the span included
  const pos = new Int32Array(n).fill(-1); // index in `order`
  const visit = (root, d0) => {
    const stack = [[root, d0, 0]];
    pos[root] = order.length;
    order.push(root);
    depth[root] = d0;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [i, d, k] = top;
      if (k < children[i].length) {
        top[2]++;
        const c = children[i][k];
        if (pos[c] !== -1) continue; // a cycle in bad data: show the span once
        pos[c] = order.length;
        order.push(c);
        depth[c] = d + 1;
        stack.push([c, d + 1, 0]);
      } else {
        size[i] = order.length - pos[i];
        stack.pop();
      }
    }
  };
  for (const r of rootList) visit(r, 0);
  // Spans caught in a parent cycle are reached from no root: show them as roots.
  for (let i = 0; i < n; i++) if (pos[i] === -1) visit(i, 0);

  const total = n ? Math.max(1, (h1 - h0) * 1e15 + (l1 - l0)) : 1;
  const services = [...new Set(spans.map((s) => s.service))].sort();
  const errors = order.filter((i) => spans[i].status && spans[i].status.code === 'ERROR');
  return { spans, byId, children, parent, order, depth, size, pos, offset, total, services, errors, t0, haystack: null };
}

// The rows shown: depth-first order, skipping the descendants of collapsed spans.
export function visibleRows(model, collapsed) {
  const { order, size, spans } = model;
  if (collapsed.size === 0) return order;
  const rows = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    rows.push(i);
    if (size[i] > 1 && collapsed.has(spans[i].spanId)) k += size[i] - 1;
  }
  return rows;
}

function text(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// Spans (in tree order) whose name, service, id, status message or any
// attribute key or value contains `query` (case-insensitive).
export function searchSpans(model, query) {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  if (!model.haystack) {
    model.haystack = model.spans.map((s) => {
      let h = `${s.name}\n${s.service}\n${s.spanId}\n${(s.status && s.status.message) || ''}`;
      for (const [k, v] of Object.entries(s.attributes || {})) h += `\n${k}=${text(v)}`;
      for (const e of s.events || []) h += `\n${e.name}`;
      return h.toLowerCase();
    });
  }
  const hay = model.haystack;
  return model.order.filter((i) => hay[i].includes(q));
}

// The collapsed set without the ancestors of span index `i` (so it is shown).
export function reveal(model, collapsed, i) {
  let p = model.parent[i];
  let next = collapsed;
  while (p !== -1) {
    const id = model.spans[p].spanId;
    if (next.has(id)) {
      if (next === collapsed) next = new Set(collapsed);
      next.delete(id);
    }
    p = model.parent[p];
  }
  return next;
}
