/**
 * The audit trail as a hostile admin would test it, on each backend: the database refuses changes,
 * back-dated and unlinked inserts, review edits and a review status nobody recorded; with every
 * trigger dropped (whoever holds the database can), `verifyAudit` still finds the first broken
 * link, and on SQLite so does `triage audit verify`. A database of schema 1 is chained when it is
 * opened by this build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { auditHash } from '../../../src/main/store/audit.js';
import { dialectOf } from '../../../src/main/store/handle.js';
import { MIGRATIONS, sqlFor } from '../../../src/main/store/migrations/index.js';
import { Store, type SqlHandle } from '../../../src/main/store/index.js';
import { REPO_ROOT, tempDir } from '../../helpers.js';
import { backendMissing, eachBackend, storeFactory, type FreshStore } from '../../fixtures/store.js';

const dir = tempDir('triage-audit-');
afterAll(() => dir.cleanup());

/** A store with a short history (a refusal, two reviews, a setting) and a connection of the test's own beside it. */
function withHistory(fresh: () => FreshStore): { db: SqlHandle; store: Store; dataDir: string } {
  const { store, connection, dataDir } = fresh();
  const db = connection();
  db.prepare("INSERT INTO studies (study_uid, patient_name, first_arrival_at, last_arrival_at) VALUES ('1.2.3', 'A^B', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')").run();
  store.audit.append('ingest', 'quarantine', '/x.dcm', { reason: 'not DICOM' });
  store.reviews.record({ studyUid: '1.2.3', reviewer: 'Dr A', decision: 'in_review', subtypes: [], comment: '' });
  store.reviews.record({ studyUid: '1.2.3', reviewer: 'Dr A', decision: 'confirmed', subtypes: ['subdural'], comment: 'left SDH' });
  store.audit.append('Dr A', 'settings.thresholds', null, { any: 0.3 });
  return { db, store, dataDir };
}

/** What whoever holds the database can do: drop every trigger. */
function dropTriggers(db: SqlHandle): void {
  if (dialectOf(db) === 'sqlite') {
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) {
      db.exec(`DROP TRIGGER "${name}"`);
    }
    return;
  }
  const triggers = db
    .prepare("SELECT t.tgname AS name, c.relname AS tab FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal")
    .all() as { name: string; tab: string }[];
  for (const { name, tab } of triggers) db.exec(`DROP TRIGGER "${name}" ON "${tab}"`);
}

eachBackend('the audit trail', 'triage-audit-', (fresh) => {
  const freshStore = () => withHistory(fresh);

  it('a normal history verifies, and the study status follows its latest review', () => {
    const { db, store } = freshStore();
    const v = store.audit.verify();
    expect(v).toMatchObject({ ok: true, rows: 4, reviews: 2 });
    expect(db.prepare("SELECT review_status FROM studies WHERE study_uid = '1.2.3'").get()).toEqual({ review_status: 'confirmed' });
  });

  it('the database refuses edits, deletes, unlinked or back-dated rows, review edits and invented statuses', () => {
    const { db } = freshStore();
    expect(() => db.prepare("UPDATE audit_log SET actor = 'Dr Chief'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() =>
      db.prepare("INSERT INTO audit_log (at, actor, action, subject, detail, prev_hash, hash) VALUES ('2020-01-01T00:00:00Z', 'x', 'y', NULL, '{}', 'abc', 'def')").run(),
    ).toThrow(/link to the head/);
    const head = db.prepare('SELECT hash, at FROM audit_log ORDER BY id DESC LIMIT 1').get() as { hash: string; at: string };
    expect(() =>
      db.prepare("INSERT INTO audit_log (at, actor, action, subject, detail, prev_hash, hash) VALUES ('2020-01-01T00:00:00Z', 'x', 'y', NULL, '{}', @prev, 'def')").run({ prev: head.hash }),
    ).toThrow(/not be dated before it/);
    expect(() => db.prepare("UPDATE reviews SET reviewer = 'Dr Chief'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM reviews').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE studies SET review_status = 'dismissed'").run()).toThrow(/derived from the reviews/);
  });

  it.each([
    ['an edited row', (db: SqlHandle) => db.prepare("UPDATE audit_log SET actor = 'Dr Chief' WHERE id = 2").run(), /row 2: .*|content does not match/],
    ['a deleted row', (db: SqlHandle) => db.prepare('DELETE FROM audit_log WHERE id = 2').run(), /row 2 is missing/],
    [
      'a back-dated row with a valid hash',
      (db: SqlHandle) => {
        const h = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string };
        const r = { id: h.id + 1, at: '2020-01-01T00:00:00.000Z', actor: 'Dr Chief', action: 'review.dismissed', subject: '1.2.3', detail: '{}' };
        db.prepare('INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash) VALUES (@id, @at, @actor, @action, @subject, @detail, @prev, @hash)').run(
          { ...r, prev: h.hash, hash: auditHash(h.hash, r) },
        );
      },
      /back-dated/,
    ],
    ['a rewritten review', (db: SqlHandle) => db.prepare("UPDATE reviews SET reviewer = 'Dr Chief' WHERE id = 2").run(), /review 2 does not match/],
    ['an invented study status', (db: SqlHandle) => db.prepare("UPDATE studies SET review_status = 'dismissed'").run(), /shows "dismissed"/],
  ] as const)('with the triggers dropped, verify finds %s', (_what, tamper, problem) => {
    const { db, store } = freshStore();
    dropTriggers(db);
    tamper(db);
    const v = store.audit.verify();
    expect(v.ok).toBe(false);
    expect(`row ${v.firstBreak!.id}: ${v.firstBreak!.problem}`).toMatch(problem);
  });

  it('appends each row at the head, linked to the one before and never dated before it', () => {
    const { store } = freshStore();
    const head = store.audit.head()!;
    expect(head.id).toBe(4);
    store.audit.append('Dr A', 'session.signOut', null);
    const next = store.audit.head()!;
    expect(next.id).toBe(5);
    expect(next.at >= head.at).toBe(true);
    expect(next.hash).not.toBe(head.hash);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 5, head: next.hash });
  });
});

