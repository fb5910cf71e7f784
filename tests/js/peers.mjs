// What the interop scripts share: loading the pinned npm packages
// (tests/js/package.json), installing them first if this checkout has none.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// Calls load(); if it throws (packages missing), runs npm install in
// tests/js (no lock file) and calls it again. A second failure exits 1: the
// test fails rather than skips.
export function loadOrInstall(load) {
  try {
    return load();
  } catch {
    spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund'],
      { cwd: dirname(fileURLToPath(import.meta.url)), stdio: 'inherit', timeout: 180000 });
    try {
      return load();
    } catch (e) {
      console.error(`FAIL: npm packages missing and npm install did not provide them (${e.message}); ` +
                    'run scripts/setup or npm install in tests/js');
      process.exit(1);
    }
  }
}
