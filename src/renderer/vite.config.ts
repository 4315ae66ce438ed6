// Builds the renderer into dist/renderer (`npm run build:renderer`, or on demand by the server).
// No React plugin: Vite 8 transforms TSX with Oxc, told here to use the automatic JSX runtime.
// Paths are relative (base './') so the same build loads over http://127.0.0.1 and Electron's
// app:// protocol. Only plain config here: this file is not renderer code and runs under Node.
import { defineConfig } from 'vite';

const root = new URL('.', import.meta.url);
const path = (u: URL) => decodeURIComponent(u.pathname).replace(/^\/([A-Za-z]:)/, '$1');

export default defineConfig({
  root: path(root),
  base: './',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path(new URL('../../dist/renderer/', root)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
    // Fonts and images are inlined only when tiny; CSP allows 'self' and data: for images only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { host: '127.0.0.1' },
});
