// The metrics page's arithmetic (issue 16), on /api/metrics/series answers:
// series grouped by one attribute (http.route by default), histograms merged
// bucket by bucket, percentiles interpolated within buckets, request and
// error rates.

// The value at fraction q of the observations of `counts` (explicit bounds;
// linear within a bucket; the overflow bucket takes the last bound).
export function quantile(counts, bounds, q) {
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0)) return null;
  const want = q * total;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && acc + counts[i] >= want) {
      if (!bounds.length) return 0;
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lo = i === 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
      return lo + ((bounds[i] - lo) * (want - acc)) / counts[i];
    }
    acc += counts[i];
  }
  return bounds.length ? bounds[bounds.length - 1] : 0;
}

// An HTTP request counted as an error: a 5xx status or an error.type.
export function isErrorSeries(attrs) {
  const code = Number(attrs['http.response.status_code'] ?? attrs['rpc.grpc.status_code'] ?? 0);
  return code >= 500 || 'error.type' in attrs;
}

// Groups of series: key -> {label, series[]}; groupBy '' = one group per series.
export function groupSeries(series, groupBy) {
  const groups = new Map();
  for (const s of series) {
    let key;
    if (!groupBy) key = `${s.service} ${JSON.stringify(s.attributes)}`;
    else key = `${s.service} ${s.attributes[groupBy] ?? '(none)'}`;
    if (!groups.has(key)) {
      const label = groupBy ? `${s.service} ${groupBy}=${s.attributes[groupBy] ?? '(none)'}` : `${s.service} ${Object.entries(s.attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`;
      groups.set(key, { label, series: [] });
    }
    groups.get(key).series.push(s);
  }
  return [...groups.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
}

// One group of histogram series -> per time bucket: rate (/s), error rate
// (0..1, null without requests), p50/p90/p99, and the exemplars.
export function histogramPanel(group, stepSeconds) {
  const first = group.series[0];
  const n = first.values.length;
  const bounds = first.bounds || [];
  const counts = new Array(n).fill(0);
  const errors = new Array(n).fill(0);
  const merged = Array.from({ length: n }, () => new Array(bounds.length + 1).fill(0));
  const exemplars = [];
  for (const s of group.series) {
    const err = isErrorSeries(s.attributes);
    for (let i = 0; i < n; i++) {
      const c = (s.counts && s.counts[i]) || 0;
      counts[i] += c;
      if (err) errors[i] += c;
      const b = s.buckets && s.buckets[i];
      if (b) for (let k = 0; k < b.length && k < merged[i].length; k++) merged[i][k] += b[k];
    }
    for (const e of s.exemplars || []) exemplars.push({ ...e, error: err, attributes: s.attributes });
  }
  const has = (i) => group.series.some((s) => s.values[i] !== null);
  return {
    rate: counts.map((c, i) => (has(i) ? c / stepSeconds : null)),
    errorRate: counts.map((c, i) => (has(i) && c > 0 ? errors[i] / c : null)),
    p50: merged.map((b) => quantile(b, bounds, 0.5)),
    p90: merged.map((b) => quantile(b, bounds, 0.9)),
    p99: merged.map((b) => quantile(b, bounds, 0.99)),
    bounds,
    buckets: merged, // per time bucket, the group's bucket counts (the heat map)
    exemplars,
  };
}
