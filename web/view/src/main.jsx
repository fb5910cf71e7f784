import { render } from 'preact';
import { useLocation, Link } from './router.jsx';
import { TraceList } from './TraceList.jsx';
import { TracePage } from './TracePage.jsx';
import { LogsPage } from './LogsPage.jsx';
import { ServiceMap } from './ServiceMap.jsx';
import { MetricsPage } from './MetricsPage.jsx';
import { ComparePage } from './ComparePage.jsx';
import './style.css';

function App() {
  const { path, search } = useLocation();
  const m = /^\/trace\/([0-9a-fA-F]{32})\/?$/.exec(path);
  let page;
  if (m) {
    const span = new URLSearchParams(search).get('span') || '';
    page = <TracePage traceId={m[1].toLowerCase()} spanParam={span.toLowerCase()} />;
  } else if (path === '/compare') {
    page = <ComparePage search={search} />;
  } else if (path === '/metrics') {
    page = <MetricsPage search={search} />;
  } else if (path === '/service-map') {
    page = <ServiceMap search={search} />;
  } else if (path === '/logs') {
    page = <LogsPage search={search} />;
  } else if (path === '/' || path === '/index.html' || path === '/traces') {
    page = <TraceList search={search} />;
  } else {
    page = (
      <div class="message error">
        No page at {path}. Open <Link href="/">the trace list</Link> or a trace as /trace/&lt;32-hex trace id&gt;.
      </div>
    );
  }
  return (
    <div class="app">
      <header class="top">
        <Link href="/" class="brand">otelweb-view</Link>
        <nav>
          <Link href="/">Traces</Link>
          <Link href="/logs">Logs</Link>
          <Link href="/metrics">Metrics</Link>
          <Link href="/service-map">Service map</Link>
        </nav>
      </header>
      <main>{page}</main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
