// The trace page: a virtualized waterfall (only the rows in view are in the
// DOM), a collapsible span tree, search within the trace, next/previous
// error, span details and deep links /trace/<id>?span=<id>.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJSON, takePrefetchedTrace, formatDuration, formatTime, formatValue, serviceColor } from './api.js';
import { Link, navigate } from './router.jsx';
import { buildModel, visibleRows, searchSpans, reveal } from './model.js';
import { logsBySpan, withLogRows } from './logs.js';
import { LogRow, SpanLogs } from './LogRow.jsx';
import { criticalPath } from './critical.js';

const ROW = 24; // px, every waterfall row
const OVERSCAN = 10;

export function TracePage({ traceId, spanParam }) {
  const [model, setModel] = useState(null);
  const [error, setError] = useState('');
  const [collapsed, setCollapsed] = useState(() => new Set());
  const [query, setQuery] = useState('');
  const [matchPos, setMatchPos] = useState(-1);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(600);
  const scroller = useRef(null);
  const pendingScroll = useRef(null);
  // Issue 16: the trace's log records under their spans, and the critical path.
  const [logs, setLogs] = useState(null);
  const [showLogs, setShowLogs] = useState(true);
  const [showCritical, setShowCritical] = useState(true);
  useEffect(() => {
    const ctl = new AbortController();
    setLogs(null);
    getJSON(`/api/traces/${traceId}/logs`, ctl.signal)
      .then((r) => !ctl.signal.aborted && setLogs(r.logs || []))
      .catch(() => !ctl.signal.aborted && setLogs([]));
    return () => ctl.abort();
  }, [traceId]);

  useEffect(() => {
    const ctl = new AbortController();
    setModel(null);
    setError('');
    setCollapsed(new Set());
    setQuery('');
    (takePrefetchedTrace(traceId) || getJSON(`/api/traces/${traceId}`, ctl.signal))
      .then((t) => {
        if (ctl.signal.aborted) return;
        performance.mark('otelweb-view:trace-fetched');
        setModel(buildModel(t));
      })
      .catch((e) => {
        if (e.name === 'AbortError') return;
        setError(
          e.status === 404
            ? `Trace ${traceId} is not stored: it may not have arrived yet, or was pruned (see --db and the size cap in docs/view.md).`
            : `Could not load trace ${traceId}: ${e.message}`,
        );
      });
    return () => ctl.abort();
  }, [traceId]);

  const rows = useMemo(() => (model ? visibleRows(model, collapsed) : []), [model, collapsed]);
  const logIndex = useMemo(() => (model && logs ? logsBySpan(model, logs) : null), [model, logs]);
  // The critical path is computed once the first rows are painted and the
  // page is idle (about 100 ms of still-cold code for 10 000 spans): its
  // marks appear a moment later instead of delaying the waterfall.
  const [critical, setCritical] = useState(null);
  useEffect(() => {
    setCritical(null);
    if (!model) return;
    const run = () => setCritical(criticalPath(model));
    if (window.requestIdleCallback) {
      const id = window.requestIdleCallback(run, { timeout: 500 });
      return () => window.cancelIdleCallback(id);
    }
    const timer = setTimeout(run, 50);
    return () => clearTimeout(timer);
  }, [model]);
  const display = useMemo(
    () => (showLogs && logIndex ? withLogRows(rows, model, logIndex.by) : rows),
    [rows, logIndex, showLogs],
  );
  const rowIndex = useMemo(() => {
    const m = new Map();
    display.forEach((i, k) => typeof i === 'number' && m.set(i, k));
    return m;
  }, [display]);
  const matches = useMemo(() => (model ? searchSpans(model, query) : []), [model, query]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const selected = model && spanParam ? model.byId.get(spanParam) : undefined;

  // The selected span (deep link, click, search, error jump) is shown: its
  // ancestors are expanded and the waterfall scrolls to it when out of view.
  useEffect(() => {
    if (!model || selected === undefined) return;
    const next = reveal(model, collapsed, selected);
    pendingScroll.current = selected;
    if (next !== collapsed) setCollapsed(next); // scrolls after the rows change
    else scrollToPending();
  }, [model, selected]);

  // Scrolls the waterfall so that the pending span's row is in view.
  const scrollToPending = () => {
    const i = pendingScroll.current;
    const el = scroller.current;
    if (i === null || !el) return;
    const k = rowIndex.get(i);
    if (k === undefined) return;
    pendingScroll.current = null;
    const top = k * ROW;
    if (top < el.scrollTop || top + ROW > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
      setScrollTop(el.scrollTop);
    }
  };
  useLayoutEffect(scrollToPending, [rowIndex]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setViewHeight(el.clientHeight || 600);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [model !== null]);

  useEffect(() => {
    if (!model) return;
    performance.mark('otelweb-view:trace-rendered');
    document.documentElement.dataset.traceReady = traceId;
    return () => delete document.documentElement.dataset.traceReady;
  }, [model]);

  if (error) return <div class="message error" data-testid="trace-error">{error}</div>;
  if (!model) return <div class="message">Loading trace {traceId}…</div>;

  const select = (i) => navigate(`/trace/${traceId}?span=${model.spans[i].spanId}`, { replace: true });
  const toggle = (i) => {
    const id = model.spans[i].spanId;
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setCollapsed(next);
  };
  const goMatch = (delta) => {
    if (!matches.length) return;
    const p = (matchPos + delta + matches.length) % matches.length;
    setMatchPos(p);
    select(matches[p]);
  };
  const goError = (delta) => {
    const errs = model.errors;
    if (!errs.length) return;
    const here = selected === undefined ? (delta > 0 ? -1 : model.order.length) : model.pos[selected];
    let target;
    if (delta > 0) target = errs.find((i) => model.pos[i] > here) ?? errs[0];
    else target = [...errs].reverse().find((i) => model.pos[i] < here) ?? errs[errs.length - 1];
    select(target);
  };
  const collapseAll = () => setCollapsed(new Set(model.order.filter((i) => model.size[i] > 1).map((i) => model.spans[i].spanId)));

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(display.length, Math.ceil((scrollTop + viewHeight) / ROW) + OVERSCAN);
  const root = model.spans[model.order[0]];
  const currentMatch = matchPos >= 0 && matchPos < matches.length ? matches[matchPos] : -1;

  const rowEls = [];
  for (let k = first; k < last; k++) {
    const i = display[k];
    if (typeof i !== 'number') {
      rowEls.push(<LogRow row={i} model={model} top={k * ROW} key={`log-${k}`} onSelect={() => select(i.span)} />);
      continue;
    }
    const s = model.spans[i];
    const onPath = showCritical && critical && critical.on[i] === 1;
    const hasChildren = model.size[i] > 1;
    const isCollapsed = collapsed.has(s.spanId);
    const isError = s.status && s.status.code === 'ERROR';
    const color = serviceColor(s.service);
    const left = (model.offset[i] / model.total) * 100;
    const width = Math.max(0.15, (Number(s.durationNano) / model.total) * 100);
    const cls =
      'wf-row' +
      (i === selected ? ' selected' : '') +
      (matchSet.has(i) ? ' match' : '') +
      (i === currentMatch ? ' current' : '') +
      (isError ? ' error' : '') +
      (onPath ? ' critical' : '');
    rowEls.push(
      <div
        class={cls}
        style={{ top: `${k * ROW}px` }}
        key={s.spanId}
        data-span-id={s.spanId}
        data-depth={model.depth[i]}
        onClick={() => select(i)}
      >
        <div class="wf-name" style={{ paddingLeft: `${model.depth[i] * 14 + 4}px` }}>
          {hasChildren ? (
            <button
              class="toggle"
              aria-expanded={!isCollapsed}
              title={isCollapsed ? 'Expand' : 'Collapse'}
              onClick={(e) => {
                e.stopPropagation();
                toggle(i);
              }}
            >
              {isCollapsed ? '▸' : '▾'}
            </button>
          ) : (
            <span class="toggle-space" />
          )}
          <i class="swatch" style={{ background: color }} />
          <span class="svc">{s.service}</span>
          <span class="span-name">{s.name}</span>
          {isCollapsed && <span class="hidden-count">+{model.size[i] - 1}</span>}
          {isError && <span class="error-mark" title={s.status.message || 'status ERROR'}>!</span>}
          {onPath && <span class="crit-mark" title="on the critical path">◆</span>}
        </div>
        <div class="wf-time">
          <div class="bar" style={{ left: `${left}%`, width: `${width}%`, background: color }} />
          {onPath &&
            (critical.segments.get(i) || []).map(([a, b]) => (
              <i class="crit" style={{ left: `${(a / model.total) * 100}%`, width: `${Math.max(0.1, ((b - a) / model.total) * 100)}%` }} />
            ))}
          <span
            class={left + width > 80 ? 'bar-label inside' : 'bar-label'}
            style={left + width > 80 ? { right: `${Math.max(0, 100 - left - width)}%` } : { left: `${left + width}%` }}
          >
            {formatDuration(s.durationNano)} <span class="kind">{s.kind}</span>
          </span>
        </div>
      </div>,
    );
  }

  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="trace-page">
      <div class="trace-head">
        <h1>
          <span data-testid="trace-title">{root ? root.name : traceId}</span>
          <span class="trace-id">{traceId}</span>
        </h1>
        <div class="facts">
          <span>{formatTime(model.t0.toString())}</span>
          <span>{formatDuration(model.total)}</span>
          <span data-testid="span-count">{model.spans.length} spans</span>
          <span class={model.errors.length ? 'err' : ''}>{model.errors.length} errors</span>
          {model.services.map((s) => (
            <span class="service-chip" style={{ borderColor: serviceColor(s) }}>
              <i style={{ background: serviceColor(s) }} />
              {s}
            </span>
          ))}
          <a class="button" href={`/api/traces/${traceId}/otlp`} download={`${traceId}.json`} data-testid="export-trace">
            Export OTLP JSON
          </a>
        </div>
        <div class="tools">
          <input
            type="search"
            placeholder="Search spans (name, service, attribute, id)"
            data-testid="trace-search"
            value={query}
            onInput={(e) => {
              setQuery(e.currentTarget.value);
              setMatchPos(-1);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') goMatch(e.shiftKey ? -1 : 1);
            }}
          />
          <span class="match-count" data-testid="match-count">
            {query.trim() ? `${matchPos >= 0 ? matchPos + 1 : 0} of ${matches.length}` : ''}
          </span>
          <button onClick={() => goMatch(-1)} disabled={!matches.length} title="Previous match (Shift+Enter)">
            ↑
          </button>
          <button onClick={() => goMatch(1)} disabled={!matches.length} title="Next match (Enter)">
            ↓
          </button>
          <button onClick={() => goError(-1)} disabled={!model.errors.length} data-testid="prev-error">
            Previous error
          </button>
          <button onClick={() => goError(1)} disabled={!model.errors.length} data-testid="next-error">
            Next error
          </button>
          <label class="check" title="Each span's log records under it">
            <input type="checkbox" checked={showLogs} onChange={(e) => setShowLogs(e.currentTarget.checked)} data-testid="show-logs" />
            Logs ({logs ? logs.length : '…'})
          </label>
          <label class="check" title="The chain of spans that determined the trace's duration">
            <input type="checkbox" checked={showCritical} onChange={(e) => setShowCritical(e.currentTarget.checked)} data-testid="show-critical" />
            Critical path
          </label>
          <Link class="button" href={`/logs?traceId=${traceId}`}>Logs page</Link>
          <Link class="button" href={`/compare?a=${traceId}`} data-testid="compare-trace">Compare…</Link>
          <button onClick={() => setCollapsed(new Set())}>Expand all</button>
          <button onClick={collapseAll}>Collapse all</button>
        </div>
      </div>
      <div class="trace-body">
        <div class="waterfall">
          <div class="wf-header">
            <div class="wf-name">Service · span ({rows.length} rows shown)</div>
            <div class="wf-time">
              {ticks.map((t) => (
                <span class="tick" style={{ left: `${t * 100}%` }}>
                  {formatDuration(Math.round(model.total * t))}
                </span>
              ))}
            </div>
          </div>
          <div class="wf-scroll" ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} data-testid="waterfall">
            <div class="wf-inner" style={{ height: `${display.length * ROW}px` }}>
              {rowEls}
            </div>
          </div>
        </div>
        {selected !== undefined && (
          <SpanDetails span={model.spans[selected]} model={model} traceId={traceId} logs={logIndex && logIndex.by.get(selected)} onClose={() => navigate(`/trace/${traceId}`, { replace: true })} />
        )}
      </div>
    </div>
  );
}

