/**
 * The built renderer (dist/renderer) that the loopback server and the Electron shell load. When
 * it is missing, or older than its sources in a source checkout, it is built on demand with
 * Vite's JS API — so `triage serve` and `npm test` work on a fresh clone with no separate step.
 * Vite is a development dependency: a packaged app ships a prebuilt renderer and never gets here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (src/main/server → ../../..). */
export const REPO_ROOT = resolve(here, '..', '..', '..');
export const RENDERER_SRC = join(REPO_ROOT, 'src', 'renderer');
export const RENDERER_DIST = join(REPO_ROOT, 'dist', 'renderer');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist is missing or a renderer/shared source file changed after it was built. */
export function rendererIsStale(outDir: string = RENDERER_DIST): boolean {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return true;
  if (!existsSync(RENDERER_SRC)) return false; // packaged: no sources to compare with
  const built = statSync(index).mtimeMs;
  return Math.max(newestMtime(RENDERER_SRC), newestMtime(join(REPO_ROOT, 'src', 'shared'))) > built;
}

const building = new Map<string, Promise<string>>();

/** Builds the renderer into `outDir` if it is missing or stale; resolves to the folder. */
export async function ensureRendererBuilt(
  outDir: string = RENDERER_DIST,
  log: (m: string) => void = () => {},
): Promise<string> {
  if (!rendererIsStale(outDir)) return outDir;
  if (!existsSync(RENDERER_SRC)) {
    throw new Error(`the renderer is not built (${outDir} missing); run \`npm run build:renderer\``);
  }
  const key = resolve(outDir);
  const running = building.get(key);
  if (running) return running;
  const job = (async () => {
    log(`building the renderer into ${outDir} …`);
    let vite: typeof import('vite');
    try {
      vite = await import('vite');
    } catch {
      throw new Error('the renderer is not built and Vite is not installed; run `npm ci && npm run build:renderer`');
    }
    await vite.build({
      configFile: join(RENDERER_SRC, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    return outDir;
  })().finally(() => building.delete(key));
  building.set(key, job);
  return job;
}
