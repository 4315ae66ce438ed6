/**
 * Watch stage. Input: an import folder. Output: each file's path, once, when it has stopped
 * growing — a copy in progress is never read half-written: after every event for a path we wait
 * until its size and mtime have not changed for `stableMs`. (chokidar's own awaitWriteFinish
 * does not cover files found by its initial scan — a copy already under way when the core starts
 * would be read half-written — so the stability gate is ours and covers every event.) Files
 * already in the folder at start are reported too. A file that changes later (same path, new content) is reported again; the ingest tells new
 * content from old by its hash.
 *
 * Also `listFiles`, the one-pass walk an explicit `import` uses.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** How long a file's size and mtime must stay unchanged before it is read. */
export const DEFAULT_STABLE_MS = 2000;

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

/**
 * Calls `onStable(path)` once a path's size and mtime have stayed the same for `stableMs`
 * after its last event. Each new event restarts that path's wait.
 */
export class StabilityGate {
  private readonly waiting = new Map<string, { timer: NodeJS.Timeout; size: number; mtimeMs: number }>();

  constructor(
    private readonly stableMs: number,
    private readonly onStable: (path: string) => void,
  ) {}

  touch(path: string): void {
    void this.check(path, -1, -1);
  }

  private async check(path: string, lastSize: number, lastMtime: number): Promise<void> {
    const pending = this.waiting.get(path);
    if (pending) clearTimeout(pending.timer);
    let size: number;
    let mtimeMs: number;
    try {
      const s = await stat(path);
      size = s.size;
      mtimeMs = s.mtimeMs;
    } catch {
      this.waiting.delete(path); // gone before it settled: nothing to read
      return;
    }
    if (size === lastSize && mtimeMs === lastMtime) {
      this.waiting.delete(path);
      this.onStable(path);
      return;
    }
    const timer = setTimeout(() => void this.check(path, size, mtimeMs), this.stableMs);
    this.waiting.set(path, { timer, size, mtimeMs });
  }

  close(): void {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
  }
}

export interface FolderWatcher {
  close(): Promise<void>;
  /** Resolves once the initial scan is done. */
  ready: Promise<void>;
}

export function watchFolder(folder: string, onFile: (path: string) => void, opts: WatchOptions = {}): FolderWatcher {
  const gate = new StabilityGate(opts.stableMs ?? DEFAULT_STABLE_MS, onFile);
  const watcher: FSWatcher = watch(folder, {
    ignoreInitial: false,
    persistent: true,
    ignored: (path: string) => isIgnoredName(path.split(/[\\/]/).pop() ?? ''),
    usePolling: opts.usePolling ?? false,
    interval: 500,
  });
  const touch = (path: string) => gate.touch(path);
  watcher.on('add', touch);
  watcher.on('change', touch);
  watcher.on('error', (err) => opts.onError?.(err instanceof Error ? err : new Error(String(err))));
  const ready = new Promise<void>((resolveReady) => watcher.once('ready', () => resolveReady()));
  return {
    ready,
    close: async () => {
      gate.close();
      await watcher.close();
    },
  };
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
