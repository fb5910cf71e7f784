// The metrics page (issue 16): any stored instrument charted over time from
// /api/metrics/series. Histograms (http.server.request.duration above all)
// show, per service and route (or another attribute), the request rate, the
// error rate and the 50th/90th/99th percentiles, with exemplar points that
// open their trace at the span that recorded them; sums show their rate per
// second, gauges their value, one line per series.
// URL: /metrics?name=&service=&last=MIN&group=ATTR
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJSON } from './api.js';
import { navigate } from './router.jsx';
import { Chart, COLORS, HeatMap, formatNumber } from './chart.jsx';
import { groupSeries, histogramPanel } from './metrics.js';

// Exponential histograms come with explicit bounds too (docs/view.md).
const isHistogram = (type) => type === 'histogram' || type === 'exponentialHistogram';
import './signals.css';

const WINDOWS = [['', 'all stored'], ['5', 'last 5 min'], ['15', 'last 15 min'], ['60', 'last hour'], ['1440', 'last day']];

export function MetricsPage({ search }) {
  const params = new URLSearchParams(search);
  const [list, setList] = useState(null);
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const name = params.get('name') || (list && (list.find((m) => m.name === 'http.server.request.duration') || list[0] || {}).name) || '';
  const service = params.get('service') || '';
  const last = params.get('last') || '';
  const step = params.get('step') || '';
  const info = list && list.find((m) => m.name === name);
  const defaultGroup = info && isHistogram(info.type) && name.startsWith('http.') ? 'http.route' : '';
  const group = params.has('group') ? params.get('group') : defaultGroup;

  useEffect(() => {
    getJSON('/api/metrics').then((r) => setList(r.metrics)).catch((e) => setError(e.message));
  }, []);
  useEffect(() => {
    if (!name) return;
    const ctl = new AbortController();
    const q = new URLSearchParams({ name });
    if (service) q.set('service', service);
    if (last) q.set('start', (BigInt(Date.now() - Number(last) * 60000) * 1000000n).toString());
    // One bucket per pixel or two of the widest chart unless a step is asked for.
    if (step) q.set('step', step);
    else q.set('maxPoints', '900');
    setData(null);
    getJSON(`/api/metrics/series?${q}`, ctl.signal)
      .then((r) => !ctl.signal.aborted && setData(r))
      .catch((e) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [name, service, last, step]);
  useEffect(() => {
    if (!data) return;
    document.documentElement.dataset.metricsReady = data.name;
    performance.mark('otelweb-view:metrics-rendered');
    return () => delete document.documentElement.dataset.metricsReady;
  }, [data, group]);

  const set = (k, v) => {
    const p = new URLSearchParams(search);
    if (v !== null && v !== undefined && (v !== '' || k === 'group')) p.set(k, v);
    else p.delete(k);
    if (k === 'name') p.delete('group');
    navigate(`/metrics?${p}`, { replace: true });
  };
  const attrKeys = useMemo(() => {
    const keys = new Set();
    if (data) for (const s of data.series) for (const k of Object.keys(s.attributes)) keys.add(k);
    return [...keys].sort();
  }, [data]);

  if (error) return <div class="message error">{error}</div>;
  if (!list) return <div class="message">Loading the instruments…</div>;
  if (!list.length) return <div class="message">No metrics stored yet: send OTLP metrics to otelweb-view (OTEL_METRICS_EXPORTER=otlp).</div>;
  return (
    <div class="page metrics-page">
      <div class="filters">
        <label>
          Instrument
          <select name="name" value={name} onChange={(e) => set('name', e.currentTarget.value)}>
            {list.map((m) => (
              <option value={m.name}>
                {m.name} ({m.type}{m.unit ? `, ${m.unit}` : ''})
              </option>
            ))}
          </select>
        </label>
        <label>
          Service
          <select name="service" value={service} onChange={(e) => set('service', e.currentTarget.value)}>
            <option value="">all</option>
            {((info && info.services) || []).map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Window
          <select name="last" value={last} onChange={(e) => set('last', e.currentTarget.value)}>
            {WINDOWS.map(([v, t]) => (
              <option value={v}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Group by
          <select name="group" value={group} onChange={(e) => set('group', e.currentTarget.value)}>
            <option value="">every series</option>
            {attrKeys.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
        </label>
        {info && <span class="summary">{info.description}</span>}
      </div>
      {!data ? <div class="message">Loading {name}…</div> : <Panels data={data} group={group} />}
    </div>
  );
}

function Panels({ data, group }) {
  const t0Ms = Number(BigInt(data.startTimeUnixNano) / 1000000n);
  const stepMs = data.stepNano / 1e6;
  const n = data.series.length ? data.series[0].values.length : 0;
  const groups = useMemo(() => groupSeries(data.series, group), [data, group]);
  if (!data.series.length) return <div class="message">No points of {data.name} in this window.</div>;
  const common = { t0Ms, stepMs, n };
  const inView = (d) => d.tMs >= t0Ms - stepMs && d.tMs <= t0Ms + n * stepMs;
  if (isHistogram(data.type)) {
    return (
      <div>
        <div class="summary" data-testid="metric-summary">
          {groups.length} groups · step {formatNumber(stepMs / 1000, 's')} · exemplar points open their trace at the span
        </div>
        {groups.map((g) => {
          const p = histogramPanel(g, stepMs / 1000);
          const dots = p.exemplars.map((e) => ({
            tMs: Number(BigInt(e.timeUnixNano) / 1000000n),
            value: e.value,
            title: `${formatNumber(e.value, data.unit)} · trace ${e.traceId} span ${e.spanId}`,
            onClick: () => navigate(`/trace/${e.traceId}?span=${e.spanId}`),
            attrs: { 'data-trace-id': e.traceId, 'data-span-id': e.spanId },
          })).filter(inView);
          return (
            <div class="metric-group" data-group={g.label}>
              <h3>{g.label}</h3>
              <div class="charts">
                <Chart title="Requests per second" lines={[{ label: 'rate', color: COLORS[0], values: p.rate }]} {...common} testid="chart-rate" />
                <Chart title="Error rate (5xx or error.type)" unit="%" yMax={100} lines={[{ label: 'errors', color: COLORS[2], values: p.errorRate.map((v) => (v === null ? null : v * 100)) }]} {...common} testid="chart-errors" />
                <Chart
                  title={`Duration percentiles (${data.unit}) and exemplars`}
                  unit={data.unit}
                  lines={[
                    { label: 'p50', color: COLORS[0], values: p.p50 },
                    { label: 'p90', color: COLORS[1], values: p.p90 },
                    { label: 'p99', color: COLORS[2], values: p.p99 },
                  ]}
                  dots={dots}
                  {...common}
                  testid="chart-duration"
                />
                <HeatMap title={`Duration heat map (${data.unit})`} unit={data.unit} bounds={p.bounds} buckets={p.buckets} dots={dots} {...common} testid="chart-heatmap" />
              </div>
            </div>
          );
        })}
      </div>
    );
  }
  // Sums (rate per second) and gauges (value): one line per series of each group.
  const what = data.type === 'sum' ? `${data.name} per second` : data.name;
  return (
    <div>
      <div class="summary" data-testid="metric-summary">
        {data.series.length} series · step {formatNumber(stepMs / 1000, 's')}
      </div>
      <div class="charts">
        {(group ? groups : [{ label: `${data.series.length} series`, series: data.series }]).map((g) => (
          <Chart
            title={`${what} · ${g.label}`}
            unit={data.unit}
            width={group ? 460 : 940}
            height={group ? 170 : 320}
            lines={g.series.map((s, k) => ({ label: `${s.service} ${Object.values(s.attributes).join(' ')}`, color: COLORS[k % COLORS.length], values: s.values }))}
            dots={g.series.flatMap((s) =>
              (s.exemplars || []).map((e) => ({
                tMs: Number(BigInt(e.timeUnixNano) / 1000000n),
                value: e.value,
                title: `trace ${e.traceId} span ${e.spanId}`,
                onClick: () => navigate(`/trace/${e.traceId}?span=${e.spanId}`),
                attrs: { 'data-trace-id': e.traceId, 'data-span-id': e.spanId },
              })),
            ).filter(inView)}
            {...common}
            testid="chart-series"
          />
        ))}
      </div>
    </div>
  );
}
