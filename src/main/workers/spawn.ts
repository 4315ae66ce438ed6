/**
 * Starting worker_threads whose entry is TypeScript. Input: the caller's `import.meta.url` and the
 * worker file's path relative to it, written with `.ts`. Output: a Worker.
 *
 * The same source runs three ways: compiled to dist/ (a `.js` sibling exists: start it plainly),
 * through tsx for the headless CLI, and under vitest (no `.js`: the worker must load the `.ts`
 * itself). Node 20 does not apply `--import tsx` given in a Worker's `execArgv` to the worker's
 * own entry (ERR_UNKNOWN_FILE_EXTENSION, checked on Node 20.20), so a `.ts` entry is started from
 * a two-line bootstrap that registers tsx's ESM hooks in the worker and then imports the entry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker's URL: the compiled `.js` when it exists next to the caller, else the `.ts`. */
export function workerUrl(importMetaUrl: string, relativeTsPath: string): URL {
  const ts = new URL(relativeTsPath, importMetaUrl);
  if (!ts.pathname.endsWith('.ts')) return ts;
  const js = new URL(ts.href.replace(/\.ts$/, '.js'));
  return js.protocol === 'file:' && existsSync(fileURLToPath(js)) ? js : ts;
}

let tsxApiUrl: string | undefined;

/** tsx's ESM register API, found through its package exports (not a path we guess). */
function tsxEsmApi(): string {
  if (tsxApiUrl) return tsxApiUrl;
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } } | string>;
  };
  const entry = pkg.exports?.['./esm/api'];
  const rel = typeof entry === 'object' ? entry.import?.default : undefined;
  if (!rel) throw new Error('tsx does not export ./esm/api; cannot start a TypeScript worker');
  tsxApiUrl = new URL(rel, pathToFileURL(pkgPath)).href;
  return tsxApiUrl;
}

/**
 * Starts `url` as a worker. For a `.ts` entry, `options.eval` must not be set; everything else
 * (workerData, resourceLimits, env, stdout…) is passed through unchanged.
 */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const bootstrap =
    `import(${JSON.stringify(tsxEsmApi())})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
