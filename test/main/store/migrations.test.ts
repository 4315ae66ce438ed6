import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, sqlFor } from '../../../src/main/store/migrations/index.js';
import { openDatabase, schemaVersion, Store, type SqlHandle } from '../../../src/main/store/index.js';
import type { Dialect } from '../../../src/main/store/handle.js';
import { PostgresHandle } from '../../../src/main/store/postgres.js';
import { tempDir, withDatabase } from '../../helpers.js';
import { backendMissing, freshPostgresDatabase, storeFactory } from '../../fixtures/store.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('schema migrations', () => {
  it('numbers migrations 1..n with no gap', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('creates the tables and sets user_version to the latest migration; opening again is a no-op', () => {
    const db = openDatabase(join(dir.path, 'a'));
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (t) => t.name,
    );
    expect(tables).toEqual(
      expect.arrayContaining(['studies', 'series', 'instances', 'files', 'quarantine', 'conflicts', 'predictions', 'study_scores', 'reviews', 'audit_log', 'jobs', 'settings', 'reviewers']),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openDatabase(join(dir.path, 'a'));
    expect(schemaVersion(again)).toBe(MIGRATIONS.length);
    again.close();
  });

  it('gives jobs a claimant and a lease; a job running before 0009 has none, so any start requeues it (0009)', () => {
    const path = join(dir.path, 'before-0009');
    mkdirSync(path);
    // A database as the build before 0009 left it: migrations 1–8, one job running.
    const db = new Database(join(path, 'triage.sqlite'));
    migrateTo(db, 'sqlite', 8);
    db.prepare("INSERT INTO jobs (kind, key, payload, state, created_at, updated_at) VALUES ('infer-series', 's', '{}', 'running', 'x', 'x')").run();
    db.close();
    const store = Store.open(path);
    expect(withDatabase(path, (d) => d.prepare('SELECT claimed_by, lease_until FROM jobs').get())).toEqual({ claimed_by: null, lease_until: null });
    expect(store.jobs.requeueInterrupted('another-host:/data')).toBe(1);
    store.close();
  });

  it("keeps every setting saved before 0010 where it was, as the default a workstation's own value overrides (0010)", () => {
    const path = join(dir.path, 'before-0010');
    mkdirSync(path);
    const db = new Database(join(path, 'triage.sqlite'));
    migrateTo(db, 'sqlite', 9);
    saveSettingsBefore0010(db);
    db.close();
    keepsSettingsThrough0010(
      (workstation) => Store.open(path, { workstation }),
      (use) => withDatabase(path, use),
    );
  });

  it('refuses a database written by a newer build', () => {
    const path = join(dir.path, 'newer');
    openDatabase(path).close();
    const raw = new Database(join(path, 'triage.sqlite'));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openDatabase(path)).toThrow(/newer than this build/);
  });

  it('keeps the audit log append-only', () => {
    const db = openDatabase(join(dir.path, 'audit'));
    const store = new Store(db);
    store.audit.append('dr.a', 'review', '1.2.3', { decision: 'confirmed' });
    expect(() => db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    db.close();
  });
});

const pgMissing = backendMissing('postgres');

