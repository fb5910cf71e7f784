// The service map (issue 16): services as boxes in layers (callers left of
// the services they call), one arrow per cross-service parent/child pair of
// spans with its call count and error rate, drawn as plain SVG (a handful of
// services needs no graph library). Time window in the URL: /service-map?last=MIN.
import { useEffect, useState } from 'preact/hooks';
import { getJSON, formatDuration, serviceColor } from './api.js';
import { Link, navigate } from './router.jsx';
import './signals.css';

// Layer of each service: the longest chain of callers above it (cycles cut).
export function layout(services, edges) {
  const names = services.map((s) => s.service);
  const layer = new Map(names.map((n) => [n, 0]));
  for (let round = 0; round < names.length; round++) {
    let changed = false;
    for (const e of edges) {
      if (e.parent === e.child) continue;
      const want = layer.get(e.parent) + 1;
      if (want > layer.get(e.child) && want < names.length) {
        layer.set(e.child, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const n of names) {
    const l = layer.get(n);
    (columns[l] ||= []).push(n);
  }
  const W = 190;
  const H = 44;
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((n, y) => pos.set(n, { x: 30 + x * (W + 120), y: 30 + y * (H + 50), w: W, h: H })));
  const width = 60 + columns.length * (W + 120);
  const height = 60 + Math.max(1, ...columns.map((c) => c.length)) * (H + 50);
  return { pos, width, height };
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
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a94a6" />
          </marker>
        </defs>
        {map.edges.map((e) => {
          const a = pos.get(e.parent);
          const b = pos.get(e.child);
          if (!a || !b) return null;
          const x1 = a.x + a.w;
          const y1 = a.y + a.h / 2;
          let x2 = b.x;
          const y2 = b.y + b.h / 2;
          let d;
          if (x2 > x1) d = `M ${x1} ${y1} C ${x1 + 60} ${y1}, ${x2 - 60} ${y2}, ${x2} ${y2}`;
          else {
            // A call back to an earlier layer (or the same one): an arc under the boxes.
            x2 = b.x + b.w / 2;
            const y = Math.max(a.y, b.y) + a.h + 30;
            d = `M ${a.x + a.w / 2} ${a.y + a.h} C ${a.x + a.w / 2} ${y}, ${x2} ${y}, ${x2} ${b.y + b.h}`;
          }
          const mx = (x1 + x2) / 2;
          const my = (y1 + y2) / 2 - 8;
          return (
            <g class={`edge${e.errors ? ' has-errors' : ''}`} data-edge={`${e.parent}->${e.child}`} data-calls={e.calls} data-errors={e.errors}>
              <path d={d} marker-end="url(#arrow)" stroke-width={1 + Math.min(4, Math.log10(1 + e.calls))} />
              <text x={mx} y={my} text-anchor="middle">
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
