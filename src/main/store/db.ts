/**
 * Opening the SQLite database (better-sqlite3, WAL) and bringing a database's schema up to date,
 * on either backend.
 *
 * Migrations run in one transaction each that also records the version (SQLite: `user_version`;
 * PostgreSQL: a row of `schema_migrations`), so a crash mid-migration leaves the previous version
 * intact. A database written by a newer build (a version above what this build knows) is refused
 * rather than guessed at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, sqlFor } from './migrations/index.js';
import { dialectOf, nowIso, type Db, type Dialect, type SqlHandle } from './handle.js';

export type { Db, SqlHandle } from './handle.js';
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

/**
 * Several workstations may open one PostgreSQL database at once: each migrates under this
 * transaction-scoped advisory lock, so one applies a migration and the others then see it applied.
 * The number is the store's own ("triage" in ASCII), unlikely to be another application's.
 */
const MIGRATION_LOCK = 0x747269616765;

export function schemaVersion(db: SqlHandle): number {
  if (dialectOf(db) === 'sqlite') return (db as Db).pragma('user_version', { simple: true }) as number;
  const table = db.prepare("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").get() as { present: boolean };
  if (!table.present) return 0;
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}

function refuseNewer(current: number, latest: number, dialect: Dialect): void {
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this build knows (${latest}); use a newer build or another ${dialect === 'sqlite' ? '--data-dir' : 'database'}`,
    );
  }
}

export function migrate(db: SqlHandle): void {
  const dialect = dialectOf(db);
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (dialect === 'postgres') {
    db.transaction(() => {
      db.prepare('SELECT pg_advisory_xact_lock(@key)').get({ key: MIGRATION_LOCK });
      db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    })();
  }
  const current = schemaVersion(db);
  refuseNewer(current, latest, dialect);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      if (dialect === 'postgres') db.prepare('SELECT pg_advisory_xact_lock(@key)').get({ key: MIGRATION_LOCK });
      // Read again under the lock: another workstation may have applied it meanwhile.
      if (m.version <= schemaVersion(db)) return;
      db.exec(sqlFor(m.up, dialect));
      m.fill?.(db);
      if (m.finish) db.exec(sqlFor(m.finish, dialect));
      if (dialect === 'sqlite') (db as Db).pragma(`user_version = ${m.version}`);
      else db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)').run({ version: m.version, name: m.name, at: nowIso() });
    })();
  }
}

/** SQLite's commit counter for other connections: it changes when another process writes. */
export function dataVersion(db: Db): number {
  return db.pragma('data_version', { simple: true }) as number;
}
