// Compare two traces (issue 16): /compare?a=<trace id>&b=<trace id>; with a
// only, a list of traces of the same root operation to pick B from. Each
// matched span shows both durations, the difference and a bar per trace;
// spans in one trace only are marked.
import { useEffect, useState } from 'preact/hooks';
import { getJSON, formatDuration, serviceColor } from './api.js';
import { Link } from './router.jsx';
import { compareTraces, verdict } from './compare.js';
import './signals.css';

export function ComparePage({ search }) {
  const p = new URLSearchParams(search);
  const a = (p.get('a') || '').toLowerCase();
  const b = (p.get('b') || '').toLowerCase();
  const [data, setData] = useState(null);
  const [candidates, setCandidates] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    setData(null);
    setError('');
    if (!a) return setError('Open /compare?a=<trace id>&b=<trace id>, or use "Compare" on a trace page.');
    const load = (id) => getJSON(`/api/traces/${id}`);
    if (!b) {
      load(a)
        .then((t) => {
          const root = t.spans.find((s) => !s.parentSpanId) || t.spans[0];
          setData({ onlyA: t, root });
          return getJSON(`/api/traces?limit=100&name=${encodeURIComponent(root.name)}`);
        })
        .then((r) => setCandidates(r.traces.filter((x) => x.traceId !== a)))
        .catch((e) => setError(e.message));
      return;
    }
    Promise.all([load(a), load(b)])
      .then(([ta, tb]) => setData(compareTraces(ta, tb)))
      .catch((e) => setError(e.message));
  }, [a, b]);
  if (error) return <div class="message error">{error}</div>;
  if (!data) return <div class="message">Loading…</div>;
  if (data.onlyA) {
    return (
      <div class="page">
        <h2>Compare {data.root.name} ({a.slice(0, 8)}…) with:</h2>
        {!candidates ? (
          <div class="message">Loading…</div>
        ) : !candidates.length ? (
          <div class="message">No other trace of {data.root.name} is stored.</div>
        ) : (
          <table class="logs" data-testid="compare-candidates">
            <tbody>
              {candidates.map((t) => (
                <tr class="candidate" data-trace-id={t.traceId}>
                  <td>
                    <Link href={`/compare?a=${a}&b=${t.traceId}`}>{t.rootName}</Link>
                  </td>
                  <td class="mono">{t.traceId}</td>
                  <td class="r">{formatDuration(t.durationNano)}</td>
                  <td class="r">{t.spanCount} spans</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    );
  }
  const { rows } = data;
  const totalA = data.a.total;
  const totalB = data.b.total;
  const scale = Math.max(totalA, totalB);
  const bar = (model, s, color) => {
    if (!s) return null;
    const i = model.byId.get(s.spanId);
    return <i class="cmp-bar" style={{ left: `${(model.offset[i] / scale) * 100}%`, width: `${Math.max(0.3, (Number(s.durationNano) / scale) * 100)}%`, background: color }} />;
  };
  const counts = { slower: 0, faster: 0, same: 0, only: 0 };
  for (const r of rows) counts[verdict(r.a, r.b)]++;
  return (
    <div class="page compare-page">
      <h2>
        Compare <Link href={`/trace/${a}`} class="mono">{a.slice(0, 16)}</Link> (A, {formatDuration(totalA)}) with{' '}
        <Link href={`/trace/${b}`} class="mono">{b.slice(0, 16)}</Link> (B, {formatDuration(totalB)})
      </h2>
      <div class="summary" data-testid="compare-summary">
        {rows.length} spans: {counts.slower} slower, {counts.faster} faster, {counts.same} within 20 %, {counts.only} in one trace only
      </div>
      <table class="logs compare" data-testid="compare">
        <thead>
          <tr><th>Service · span</th><th class="r">A</th><th class="r">B</th><th class="r">B − A</th><th style={{ width: '34%' }}>A (top) and B on one time axis</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const v = verdict(r.a, r.b);
            const d = r.a && r.b ? Number(r.b.durationNano) - Number(r.a.durationNano) : null;
            const pct = d !== null && Number(r.a.durationNano) > 0 ? (d / Number(r.a.durationNano)) * 100 : null;
            return (
              <tr class={`cmp-row ${v}`} data-key={r.key} data-verdict={v}>
                <td style={{ paddingLeft: `${8 + r.depth * 14}px` }}>
                  <i class="swatch" style={{ background: serviceColor(r.service), display: 'inline-block', width: '8px', height: '8px', marginRight: '4px' }} />
                  <span class="svc">{r.service}</span> <b class="span-name">{r.name}</b>
                  {v === 'only' && <span class="only-mark"> (only in {r.a ? 'A' : 'B'})</span>}
                </td>
                <td class="r dur-a">{r.a ? formatDuration(r.a.durationNano) : '—'}</td>
                <td class="r dur-b">{r.b ? formatDuration(r.b.durationNano) : '—'}</td>
                <td class={`r diff ${v}`}>
                  {d === null ? '' : `${d >= 0 ? '+' : '−'}${formatDuration(Math.abs(d))}`}
                  {pct === null ? '' : ` (${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(0)} %)`}
                </td>
                <td>
                  <div class="cmp-bars">
                    <div class="cmp-lane">{bar(data.a, r.a, '#4e79a7')}</div>
                    <div class="cmp-lane">{bar(data.b, r.b, '#f28e2b')}</div>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