function Attributes({ attrs, testid }) {
  const entries = Object.entries(attrs || {});
  if (!entries.length) return <div class="none">none</div>;
  return (
    <table class="attrs" data-testid={testid}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr>
            <th>{k}</th>
            <td>{formatValue(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SpanDetails({ span: s, model, traceId, logs, onClose }) {
  const start = BigInt(s.startTimeUnixNano);
  const parentIndex = s.parentSpanId ? model.byId.get(s.parentSpanId) : undefined;
  return (
    <aside class="details" data-testid="span-details" data-span-id={s.spanId}>
      <div class="details-head">
        <h2>{s.name}</h2>
        <button onClick={onClose} title="Close">
          ×
        </button>
      </div>
      <table class="attrs">
        <tbody>
          <tr><th>Service</th><td>{s.service}</td></tr>
          <tr><th>Kind</th><td>{s.kind}</td></tr>
          <tr>
            <th>Status</th>
            <td class={s.status && s.status.code === 'ERROR' ? 'err' : ''} data-testid="span-status">
              {s.status ? s.status.code : 'UNSET'}
              {s.status && s.status.message ? `: ${s.status.message}` : ''}
            </td>
          </tr>
          <tr><th>Duration</th><td>{formatDuration(s.durationNano)}</td></tr>
          <tr><th>Start</th><td>{formatTime(s.startTimeUnixNano)} (+{formatDuration(Number(start - model.t0))})</td></tr>
          <tr><th>Span id</th><td class="mono">{s.spanId}</td></tr>
          <tr>
            <th>Parent</th>
            <td class="mono">
              {!s.parentSpanId ? 'none (root)' : parentIndex !== undefined ? (
                <Link href={`/trace/${traceId}?span=${s.parentSpanId}`}>{s.parentSpanId}</Link>
              ) : (
                `${s.parentSpanId} (not in this trace)`
              )}
            </td>
          </tr>
          {s.traceState && <tr><th>Trace state</th><td class="mono">{s.traceState}</td></tr>}
        </tbody>
      </table>
      <h3>Attributes</h3>
      <Attributes attrs={s.attributes} testid="span-attributes" />
      {s.droppedAttributesCount > 0 && <div class="dropped">{s.droppedAttributesCount} attributes dropped</div>}
      <h3>Events ({(s.events || []).length})</h3>
      {(s.events || []).map((e) => (
        <div class="event">
          <div class="event-head">
            <b>{e.name}</b> at +{formatDuration(Number(BigInt(e.timeUnixNano || s.startTimeUnixNano) - start))}
          </div>
          <Attributes attrs={e.attributes} />
        </div>
      ))}
      {s.droppedEventsCount > 0 && <div class="dropped">{s.droppedEventsCount} events dropped</div>}
      <h3>Logs ({(logs || []).length})</h3>
      <SpanLogs logs={logs} start={start} />
      <h3>Links ({(s.links || []).length})</h3>
      {(s.links || []).map((l) => (
        <div class="link">
          <Link href={`/trace/${l.traceId}?span=${l.spanId}`} class="mono" data-testid="span-link">
            {l.traceId === traceId ? 'this trace' : l.traceId} / {l.spanId}
          </Link>
          <Attributes attrs={l.attributes} />
        </div>
      ))}
      {s.droppedLinksCount > 0 && <div class="dropped">{s.droppedLinksCount} links dropped</div>}
      <h3>Resource</h3>
      <Attributes attrs={s.resource && s.resource.attributes} testid="span-resource" />
      <h3>Scope</h3>
      <div class="mono" data-testid="span-scope">
        {s.scope && s.scope.name ? `${s.scope.name}${s.scope.version ? ` ${s.scope.version}` : ''}` : '(none)'}
      </div>
    </aside>
  );
}
