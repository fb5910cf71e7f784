// The trace list: newest first (or longest first), filters kept in the page's
// URL, live updates by polling /api/stats's generation every second.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJSON, formatDuration, formatTime, serviceColor } from './api.js';
import { Link, navigate } from './router.jsx';

const EMPTY = { service: '', name: '', error: '', min: '', max: '', from: '', to: '', attr: '', sort: 'newest' };
const PAGE = 100;

export function filtersFromSearch(search) {
  const p = new URLSearchParams(search);
  const f = { ...EMPTY };
  for (const k of Object.keys(EMPTY)) if (p.has(k)) f[k] = p.get(k);
  return f;
}

function searchFromFilters(f) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v && !(k === 'sort' && v === 'newest')) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

function msToNs(text) {
  const v = parseFloat(text);
  return Number.isFinite(v) && v >= 0 ? String(Math.round(v * 1e6)) : null;
}

function localTimeToNs(text) {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? (BigInt(ms) * 1000000n).toString() : null;
}

// The API query (docs/view.md) for the page's filters.
export function apiQuery(f) {
  const q = new URLSearchParams();
  if (f.service) q.set('service', f.service);
  if (f.name) q.set('name', f.name);
  if (f.error) q.set('error', '1');
  const min = f.min && msToNs(f.min);
  if (min) q.set('minDuration', min);
  const max = f.max && msToNs(f.max);
  if (max) q.set('maxDuration', max);
  const from = f.from && localTimeToNs(f.from);
  if (from) q.set('start', from);
  const to = f.to && localTimeToNs(f.to);
  if (to) q.set('end', to);
  for (const a of (f.attr || '').split(/[,\n]/)) {
    const t = a.trim();
    if (t.includes('=')) q.append('attr', t);
  }
  if (f.sort === 'duration') q.set('sort', 'duration');
  return q;
}

export function TraceList({ search }) {
  const filters = filtersFromSearch(search);
  const [draft, setDraft] = useState(filters);
  const [services, setServices] = useState([]);
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  const [generation, setGeneration] = useState(null);
  const [limit, setLimit] = useState(PAGE);
  const timer = useRef(0);

  // Keep the form in step when the URL changes (back/forward).
  useEffect(() => setDraft(filtersFromSearch(search)), [search]);

  // Live updates: a new generation refetches the list and the services.
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      if (document.hidden) return;
      try {
        const stats = await getJSON('/api/stats');
        if (!stop) setGeneration((g) => (g === stats.generation ? g : stats.generation));
      } catch (e) {
        if (!stop) setError(`otelweb-view does not answer (${e.message}): is it still running?`);
      }
    };
    poll();
    const id = setInterval(poll, 1000);
    return () => {
      stop = true;
      clearInterval(id);
    };
  }, []);

  useEffect(() => {
    if (generation === null) return;
    getJSON('/api/services')
      .then((r) => setServices(r.services || []))
      .catch(() => {});
  }, [generation]);

  const query = apiQuery(filters);
  query.set('limit', String(limit));
  const queryText = query.toString();
  useEffect(() => {
    if (generation === null) return;
    const ctl = new AbortController();
    getJSON(`/api/traces?${queryText}`, ctl.signal)
      .then((r) => {
        setResult(r);
        setError('');
      })
      .catch((e) => {
        if (e.name !== 'AbortError') setError(e.message);
      });
    return () => ctl.abort();
  }, [queryText, generation]);

  const apply = (next, immediate) => {
    setDraft(next);
    clearTimeout(timer.current);
    const go = () => navigate(`/${searchFromFilters(next)}`, { replace: true });
    if (immediate) go();
    else timer.current = setTimeout(go, 300);
  };
  const field = (k, immediate) => (e) =>
    apply({ ...draft, [k]: e.currentTarget.type === 'checkbox' ? (e.currentTarget.checked ? '1' : '') : e.currentTarget.value }, immediate);

  const exportQuery = apiQuery(filters);
  exportQuery.set('limit', '1000');

  return (
    <div class="trace-list">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Service
          <select name="service" value={draft.service} onChange={field('service', true)}>
            <option value="">all</option>
            {services.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Span name / route
          <input name="name" value={draft.name} onInput={field('name')} placeholder="GET /items" />
        </label>
        <label class="check">
          <input type="checkbox" name="error" checked={!!draft.error} onChange={field('error', true)} />
          Errors only
        </label>
        <label>
          Min ms
          <input name="min" class="num" value={draft.min} onInput={field('min')} inputMode="decimal" />
        </label>
        <label>
          Max ms
          <input name="max" class="num" value={draft.max} onInput={field('max')} inputMode="decimal" />
        </label>
        <label>
          From
          <input name="from" type="datetime-local" step="1" value={draft.from} onChange={field('from', true)} />
        </label>
        <label>
          To
          <input name="to" type="datetime-local" step="1" value={draft.to} onChange={field('to', true)} />
        </label>
        <label>
          Attributes
          <input name="attr" value={draft.attr} onInput={field('attr')} placeholder="http.route=/items, k=v" />
        </label>
        <label>
          Sort
          <select name="sort" value={draft.sort} onChange={field('sort', true)}>
            <option value="newest">newest first</option>
            <option value="duration">longest first</option>
          </select>
        </label>
        <button type="button" onClick={() => apply({ ...EMPTY }, true)}>
          Clear
        </button>
        <a class="button" href={`/api/export?${exportQuery}`} download="traces.jsonl" data-testid="export-results">
          Export JSON lines
        </a>
      </form>
      {error && <div class="message error">{error}</div>}
      {result && (
        <div class="summary" data-testid="trace-count">
          {result.traces.length} of {result.total} traces
        </div>
      )}
      <table class="traces">
        <thead>
          <tr>
            <th>Root span</th>
            <th>Services</th>
            <th class="r">Spans</th>
            <th class="r">Duration</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {result &&
            result.traces.map((t) => (
              <tr class={`trace-row${t.errorCount ? ' has-error' : ''}`} data-trace-id={t.traceId} key={t.traceId}>
                <td>
                  {t.errorCount > 0 && (
                    <span class="error-mark" title={`${t.errorCount} span(s) with status ERROR`}>
                      !
                    </span>
                  )}
                  <Link href={`/trace/${t.traceId}`} class="root-name">
                    {t.rootName || '(no root span)'}
                  </Link>
                  <span class="trace-id">{t.traceId.slice(0, 8)}</span>
                </td>
                <td>
                  {t.services.map((s) => (
                    <span class="service-chip" style={{ borderColor: serviceColor(s) }}>
                      <i style={{ background: serviceColor(s) }} />
                      {s}
                    </span>
                  ))}
                </td>
                <td class="r">{t.spanCount}</td>
                <td class="r">{formatDuration(t.durationNano)}</td>
                <td class="time">{formatTime(t.startTimeUnixNano)}</td>
              </tr>
            ))}
        </tbody>
      </table>
      {result && result.traces.length === 0 && (
        <div class="message">No trace matches. Send OTLP to otelweb-view (see docs/view.md) or clear the filters.</div>
      )}
      {result && result.traces.length < result.total && limit < 1000 && (
        <button type="button" class="more" onClick={() => setLimit(Math.min(1000, limit + PAGE))}>
          Show more
        </button>
      )}
    </div>
  );
}
