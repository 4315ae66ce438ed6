/**
 * Several workstations on one PostgreSQL database (the run's test cluster): the HU copy of a slice
 * one workstation received is read by another through the folder they share (`sharedDir`), and a
 * workstation that names no shared folder, or one that is not there, is refused before it opens
 * anything, with the reason and the database without its password; a database that goes away is
 * said in status, structured for the screen, and the screens are told when it goes and comes back;
 * a workstation's own settings (its import folder) stay its own while the site's (flag thresholds)
 * are every workstation's.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { TriageApiImpl } from '../../../src/main/api/index.js';
import { StatusSchema, type ApiEvent } from '../../../src/shared/api.js';
import { PostgresHandle } from '../../../src/main/store/postgres.js';
import { startWorkstation } from '../../../src/main/workstation.js';
import { backendMissing, freshPostgresDatabase } from '../../fixtures/store.js';
import { phantomSlices, tempDir } from '../../helpers.js';

const missing = backendMissing('postgres');

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const dir = tempDir('triage-shared-');
afterAll(() => dir.cleanup());

describe.skipIf(missing !== null)(`workstations sharing a PostgreSQL database${missing ? ` (missing: ${missing})` : ''}`, () => {
  it("reads a slice another workstation received, through the shared folder's HU copies", async () => {
    const database = freshPostgresDatabase('shared_hu');
    const sharedDir = join(dir.path, 'share');
    mkdirSync(sharedDir);
    const inbox = join(dir.path, 'inbox');
    const files = phantomSlices(inbox, 21, 4);
    const first = await startWorkstation({ dataDir: join(dir.path, 'ws1'), database, sharedDir, models: false });
    const second = await startWorkstation({ dataDir: join(dir.path, 'ws2'), database, sharedDir, models: false });
    try {
      const outcomes = await first.core.importFolder(inbox);
      expect(outcomes.filter((o) => o.outcome === 'stored')).toHaveLength(files.length);
      const [study] = second.core.worklist();
      const [series] = second.core.store.series.facts(study!.studyUid, { settledOnly: false });
      const instanceId = second.core.store.instances.ofSeries(series!.seriesUid)[0]!.id;
      // The copy is in the shared folder, not in the data folder of the workstation that received it.
      const rel = first.core.store.instances.huPath(instanceId)!;
      expect(existsSync(join(sharedDir, rel))).toBe(true);
      expect(existsSync(join(dir.path, 'ws1', rel))).toBe(false);
      const seen = await second.api.slice({ instanceId });
      const own = await first.api.slice({ instanceId });
      expect(seen).toEqual(own);
    } finally {
      await second.stop();
      await first.stop();
    }
  });

  it('keeps a file that arrives while the database cannot be reached, says so in status, and stores it once the database is back', async () => {
    const database = freshPostgresDatabase('gone_away');
    const name = new URL(database).pathname.slice(1);
    const sharedDir = join(dir.path, 'share-gone');
    const importDir = join(dir.path, 'import-gone');
    mkdirSync(sharedDir);
    mkdirSync(importDir);
    const files = phantomSlices(join(dir.path, 'gone-study'), 22, 4);
    const core = compose({ dataDir: join(dir.path, 'ws-gone'), database, sharedDir, stableMs: 200, settleMs: 60_000 });
    // The screen's view of it: the API's status reply, and the change events that tell the screen to ask.
    const api = new TriageApiImpl(core, { externalPollMs: 100 });
    const events: ApiEvent[] = [];
    api.onEvent((e) => events.push(e));
    const admin = new PostgresHandle(inject('postgres').url!);
    try {
      core.watch(importDir);
      // The database goes away: no new connection is let in, and the workstation's is ended.
      admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      admin.prepare('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name').all({ name });
      await until(() => /UNREACHABLE since/.test(core.status().database), 10_000, 'status saying the database is unreachable');
      expect(core.status().database).toMatch(/^PostgreSQL postgresql:.*: UNREACHABLE since .*is unreachable.*received files are kept and read again$/);
      const gone = await api.status({});
      expect(gone.databaseUnreachable).toEqual({ since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), reason: expect.stringMatching(/is unreachable/) });
      expect(gone.database).toContain(`UNREACHABLE since ${gone.databaseUnreachable!.since}`);
      // What only the database knows is not made up meanwhile: no providers, the models unknown.
      expect(gone).toMatchObject({ providers: [], models: 'unknown while the database cannot be reached' });
      expect(StatusSchema.safeParse(gone).success).toBe(true);
      await until(() => events.some((e) => e.type === 'changed' && e.reason === 'database'), 2_000, 'a change event for the screens');
      copyFileSync(files[0]!, join(importDir, basename(files[0]!)));
      await new Promise((r) => setTimeout(r, 1_500)); // read, and refused by the database
      expect(existsSync(join(importDir, basename(files[0]!)))).toBe(true);

      admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await until(() => !/UNREACHABLE/.test(core.status().database) && core.status().counts.instances === 1, 15_000, 'the slice stored after the database came back');
      expect(core.status().counts).toMatchObject({ instances: 1, quarantined: 0 });
      expect((await api.status({})).databaseUnreachable).toBeNull();
      await until(() => events.filter((e) => e.type === 'changed' && e.reason === 'database').length === 2, 2_000, 'a change event saying it is back');
    } finally {
      admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      admin.close();
      api.close();
      await core.stop();
    }
  });

  it("keeps each workstation's import folder its own and shares the flag thresholds, and the settings say whose each is", async () => {
    const database = freshPostgresDatabase('shared_settings');
    const sharedDir = join(dir.path, 'share-settings');
    const [in1, in2] = [join(dir.path, 'settings-in-1'), join(dir.path, 'settings-in-2')];
    for (const d of [sharedDir, in1, in2]) mkdirSync(d);
    const first = await startWorkstation({ dataDir: join(dir.path, 'ws-settings-1'), database, sharedDir, models: false });
    const second = await startWorkstation({ dataDir: join(dir.path, 'ws-settings-2'), database, sharedDir, models: false });
    try {
      await first.api.signIn({ name: 'Dr A', create: true });
      await second.api.signIn({ name: 'Dr A' });
      await first.api.updateSettings({ importFolder: in1, confirmImportFolder: true, thresholds: { any: 0.15 } });
      const seen = await second.api.getSettings({});
      expect(seen.importFolder).toBeNull();
      expect(seen.thresholds.any).toBe(0.15);
      expect(seen.thresholdSources.any).toBe('site');
      await second.api.updateSettings({ importFolder: in2, confirmImportFolder: true });
      expect((await first.api.getSettings({})).importFolder).toBe(in1);
      expect((await second.api.getSettings({})).importFolder).toBe(in2);
      expect(seen.workstation).toBe(second.core.workstation);
      expect(seen.workstation).not.toBe(first.core.workstation);
      expect(seen.scopes).toEqual({ importFolder: 'workstation', thresholds: 'site', rankingModel: 'site', providers: 'workstation' });
      // Each change of a folder is recorded with whose folder it is.
      const sql = new PostgresHandle(database);
      const changes = sql.prepare("SELECT detail FROM audit_log WHERE action = 'settings.importFolder' ORDER BY id").all() as { detail: string }[];
      sql.close();
      expect(changes.map((r) => JSON.parse(r.detail) as unknown)).toEqual([
        { importFolder: in1, workstation: first.core.workstation },
        { importFolder: in2, workstation: second.core.workstation },
      ]);
    } finally {
      await second.stop();
      await first.stop();
    }
  });

  it('refuses a workstation on a shared database without a shared folder, or with one that is not there', () => {
    const database = freshPostgresDatabase('shared_refused').replace('triage@', 'triage:s3cret@');
    const dataDir = join(dir.path, 'ws3');
    expect(() => compose({ dataDir, database })).toThrow(/database postgresql:\/\/triage:\*\*\*@.* is shared by workstations .*--shared-dir or TRIAGE_SHARED_DIR/);
    expect(() => compose({ dataDir, database, sharedDir: join(dir.path, 'not-mounted') })).toThrow(/shared folder .*not-mounted does not exist/);
    // Refused before anything was opened: no writer lock, no data folder.
    expect(existsSync(dataDir)).toBe(false);
    // A reader needs no shared folder: it reads rows, not slices.
    const reader = compose({ dataDir, database, readOnly: true });
    expect(reader.status().database).toMatch(/^PostgreSQL postgresql:\/\/triage:\*\*\*@/);
    void reader.stop();
  });
});
