// Log records of one trace placed under their spans (issue 16): pure
// functions shared by the waterfall and tests. A waterfall row is a span
// index (number) or a log row {log, span, depth}.

// OTLP severity number -> short name (1-4 TRACE, 5-8 DEBUG, 9-12 INFO,
// 13-16 WARN, 17-20 ERROR, 21-24 FATAL).
export function severityName(rec) {
  if (rec.severityText) return rec.severityText.toUpperCase();
  const n = rec.severityNumber || 0;
  if (n <= 0) return 'UNSPECIFIED';
  return ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][Math.min(5, Math.floor((n - 1) / 4))];
}

export function severityClass(rec) {
  const n = rec.severityNumber || 0;
  return n >= 17 ? 'sev-error' : n >= 13 ? 'sev-warn' : n >= 9 ? 'sev-info' : 'sev-debug';
}

export function bodyText(body) {
  if (body === null || body === undefined) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

// Map span index -> its log records in time order; records whose span is not
// in the trace are kept under `orphans`.
export function logsBySpan(model, logs) {
  const by = new Map();
  const orphans = [];
  const sorted = [...logs].sort((a, b) => {
    const x = BigInt(a.timeUnixNano);
    const y = BigInt(b.timeUnixNano);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (const rec of sorted) {
    const i = rec.spanId ? model.byId.get(rec.spanId) : undefined;
    if (i === undefined) orphans.push(rec);
    else {
      if (!by.has(i)) by.set(i, []);
      by.get(i).push(rec);
    }
  }
  return { by, orphans };
}

// The waterfall's rows with each span's log records right after its row
// (one row per record, one level deeper than the span).
export function withLogRows(rows, model, by) {
  if (!by || by.size === 0) return rows;
  const out = [];
  for (const i of rows) {
    out.push(i);
    const recs = by.get(i);
    if (recs) for (const log of recs) out.push({ log, span: i, depth: model.depth[i] + 1 });
  }
  return out;
}
