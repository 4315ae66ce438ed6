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
 *
 * One rule for both doors (`classifyPath`): a regular file is a candidate; a symbolic link to a
 * regular file inside the folder is followed; a link that loops, dangles, leaves the folder or
 * points to a directory is refused with that reason (directory links are never descended, so no
 * walk can loop); a named pipe, socket or device is refused without ever being opened (opening a
 * FIFO for reading blocks until someone writes — one FIFO would stop all ingestion).
 */
import { realpathSync, statSync } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, isAbsolute, resolve, sep } from 'node:path';
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
      this.waiting.delete(path);
      // Gone before it settled: nothing to read. Still there (a looping or dangling link):
      // hand it on at once so that classifyPath says why it is refused.
      if (await lstat(path).then(() => true, () => false)) this.onStable(path);
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

export type Candidate =
  | { kind: 'file'; path: string }
  | { kind: 'directory'; path: string }
  | { kind: 'refused'; path: string; reason: string };

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function specialKind(s: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** What the folder rule makes of one path under `root` (see the module comment). Never opens it. */
export async function classifyPath(root: string, path: string): Promise<Candidate> {
  let l;
  try {
    l = await lstat(path);
  } catch (err) {
    return { kind: 'refused', path, reason: `cannot be examined: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  if (l.isFile()) return { kind: 'file', path };
  if (l.isDirectory()) return { kind: 'directory', path };
  if (!l.isSymbolicLink()) return { kind: 'refused', path, reason: `${specialKind(l)}: not a regular file, skipped without opening it` };
  let target: string;
  try {
    target = await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { kind: 'refused', path, reason: 'symbolic link loop: not followed' };
    if (code === 'ENOENT') return { kind: 'refused', path, reason: 'symbolic link to a missing file (dangling)' };
    return { kind: 'refused', path, reason: `symbolic link cannot be resolved: ${code ?? String(err)}` };
  }
  const t = await stat(target);
  if (t.isDirectory()) return { kind: 'refused', path, reason: 'symbolic link to a directory: not followed (links to files are)' };
  const realRoot = await realpath(root).catch(() => root);
  if (!inside(realRoot, target)) return { kind: 'refused', path, reason: `symbolic link to ${target}, outside the folder: not followed` };
  if (!t.isFile()) return { kind: 'refused', path, reason: `symbolic link to ${specialKind(t)}: not a regular file, skipped without opening it` };
  return { kind: 'file', path };
}

export function watchFolder(
  folder: string,
  onFile: (path: string) => void,
  opts: WatchOptions & { onRefused?: (path: string, reason: string) => void } = {},
): FolderWatcher {
  const gate = new StabilityGate(opts.stableMs ?? DEFAULT_STABLE_MS, (path) => {
    void classifyPath(folder, path).then((c) => {
      if (c.kind === 'file') onFile(c.path);
      else if (c.kind === 'refused') opts.onRefused?.(c.path, c.reason);
    });
  });
  const watcher: FSWatcher = watch(folder, {
    ignoreInitial: false,
    persistent: true,
    // Links are classified by our rule (classifyPath); chokidar following them walked loops 40 deep.
    followSymlinks: false,
    ignored: (path: string) => isIgnoredName(path.split(/[\\/]/).pop() ?? ''),
    usePolling: opts.usePolling ?? false,
    interval: 500,
  });
  const touch = (path: string) => gate.touch(path);
  watcher.on('add', touch);
  watcher.on('change', touch);
  watcher.on('error', (err) => opts.onError?.(err instanceof Error ? err : new Error(String(err))));
  // chokidar does not report a link that loops; one walk by the folder rule after its first scan does.
  const ready = new Promise<void>((resolveReady) =>
    watcher.once('ready', () => {
      void listFiles(folder)
        .then(({ refused }) => refused.forEach((r) => opts.onRefused?.(r.path, r.reason)))
        .catch((err: unknown) => opts.onError?.(err instanceof Error ? err : new Error(String(err))))
        .finally(resolveReady);
    }),
  );
  return {
    ready,
    close: async () => {
      gate.close();
      await watcher.close();
    },
  };
}

/**
 * Every candidate file under `folder`, recursively, in a stable (sorted) order, and every entry
 * the folder rule refuses with its reason (classifyPath).
 */
export async function listFiles(folder: string): Promise<{ files: string[]; refused: { path: string; reason: string }[] }> {
  const files: string[] = [];
  const refused: { path: string; reason: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (isIgnoredName(e.name)) continue;
      const c = await classifyPath(folder, join(dir, e.name));
      if (c.kind === 'directory') await walk(c.path);
      else if (c.kind === 'file') files.push(c.path);
      else refused.push({ path: c.path, reason: c.reason });
    }
  };
  await walk(folder);
  return { files, refused };
}

/** Folders whose files are the operating system's or the programs', never a scanner's export. */
const SYSTEM_FOLDERS =
  process.platform === 'win32'
    ? ['C:\\Windows', 'C:\\Program Files', 'C:\\Program Files (x86)', 'C:\\ProgramData']
    : ['/etc', '/proc', '/sys', '/dev', '/boot', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/usr', '/root', '/snap'];

/**
 * Checks a folder a user asks to watch: it exists, is a directory (links resolved, so `../..` and
 * symlinks cannot hide where it is), is not the file system root, a system folder or inside one,
 * and is not inside the data folder. Returns the real path, or throws with the reason.
 */
export function validateImportFolder(folder: string, dataDir: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(folder));
  } catch {
    throw new Error(`import folder ${folder} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new Error(`import folder ${real} is not a directory`);
  const within = (root: string) => real.toLowerCase() === root.toLowerCase() || real.toLowerCase().startsWith(`${root.toLowerCase()}${sep}`);
  if (resolve(real, '..') === real) throw new Error(`import folder ${real} is the root of a file system`);
  const system = SYSTEM_FOLDERS.find(within);
  if (system) throw new Error(`import folder ${real} is a system folder (${system}): choose the folder the scanner or PACS exports to`);
  let data = resolve(dataDir);
  try {
    data = realpathSync(data);
  } catch {
    // not created yet
  }
  if (within(data)) throw new Error(`import folder ${real} is inside the data folder ${data}`);
  return real;
}
