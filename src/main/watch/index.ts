/**
 * Watch stage. Input: an import folder. Output: each file's path, once, when it has stopped
 * growing — a copy in progress is never read half-written (chokidar's awaitWriteFinish polls the
 * size until it is stable for `stableMs`). Files already in the folder at start are reported
 * too. A file that changes later (same path, new content) is reported again; the ingest tells new
 * content from old by its hash.
 *
 * Also `listFiles`, the one-pass walk an explicit `import` uses.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface WatchOptions {
  /** How long a file's size must stay unchanged before it is taken (ms). */
  stableMs?: number;
  /** Polling also works on network shares, where inotify events do not arrive. */
  usePolling?: boolean;
  onError?: (err: Error) => void;
}

/** Names that are never slices: hidden files and the temp files of copy tools. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('.part') || name.endsWith('~');
}

export function watchFolder(folder: string, onFile: (path: string) => void, opts: WatchOptions = {}): FSWatcher {
  const stableMs = opts.stableMs ?? 2000;
  const watcher = watch(folder, {
    ignoreInitial: false,
    persistent: true,
    ignored: (path: string) => isIgnoredName(path.split(/[\\/]/).pop() ?? ''),
    awaitWriteFinish: { stabilityThreshold: stableMs, pollInterval: Math.min(250, Math.max(50, stableMs / 4)) },
    usePolling: opts.usePolling ?? false,
    interval: 500,
  });
  watcher.on('add', onFile);
  watcher.on('change', onFile);
  watcher.on('error', (err) => opts.onError?.(err instanceof Error ? err : new Error(String(err))));
  return watcher;
}

/** Every regular file under `folder`, recursively, in a stable (sorted) order. */
export async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (isIgnoredName(e.name)) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(full);
    }
  };
  await walk(folder);
  return out;
}
