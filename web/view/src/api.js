// The otelweb-view JSON API (docs/view.md): small fetch helpers and the value
// formatting shared by the pages. Timestamps arrive as decimal strings of
// nanoseconds (they exceed 2^53), durations as numbers of nanoseconds.

export async function getJSON(url, signal) {
  return readJSON(await fetch(url, { signal }));
}

// The trace of a deep link, requested by index.html before this code loaded.
export function takePrefetchedTrace(traceId) {
  const p = window.__otelwebTrace;
  if (!p || p.id !== traceId) return null;
  window.__otelwebTrace = null;
  return p.response.then(readJSON);
}

async function readJSON(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) {
    const what = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    const error = new Error(what);
    error.status = response.status;
    throw error;
  }
  return body;
}

export function formatDuration(ns) {
  const n = Number(ns);
  if (!Number.isFinite(n)) return '';
  if (n < 1e3) return `${n} ns`;
  if (n < 1e6) return `${trim(n / 1e3)} µs`;
  if (n < 1e9) return `${trim(n / 1e6)} ms`;
  return `${trim(n / 1e9)} s`;
}

function trim(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

// "1700000000123456789" -> Date-like text in local time with milliseconds.
export function formatTime(unixNanoString) {
  if (!unixNanoString) return '';
  const ms = Number(BigInt(unixNanoString) / 1000000n);
  const d = new Date(ms);
  const pad = (v, n = 2) => String(v).padStart(n, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

// Attribute values keep their OTLP type; show them as text.
export function formatValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#9c755f', '#ff9da7', '#bab0ac', '#2f4b7c',
];

// A service keeps its colour on every page (hash of its name).
export function serviceColor(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return PALETTE[(h >>> 0) % PALETTE.length];
}
