// The logs page (issue 16): stored log records, newest first, filtered by
// service, lowest severity, text (body and attributes) and trace; each record
// with a trace links to its span. Filters live in the URL (/logs?service=...).
import { useEffect, useState } from 'preact/hooks';
import { getJSON, formatTime, formatValue, serviceColor } from './api.js';
import { Link, navigate } from './router.jsx';
import { severityName, severityClass, bodyText } from './logs.js';
import './signals.css';

const KEYS = ['service', 'severity', 'text', 'traceId'];

export function LogsPage({ search }) {
  const params = new URLSearchParams(search);
  const f = Object.fromEntries(KEYS.map((k) => [k, params.get(k) || '']));
  const [services, setServices] = useState([]);
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  const [text, setText] = useState(f.text);
  const [traceText, setTraceText] = useState(f.traceId);

  useEffect(() => {
    getJSON('/api/services').then((r) => setServices(r.services)).catch(() => {});
  }, []);
  useEffect(() => {
    const ctl = new AbortController();
    const q = new URLSearchParams();
    for (const k of KEYS) if (f[k]) q.set(k, f[k]);
    q.set('limit', '500');
    setError('');
    getJSON(`/api/logs?${q}`, ctl.signal)
      .then((r) => setResult(r))
      .catch((e) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [search]);

  const set = (k, v) => {
    const p = new URLSearchParams(search);
    if (v) p.set(k, v);
    else p.delete(k);
    const s = p.toString();
    navigate(`/logs${s ? `?${s}` : ''}`, { replace: true });
  };

  return (
    <div class="page logs-page">
      <div class="filters">
        <label>
          Service
          <select name="service" value={f.service} onChange={(e) => set('service', e.currentTarget.value)}>
            <option value="">all</option>
            {services.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Severity at least
          <select name="severity" value={f.severity} onChange={(e) => set('severity', e.currentTarget.value)}>
            {['', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].map((s) => (
              <option value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Text
          <input name="text" value={text} onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => e.key === 'Enter' && set('text', text)} onBlur={() => set('text', text)} placeholder="body or attribute" />
        </label>
        <label>
          Trace id
          <input name="traceId" class="mono" size="34" value={traceText} onInput={(e) => setTraceText(e.currentTarget.value)}
            onKeyDown={(e) => e.key === 'Enter' && set('traceId', traceText.trim())} onBlur={() => set('traceId', traceText.trim())} />
        </label>
        <button onClick={() => { setText(''); setTraceText(''); navigate('/logs', { replace: true }); }}>Clear</button>
      </div>
      {error && <div class="message error">{error}</div>}
      {result && (
        <div class="summary" data-testid="log-count">
          {result.logs.length}
          {result.more ? '+' : ''} records
        </div>
      )}
      {result && (
        <table class="logs">
          <thead>
            <tr><th>Time</th><th>Service</th><th>Severity</th><th>Body</th><th>Attributes</th><th>Span</th></tr>
          </thead>
          <tbody>
            {result.logs.map((l) => (
              <tr class={`log-row ${severityClass(l)}`} data-trace-id={l.traceId} data-span-id={l.spanId}>
                <td class="time">{formatTime(l.timeUnixNano)}</td>
                <td>
                  <span class="service-chip" style={{ borderColor: serviceColor(l.service) }}>
                    <i style={{ background: serviceColor(l.service) }} />
                    {l.service}
                  </span>
                </td>
                <td><span class="sev">{severityName(l)}</span></td>
                <td class="log-body-cell">{bodyText(l.body)}</td>
                <td>
                  {Object.entries(l.attributes || {}).map(([k, v]) => (
                    <div class="log-attr">{k}={formatValue(v)}</div>
                  ))}
                </td>
                <td>
                  {l.traceId ? (
                    <Link class="mono span-link" href={`/trace/${l.traceId}${l.spanId ? `?span=${l.spanId}` : ''}`}>
                      {l.spanId || l.traceId.slice(0, 16)}
                    </Link>
                  ) : (
                    ''
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
