// Bundles the preload script to one CommonJS file (dist/preload/index.cjs): a sandboxed preload
// may require only 'electron' and cannot load ES modules or local files.
// (.mts so the Node tsconfig, which emits src/preload/**/*.ts, leaves this build file alone.)
import { defineConfig } from 'vite';

const here = new URL('.', import.meta.url);
const path = (u: URL) => decodeURIComponent(u.pathname).replace(/^\/([A-Za-z]:)/, '$1');

export default defineConfig({
  root: path(here),
  publicDir: false,
  build: {
    outDir: path(new URL('../../dist/preload/', here)),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    lib: { entry: path(new URL('./index.ts', here)), formats: ['cjs'], fileName: () => 'index.cjs' },
    rolldownOptions: { external: ['electron'] },
  },
});