describe('the audit trail on sqlite', () => {
  const fresh = storeFactory('triage-audit-sqlite-');

  it('triage audit verify exits 0 on an intact log and 1 with the first broken link', () => {
    const { db, store, dataDir: path } = withHistory(fresh);
    store.close();
    db.close();
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), '--data-dir', path, ...args], {
        encoding: 'utf8',
        env: { ...process.env, TRIAGE_MODELS_DIR: join(dir.path, 'no-models') },
      });
    const ok = cli('audit', 'verify');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/audit log intact: 4 row\(s\), 2 review\(s\) match it; head [0-9a-f]{64}/);
    const raw = new Database(join(path, 'triage.sqlite'));
    dropTriggers(raw);
    raw.prepare("UPDATE audit_log SET detail = '{}' WHERE id = 3").run();
    raw.close();
    const bad = cli('audit', 'verify');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/audit log BROKEN at row 3: its content does not match its hash/);
  });

  it('chains the rows of a schema-1 database when this build opens it', () => {
    // Build a schema-1 file by hand: only the first migration, then two rows the old way.
    const v1 = new Database(join(dir.path, 'v1b.sqlite'));
    v1.exec(sqlFor(MIGRATIONS[0]!.up, 'sqlite'));
    v1.pragma('user_version = 1');
    v1.prepare("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ('2026-01-01T00:00:00Z', 'ingest', 'quarantine', '/a', '{}')").run();
    v1.prepare("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ('2026-01-02T00:00:00Z', 'Dr A', 'settings.thresholds', NULL, '{}')").run();
    v1.close();
    const folder = join(dir.path, 'upgraded');
    spawnSync('mkdir', ['-p', folder]);
    spawnSync('cp', [join(dir.path, 'v1b.sqlite'), join(folder, 'triage.sqlite')]);
    const store = Store.open(folder);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 2 });
    store.audit.append('Dr B', 'export.csv', null, {});
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 3 });
    store.close();
  });
});

const pgMissing = backendMissing('postgres');

describe.skipIf(pgMissing !== null)(`the audit trail on postgres${pgMissing ? ` (missing: ${pgMissing})` : ''}`, () => {
  const fresh = pgMissing === null ? storeFactory('triage-audit-pg-', 'postgres') : undefined;

  it('keeps one chain when several workstations append at once', async () => {
    const { store, url } = fresh!();
    const workstation = (actor: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'fixtures', 'append-audit.ts'), url!, actor, '40'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([workstation('ws-a'), workstation('ws-b'), workstation('ws-c')]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 120 });
  });

  it('chains the rows of a schema-1 database when this build opens it', () => {
    const { sql, reopen } = fresh!();
    // Build a schema-1 database by hand: only the first migration, then two rows the old way.
    sql((db) => {
      db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      db.exec(sqlFor(MIGRATIONS[0]!.up, 'postgres'));
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      db.exec("INSERT INTO schema_migrations VALUES (1, '0001-initial', '2026-01-01T00:00:00Z')");
      db.exec("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ('2026-01-01T00:00:00Z', 'ingest', 'quarantine', '/a', '{}')");
      db.exec("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ('2026-01-02T00:00:00Z', 'Dr A', 'settings.thresholds', NULL, '{}')");
    });
    const store = reopen();
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 2 });
    store.audit.append('Dr B', 'export.csv', null, {});
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 3 });
  });
});