describe.skipIf(pgMissing !== null)(`schema migrations on postgres${pgMissing ? ` (missing: ${pgMissing})` : ''}`, () => {
  const fresh = pgMissing === null ? storeFactory('triage-migrations-pg-', 'postgres') : undefined;

  it('creates the tables and records each migration applied; opening again is a no-op', () => {
    const { reopen, sql } = fresh!();
    const applied = () => sql((db) => db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all());
    expect(applied()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(sql((db) => schemaVersion(db))).toBe(MIGRATIONS.length);
    const tables = sql((db) => db.prepare("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").all() as { tablename: string }[]).map((t) => t.tablename);
    expect(tables).toEqual(
      expect.arrayContaining(['studies', 'series', 'instances', 'files', 'quarantine', 'conflicts', 'predictions', 'study_scores', 'reviews', 'audit_log', 'jobs', 'settings', 'reviewers', 'lesion_maps', 'study_volumes']),
    );
    reopen().close();
    expect(applied()).toHaveLength(MIGRATIONS.length);
  });

  it('gives every table a change notice, so other workstations hear of any write (0008)', () => {
    const { sql } = fresh!();
    const silent = sql((db) =>
      db
        .prepare(
          `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
             AND tablename NOT IN (SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                                   JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'notify_change')`,
        )
        .all(),
    );
    expect(silent).toEqual([]);
  });

  it("keeps every setting saved before 0010 where it was, as the default a workstation's own value overrides (0010)", () => {
    const url = freshPostgresDatabase('triage_before_0010');
    const db = new PostgresHandle(url);
    try {
      migrateTo(db, 'postgres', 9);
      saveSettingsBefore0010(db);
    } finally {
      db.close();
    }
    const opened: Store[] = [];
    const sql = new PostgresHandle(url);
    try {
      keepsSettingsThrough0010(
        (workstation) => {
          const store = Store.connect(url, { workstation });
          opened.push(store);
          return store;
        },
        (use) => use(sql),
      );
    } finally {
      for (const s of opened) s.close();
      sql.close();
    }
  });

  it('keeps probabilities as 8-byte floats, as SQLite does', () => {
    const { sql } = fresh!();
    const types = sql((db) => db.prepare("SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = 'public' AND column_name LIKE 'p\\_%' ESCAPE '\\'").all());
    expect(types).toEqual([{ data_type: 'double precision' }]);
  });

  it('refuses a database written by a newer build', () => {
    const { reopen, sql } = fresh!();
    sql((db) => db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', '2030-01-01')").run());
    expect(() => reopen()).toThrow(/newer than this build/);
  });

  it('keeps the audit log append-only, TRUNCATE included', () => {
    const { store, sql } = fresh!();
    store.audit.append('dr.a', 'review', '1.2.3', { decision: 'confirmed' });
    sql((db) => {
      expect(() => db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      expect(() => db.exec('TRUNCATE audit_log')).toThrow(/append-only/);
    });
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1 });
  });
});

/** A database as a build before `version + 1` left it: migrations 1..version, recorded as applied. */
function migrateTo(db: SqlHandle, dialect: Dialect, version: number): void {
  if (dialect === 'postgres') db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    db.exec(sqlFor(m.up, dialect));
    m.fill?.(db);
    if (m.finish) db.exec(sqlFor(m.finish, dialect));
    if (dialect === 'postgres') db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, 'x')").run({ version: m.version, name: m.name });
  }
  if (dialect === 'sqlite') (db as Database.Database).pragma(`user_version = ${version}`);
}

/** Settings as one PC saved them before 0010: site and workstation keys alike in `settings`. */
function saveSettingsBefore0010(db: SqlHandle): void {
  const save = db.prepare('INSERT INTO settings (key, value) VALUES (@key, @value)');
  save.run({ key: 'importFolder', value: JSON.stringify('/srv/import') });
  save.run({ key: 'flagThresholds', value: JSON.stringify({ any: 0.3 }) });
  save.run({ key: 'modelStates', value: JSON.stringify({ at: '2026-01-01T00:00:00Z', models: [] }) });
}

function keepsSettingsThrough0010(open: (workstation: string) => Store, sql: <T>(use: (db: SqlHandle) => T) => T): void {
  const reading1 = open('reading-1:/data');
  const reading2 = open('reading-2:/data');
  // Every value as it was, for every workstation.
  for (const store of [reading1, reading2]) {
    expect(store.settings.get('importFolder')).toBe('/srv/import');
    expect(store.settings.get('flagThresholds')).toEqual({ any: 0.3 });
    expect(store.settings.get('modelStates')).toEqual({ at: '2026-01-01T00:00:00Z', models: [] });
  }
  // One workstation's new folder is its own; the old value stays the other's default.
  reading1.settings.set('importFolder', '/mnt/scanner-a');
  expect(reading1.settings.get('importFolder')).toBe('/mnt/scanner-a');
  expect(reading2.settings.get('importFolder')).toBe('/srv/import');
  expect(sql((db) => db.prepare('SELECT key, value FROM settings ORDER BY key').all())).toEqual([
    { key: 'flagThresholds', value: '{"any":0.3}' },
    { key: 'importFolder', value: '"/srv/import"' },
    { key: 'modelStates', value: '{"at":"2026-01-01T00:00:00Z","models":[]}' },
  ]);
}
