/**
 * One writer per data folder. Two processes writing the same SQLite file and slice store (two
 * `serve`s, the desktop app beside `triage watch`) raced: "database is locked" ingest failures, and
 * each requeued the other's running inference job as if it had died. The writer takes
 * `<data folder>/triage.lock` (created exclusively, holding its pid, host and command); a second
 * writer is refused with who holds it. A lock left by a process that is gone (kill -9, power cut)
 * on this host is taken over; one from another host (a shared folder) is never guessed about.
 * Readers (`triage status`, `worklist`, `quarantine`, `audit verify`) take no lock and change nothing.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'triage.lock';

export class DataFolderInUse extends Error {}

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes the data folder's writer lock; returns the function that releases it. */
export function acquireDataLock(dataDir: string, command: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${JSON.stringify(mine)}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          const now = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
          if (now.pid === mine.pid && now.host === mine.host) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held: LockInfo | undefined;
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    } catch {
      held = undefined; // half-written by a writer that died at once: stale
    }
    if (held && held.host !== mine.host) {
      throw new DataFolderInUse(
        `data folder ${dataDir} is in use by process ${held.pid} on ${held.host} (${held.command}, since ${held.since}); ` +
          `if that host is down, remove ${path}`,
      );
    }
    if (held && alive(held.pid)) {
      throw new DataFolderInUse(`data folder ${dataDir} is in use by process ${held.pid} (${held.command}, since ${held.since}); stop it first or use another --data-dir`);
    }
    unlinkSync(path); // stale: its process is gone
  }
  throw new DataFolderInUse(`could not take the lock ${path}`);
}
