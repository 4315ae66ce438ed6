/**
 * Several workstations on one PostgreSQL database (the run's test cluster): the HU copy of a slice
 * one workstation received is read by another through the folder they share (`sharedDir`), and a
 * workstation that names no shared folder, or one that is not there, is refused before it opens
 * anything, with the reason and the database without its password.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { PostgresHandle } from '../../../src/main/store/postgres.js';
import { startWorkstation } from '../../../src/main/workstation.js';
import { backendMissing } from '../../fixtures/store.js';
import { phantomSlices, tempDir } from '../../helpers.js';

const missing = backendMissing('postgres');
const dir = tempDir('triage-shared-');
afterAll(() => dir.cleanup());

function freshDatabase(name: string): string {
  const admin = new PostgresHandle(inject('postgres').url!);
  try {
    admin.exec(`CREATE DATABASE ${name}_${process.pid}`);
  } finally {
    admin.close();
  }
  const url = new URL(inject('postgres').url!);
  url.pathname = `/${name}_${process.pid}`;
  return url.href;
}

describe.skipIf(missing !== null)(`workstations sharing a PostgreSQL database${missing ? ` (missing: ${missing})` : ''}`, () => {
  it("reads a slice another workstation received, through the shared folder's HU copies", async () => {
    const database = freshDatabase('shared_hu');
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

  it('refuses a workstation on a shared database without a shared folder, or with one that is not there', () => {
    const database = freshDatabase('shared_refused').replace('triage@', 'triage:s3cret@');
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
