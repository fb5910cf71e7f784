// Shared by the browser tests and the page benchmark: start the server under
// test (otelweb-view, or the API stand-in fixture_server.mjs), launch Debian's
// Chromium through playwright-core, and report skips the way ctest expects.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SKIP = 77;

// Programs started here are stopped when this process ends, however it ends.
const children = new Set();
export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(1));
process.on('unhandledRejection', (e) => {
  console.log(`FAIL: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});

export function option(args, name, dflt = '') {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

// playwright-core is a devDependency of web/view (npm ci there installs it).
export function loadPlaywright(webDir) {
  const require = createRequire(path.join(webDir, 'package.json'));
  try {
    return require('playwright-core');
  } catch (e) {
    console.log(`SKIP: playwright-core is not installed in ${webDir}: run scripts/setup (npm ci in web/view)`);
    process.exit(SKIP);
  }
}

export function chromiumPath() {
  const candidates = [process.env.OTELWEB_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    console.log('SKIP: no Chromium at /usr/bin/chromium: install the Debian package `chromium` (scripts/setup)');
    process.exit(SKIP);
  }
  return found;
}

export async function launchBrowser(playwright) {
  const args = ['--disable-gpu', '--disable-dev-shm-usage'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox'); // Chromium refuses root otherwise
  return playwright.chromium.launch({ executablePath: chromiumPath(), headless: true, args });
}

// Starts `cmd args...`, waits for its first stdout line `ui=http://HOST:PORT ...`
// and returns { url, line, stop() }.
export function startServer(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${cmd} printed no "ui=" line within 10 s`));
    }, 10000);
    const early = (code) => reject(new Error(`${cmd} exited with ${code} before it listened`));
    child.on('exit', early);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const line = out.slice(0, nl);
      const m = /ui=(http:\/\/\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout.resume();
      resolve({
        url: m[1],
        line,
        child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.on('exit', done);
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export function startFixture(uiDir, bigSpans) {
  return startServer(process.execPath, [
    path.join(HERE, 'fixture_server.mjs'), '--port', '0', '--ui-dir', uiDir, '--big-spans', String(bigSpans),
  ]);
}

export async function api(base, p) {
  const r = await fetch(base + p);
  if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

// The id of the newest stored trace whose root span is named `name`.
export async function traceNamed(base, name) {
  const r = await api(base, `/api/traces?name=${encodeURIComponent(name)}&limit=1000`);
  const t = r.traces.find((x) => x.rootName === name);
  if (!t) throw new Error(`no trace with root span "${name}" among ${r.total}`);
  return t;
}
