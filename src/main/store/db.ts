/**
 * Opening the SQLite database (better-sqlite3, WAL) and bringing its schema up to date.
 *
 * Migrations run in one transaction each that also sets `user_version`, so a crash mid-migration
 * leaves the previous version intact. A database written by a newer build (user_version above
 * what this build knows) is refused rather than guessed at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations/index.js';
import type { Db } from './handle.js';

export type { Db } from './handle.js';
export { nowIso } from './handle.js';

export const DATABASE_FILE = 'triage.sqlite';

export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DATABASE_FILE));
  db.pragma('journal_mode = WAL');
  // FULL makes each committed transaction durable across power loss, which is what
  // "no slice lost after kill -9" needs; the cost is one fsync per transaction.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db): void {
  const current = schemaVersion(db);
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this build knows (${latest}); use a newer build or another --data-dir`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.up);
      m.fill?.(db);
      if (m.finish) db.exec(m.finish);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

