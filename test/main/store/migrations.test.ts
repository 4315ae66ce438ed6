import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/main/store/migrations/index.js';
import { openDatabase, schemaVersion, Store } from '../../../src/main/store/index.js';
import { tempDir } from '../../helpers.js';

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
