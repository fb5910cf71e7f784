// One log record as a waterfall row under its span: time offset, severity,
// body, and the attributes on hover/expansion; its mark on the time axis.
import { formatDuration, formatValue } from './api.js';
import { severityName, severityClass, bodyText } from './logs.js';
import './signals.css';

export function LogRow({ row, model, top, onSelect }) {
  const { log, span, depth } = row;
  const s = model.spans[span];
  const at = Number(BigInt(log.timeUnixNano) - model.t0);
  const left = Math.min(100, Math.max(0, (at / model.total) * 100));
  const attrs = Object.entries(log.attributes || {});
  const title = attrs.map(([k, v]) => `${k}=${formatValue(v)}`).join('\n');
  return (
    <div class={`wf-log ${severityClass(log)}`} style={{ top: `${top}px` }} data-span-id={s.spanId} onClick={onSelect} title={title}>
      <div class="wf-name" style={{ paddingLeft: `${depth * 14 + 22}px` }}>
        <span class="sev">{severityName(log)}</span>
        <span class="log-body">{bodyText(log.body)}</span>
        {attrs.length > 0 && (
          <span class="log-attrs">
            {attrs.map(([k, v]) => (
              <span class="log-attr">
                {k}={formatValue(v)}
              </span>
            ))}
          </span>
        )}
      </div>
      <div class="wf-time">
        <i class="log-mark" style={{ left: `${left}%` }} />
        <span class="log-at" style={{ left: `calc(${left}% + 6px)` }}>+{formatDuration(at)}</span>
      </div>
    </div>
  );
}

// The span details' "Logs" section.
export function SpanLogs({ logs, start }) {
  if (!logs || !logs.length) return <div class="none">none</div>;
  return (
    <div data-testid="span-logs">
      {logs.map((log) => (
        <div class={`span-log ${severityClass(log)}`}>
          <span class="sev">{severityName(log)}</span> +{formatDuration(Number(BigInt(log.timeUnixNano) - start))}{' '}
          <span class="log-body">{bodyText(log.body)}</span>
          {Object.entries(log.attributes || {}).map(([k, v]) => (
            <div class="log-attr">
              {k}={formatValue(v)}
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}
