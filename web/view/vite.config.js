// Vite configuration of the otelweb-view page. `npm run build` writes a fully
// bundled page to dist/ (or to OTELWEB_VIEW_UI_OUT, used by the CMake step);
// `npm run dev` serves it with hot reload and forwards /api to a running
// otelweb-view (OTELWEB_VIEW_API, default http://127.0.0.1:16686).
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.OTELWEB_VIEW_UI_OUT || 'dist',
    emptyOutDir: true,
    // Everything is bundled; nothing is loaded from the network at run time.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: process.env.OTELWEB_VIEW_API || 'http://127.0.0.1:16686' } },
  },
});
