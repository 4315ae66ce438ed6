/**
 * Files held for a database that could not be reached: slices the DICOM receiver answered success
 * for (their bytes durable in its spool) before the database recorded them.
 *
 * Input: `hold(path)` when such a file is kept, `release(path)` once the ingest has taken it.
 * Output: `held()`, the files still waiting, read from disk, so that a workstation stopped (or
 * killed) during an outage reads them again at its next start: a sender told success deleted its
 * copy (PS3.4 B.2.3), and nothing else would ever name the file again.
 *
 * One small file per held file in `dir`, named by a hash of the path and holding the path, made
 * durable (temp name, fsync, rename, fsync of the folder) before `hold` returns, as the spool makes
 * the slice itself durable before the sender hears success.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const SUFFIX = '.held';

export class HeldFiles {
  /** The held paths, as on disk; kept in memory so that `release` of a file never held costs nothing. */
  private readonly paths = new Set<string>();

  constructor(private readonly dir: string) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names) {
      if (!name.endsWith(SUFFIX)) continue;
      try {
        this.paths.add(readFileSync(join(dir, name), 'utf8'));
      } catch {
        // Removed meanwhile: its file was taken.
      }
    }
  }

  /** The files still held, in no particular order (each is read on its own). */
  held(): string[] {
    return [...this.paths];
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  /** Records `path` as held, durably; throws if it cannot (the caller must not answer success then). */
  hold(path: string): void {
    if (this.paths.has(path)) return;
    mkdirSync(this.dir, { recursive: true });
    const target = this.entryOf(path);
    const temp = `${target}.part`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, path);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    fsyncFolder(this.dir);
    this.paths.add(path);
  }

  /** The ingest took `path` (stored, known already or refused): it is no longer held. */
  release(path: string): void {
    if (!this.paths.delete(path)) return;
    try {
      unlinkSync(this.entryOf(path));
    } catch {
      // Already gone: nothing is held.
    }
  }

  private entryOf(path: string): string {
    return join(this.dir, `${createHash('sha256').update(path).digest('hex').slice(0, 32)}${SUFFIX}`);
  }
}

/** A rename is durable only once its folder's entry is on disk (POSIX); Windows has no folder fsync. */
function fsyncFolder(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
