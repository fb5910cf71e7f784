// A light time-series chart (issue 16): lines drawn on a canvas (200 series
// of 3 600 points are 720 000 segments: too many SVG nodes or path text),
// axes and exemplar points as SVG over it (points are clickable elements).
import { useEffect, useRef } from 'preact/hooks';

export const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function formatNumber(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  if (unit === 's') {
    if (v === 0) return '0';
    if (v < 1e-3) return `${+(v * 1e6).toPrecision(3)} µs`;
    if (v < 1) return `${+(v * 1e3).toPrecision(3)} ms`;
    return `${+v.toPrecision(3)} s`;
  }
  const a = Math.abs(v);
  const s = a >= 1e9 ? `${+(v / 1e9).toPrecision(3)}G` : a >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : a >= 1e3 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(3)}`;
  return unit && unit !== '1' && !unit.startsWith('{') ? `${s} ${unit}` : s;
}

function clock(ms) {
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const PAD = { l: 58, r: 8, t: 8, b: 20 };

// The canvas sized for the device's pixels and cleared; its 2D context in CSS pixels.
function clearedCanvas(c, width, height) {
  if (!c) return null;
  const dpr = window.devicePixelRatio || 1;
  c.width = width * dpr;
  c.height = height * dpr;
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  return g;
}

// A chart's frame: title, the canvas (drawn by the caller), and over it as
// SVG the two axes, the value labels yTicks [{y, text}], the times at the
// start, middle and end, and the exemplar points `dots` (at place(d) = [x, y];
// a click runs d.onClick); then `legend`.
function Frame({ title, testid, canvasRef, width, height, w, h, t0Ms, span, yTicks, legend, dots, place }) {
  return (
    <div class="chart" data-testid={testid}>
      <h3>{title}</h3>
      <div style={{ position: 'relative', width: `${width}px`, height: `${height}px` }}>
        <canvas ref={canvasRef} style={{ position: 'absolute', left: 0, top: 0, width: `${width}px`, height: `${height}px` }} />
        <svg width={width} height={height} style={{ position: 'absolute', left: 0, top: 0 }}>
          <line x1={PAD.l} y1={PAD.t + h} x2={PAD.l + w} y2={PAD.t + h} stroke="#ccd" />
          <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={PAD.t + h} stroke="#ccd" />
          {yTicks.map((t) => (
            <text x={PAD.l - 4} y={t.y + 4} text-anchor="end" font-size="10" fill="#667">
              {t.text}
            </text>
          ))}
          {[0, 0.5, 1].map((f) => (
            <text x={PAD.l + f * w} y={height - 5} text-anchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'} font-size="10" fill="#667">
              {clock(t0Ms + f * span)}
            </text>
          ))}
          {dots.map((d) => {
            const [cx, cy] = place(d);
            return (
              <circle class="exemplar" cx={cx} cy={cy} r="4" onClick={d.onClick} {...d.attrs}>
                <title>{d.title}</title>
              </circle>
            );
          })}
        </svg>
      </div>
      {legend}
    </div>
  );
}

// lines: [{label, color, values: (number|null)[]}], one value per time bucket.
// t0Ms, stepMs: the buckets' times. dots: [{tMs, value, key, title, onClick, attrs}].
export function Chart({ title, unit, lines, t0Ms, stepMs, n, dots = [], width = 460, height = 170, testid, yMax }) {
  const canvas = useRef(null);
  let max = 0;
  for (const l of lines) for (const v of l.values) if (v !== null && v > max) max = v;
  for (const d of dots) if (d.value > max) max = d.value;
  max = yMax ?? niceMax(max);
  const w = width - PAD.l - PAD.r;
  const h = height - PAD.t - PAD.b;
  const span = Math.max(1, n - 1) * stepMs;
  const x = (tMs) => PAD.l + ((tMs - t0Ms) / span) * w;
  const y = (v) => PAD.t + h - (v / max) * h;
  useEffect(() => {
    const g = clearedCanvas(canvas.current, width, height);
    if (!g) return;
    g.lineWidth = 1.25;
    const dx = n > 1 ? w / (n - 1) : 0;
    for (const l of lines) {
      g.strokeStyle = l.color;
      g.beginPath();
      let pen = false;
      const vals = l.values;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i];
        if (v === null || v === undefined) {
          pen = false;
          continue;
        }
        const px = PAD.l + i * dx;
        const py = PAD.t + h - (v / max) * h;
        if (pen) g.lineTo(px, py);
        else g.moveTo(px, py);
        pen = true;
      }
      // A lone point (no neighbours) still shows.
      g.stroke();
      if (vals.filter((v) => v !== null).length === 1) {
        const i = vals.findIndex((v) => v !== null);
        g.fillStyle = l.color;
        g.fillRect(PAD.l + i * dx - 1.5, PAD.t + h - (vals[i] / max) * h - 1.5, 3, 3);
      }
    }
  }, [lines, max, n, width, height]);
  const frame = { title, testid, canvasRef: canvas, width, height, w, h, t0Ms, span };
  const yTicks = [0, 0.5, 1].map((f) => ({ y: y(max * f), text: formatNumber(max * f, unit) }));
  const legend = lines.length <= 8 && (
    <div class="legend">
      {lines.map((l) => (
        <span style={{ marginRight: '10px' }}>
          <i style={{ display: 'inline-block', width: '10px', height: '3px', background: l.color, verticalAlign: 'middle', marginRight: '3px' }} />
          {l.label}
        </span>
      ))}
    </div>
  );
  return <Frame {...frame} yTicks={yTicks} legend={legend} dots={dots} place={(d) => [x(d.tMs), y(d.value)]} />;
}

// A histogram's heat map: one column per time bucket, one row per histogram
// bucket (from the lowest to the highest bucket with observations; an
// exponential histogram's buckets are equal steps of a log scale), the
// colour's strength the bucket's share of the largest count. buckets[i][k]:
// the count of histogram bucket k (bounds: explicit bounds, k covers
// (bounds[k-1], bounds[k]]) in time bucket i. dots: as Chart's, placed on the
// row holding their value.
export function HeatMap({ title, unit, bounds, buckets, t0Ms, stepMs, n, dots = [], width = 460, height = 170, testid }) {
  const canvas = useRef(null);
  let lo = Infinity;
  let hi = -1;
  let max = 0;
  for (const col of buckets) {
    for (let k = 0; k < col.length; k++) {
      if (col[k] > 0) {
        if (k < lo) lo = k;
        if (k > hi) hi = k;
        if (col[k] > max) max = col[k];
      }
    }
  }
  if (hi < 0) lo = hi = 0;
  const rows = hi - lo + 1;
  const w = width - PAD.l - PAD.r;
  const h = height - PAD.t - PAD.b;
  const span = Math.max(1, n) * stepMs;
  const colW = w / Math.max(1, n);
  const rowH = h / rows;
  const rowOf = (v) => {
    let k = 0;
    while (k < bounds.length && v > bounds[k]) k++;
    return Math.min(hi, Math.max(lo, k));
  };
  const yRow = (k) => PAD.t + h - (k - lo + 0.5) * rowH;
  useEffect(() => {
    const g = clearedCanvas(canvas.current, width, height);
    if (!g) return;
    if (!(max > 0)) return;
    for (let i = 0; i < buckets.length; i++) {
      const col = buckets[i];
      for (let k = lo; k <= hi && k < col.length; k++) {
        if (!(col[k] > 0)) continue;
        g.fillStyle = `rgba(78, 121, 167, ${(0.12 + 0.88 * Math.sqrt(col[k] / max)).toFixed(3)})`;
        g.fillRect(PAD.l + i * colW, PAD.t + h - (k - lo + 1) * rowH, Math.max(1, colW), Math.max(1, rowH));
      }
    }
  }, [buckets, lo, hi, max, n, width, height]);
  // Row labels: the upper bound of the lowest, middle and highest rows.
  const label = (k) => (k < bounds.length ? formatNumber(bounds[k], unit) : `> ${formatNumber(bounds[bounds.length - 1], unit)}`);
  const ticks = [...new Set([lo, Math.round((lo + hi) / 2), hi])];
  const frame = { title, testid, canvasRef: canvas, width, height, w, h, t0Ms, span };
  const yTicks = ticks.map((k) => ({ y: yRow(k), text: label(k) }));
  const legend = <div class="legend">darker: more observations in that bucket</div>;
  return <Frame {...frame} yTicks={yTicks} legend={legend} dots={dots} place={(d) => [PAD.l + ((d.tMs - t0Ms) / span) * w, yRow(rowOf(d.value))]} />;
}
