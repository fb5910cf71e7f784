// The service map (issue 16): services as boxes in layers (callers left of
// the services they call), one arrow per cross-service parent/child pair of
// spans with its call count and error rate, drawn as plain SVG (a handful of
// services needs no graph library). Time window in the URL: /service-map?last=MIN.
import { useEffect, useState } from 'preact/hooks';
import { getJSON, formatDuration, serviceColor } from './api.js';
import { Link, navigate } from './router.jsx';
import './signals.css';

// Columns by call depth: services nobody else calls first (or, in a group
// that only calls itself round, the one that calls most), then breadth-first
// along the edges; each service in the first column it is reached at.
export function layout(services, edges) {
  const names = services.map((x) => x.service);
  const out = new Map(names.map((n) => [n, []]));
  const inCalls = new Map(names.map((n) => [n, 0]));
  const outCalls = new Map(names.map((n) => [n, 0]));
  for (const e of edges) {
    if (e.parent === e.child || !out.has(e.parent) || !out.has(e.child)) continue;
    out.get(e.parent).push(e.child);
    inCalls.set(e.child, inCalls.get(e.child) + e.calls);
    outCalls.set(e.parent, outCalls.get(e.parent) + e.calls);
  }
  const layer = new Map();
  const bfs = (starts) => {
    let front = starts;
    for (const n of front) layer.set(n, 0);
    for (let d = 1; front.length; d++) {
      const next = [];
      for (const n of front) for (const c of out.get(n)) if (!layer.has(c)) (layer.set(c, d), next.push(c));
      front = next;
    }
  };
  bfs(names.filter((n) => inCalls.get(n) === 0));
  for (;;) {
    const left = names.filter((n) => !layer.has(n));
    if (!left.length) break;
    left.sort((x, y) => outCalls.get(y) - inCalls.get(y) - (outCalls.get(x) - inCalls.get(x)));
    bfs([left[0]]);
  }
  const columns = [];
  for (const n of names) (columns[layer.get(n)] ||= []).push(n);
  const W = 190;
  const H = 44;
  const GX = 230;
  const GY = 70;
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((n, y) => pos.set(n, { x: 30 + x * (W + GX), y: 40 + y * (H + GY), w: W, h: H })));
  const width = 260 + columns.length * (W + GX) - GX; // room for the labels of the last column
  const height = 80 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY);
  return { pos, width, height };
}

// Where the line from the box's centre towards (dx, dy) leaves the box.
function border(b, dx, dy) {
  const cx = b.x + b.w / 2;
  const cy = b.y + b.h / 2;
  const sx = dx ? b.w / 2 / Math.abs(dx) : Infinity;
  const sy = dy ? b.h / 2 / Math.abs(dy) : Infinity;
  const t = Math.min(sx, sy);
  return [cx + dx * t, cy + dy * t];
}

// A curve from box a to box b bent to its left (so a -> b and b -> a do not
// overlap) and the point at its middle for the label.
export function edgeCurve(a, b) {
  const dx = b.x + b.w / 2 - (a.x + a.w / 2);
  const dy = b.y + b.h / 2 - (a.y + a.h / 2);
  const len = Math.hypot(dx, dy) || 1;
  const [x1, y1] = border(a, dx, dy);
  const [x2, y2] = border(b, -dx, -dy);
  const nx = -dy / len;
  const ny = dx / len;
  const bend = 28;
  const cx = (x1 + x2) / 2 + nx * bend;
  const cy = (y1 + y2) / 2 + ny * bend;
  const anchor = nx > 0.5 ? 'start' : nx < -0.5 ? 'end' : 'middle';
  return {
    d: `M ${x1} ${y1} Q ${cx} ${cy} ${x2} ${y2}`,
    mx: 0.25 * x1 + 0.5 * cx + 0.25 * x2 + nx * 6,
    my: 0.25 * y1 + 0.5 * cy + 0.25 * y2 + ny * 6 + (anchor === 'middle' ? (ny < 0 ? -2 : 10) : 4),
    anchor,
  };
}

const WINDOWS = [['', 'all stored'], ['5', 'last 5 min'], ['15', 'last 15 min'], ['60', 'last hour'], ['1440', 'last day']];

export function ServiceMap({ search }) {
  const last = new URLSearchParams(search).get('last') || '';
  const [map, setMap] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const q = last ? `?start=${(BigInt(Date.now() - Number(last) * 60000) * 1000000n).toString()}` : '';
    getJSON(`/api/service-map${q}`).then(setMap).catch((e) => setError(e.message));
  }, [search]);
  if (error) return <div class="message error">{error}</div>;
  if (!map) return <div class="message">Loading the service map…</div>;
  const { pos, width, height } = layout(map.services, map.edges);
  return (
    <div class="page">
      <div class="filters">
        <label>
          Window
          <select name="last" value={last} onChange={(e) => navigate(`/service-map${e.currentTarget.value ? `?last=${e.currentTarget.value}` : ''}`, { replace: true })}>
            {WINDOWS.map(([v, t]) => <option value={v}>{t}</option>)}
          </select>
        </label>
        <span class="summary">{map.traces} traces, {map.services.length} services, {map.edges.length} edges</span>
      </div>
      <svg class="service-map" width={width} height={height} data-testid="service-map">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a94a6" />
          </marker>
        </defs>
        {map.edges.map((e) => {
          const a = pos.get(e.parent);
          const b = pos.get(e.child);
          if (!a || !b || a === b) return null;
          const { d, mx, my, anchor } = edgeCurve(a, b);
          return (
            <g class={`edge${e.errors ? ' has-errors' : ''}`} data-edge={`${e.parent}->${e.child}`} data-calls={e.calls} data-errors={e.errors}>
              <path d={d} marker-end="url(#arrow)" stroke-width={1 + Math.min(3, Math.log10(1 + e.calls))} />
              <text x={mx} y={my} text-anchor={anchor}>
                {e.calls} calls · {(e.errorRate * 100).toFixed(e.errorRate && e.errorRate < 0.1 ? 1 : 0)}% errors · {formatDuration(e.meanDurationNano)}
              </text>
            </g>
          );
        })}
        {map.services.map((s) => {
          const p = pos.get(s.service);
          return (
            <g class="node" data-service={s.service}>
              <Link href={`/?service=${encodeURIComponent(s.service)}`}>
                <rect x={p.x} y={p.y} width={p.w} height={p.h} rx="6" stroke={serviceColor(s.service)} />
                <text x={p.x + 10} y={p.y + 18} font-weight="600">{s.service}</text>
                <text x={p.x + 10} y={p.y + 34} fill="#667085">
                  {s.spans} spans · {s.errors} errors
                </text>
              </Link>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
