/**
 * The database chosen in Settings, on the run's PostgreSQL test cluster: the connection test
 * reaches a real server (and says why it cannot, without the password), a save that asks for the
 * test is refused when it fails, and the next start of the workstation uses what was saved, its
 * status saying that Settings chose it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseStart, readStartConfig } from '../../../src/main/start-config.js';
import { startWorkstation } from '../../../src/main/workstation.js';
import { backendMissing, freshPostgresDatabase } from '../../fixtures/store.js';
import { tempDir } from '../../helpers.js';

const missing = backendMissing('postgres');
const dir = tempDir('triage-db-setting-pg-');
afterAll(() => dir.cleanup());

describe.skipIf(missing !== null)(`the database chosen in Settings, on PostgreSQL${missing ? ` (missing: ${missing})` : ''}`, () => {
  it('tests the connection, saves it, and the next start uses it', async () => {
    const database = freshPostgresDatabase('db_setting');
    // The cluster trusts its socket: a password in the URL is accepted and must never be shown.
    const withPassword = new URL(database);
    withPassword.password = 's3cret';
    const gone = new URL(withPassword.href);
    gone.pathname = '/no_such_database';
    const share = join(dir.path, 'share');
    mkdirSync(share);
    const dataDir = join(dir.path, 'ws');

    const first = await startWorkstation({ dataDir, databaseSource: 'default', models: false });
    try {
      await first.api.signIn({ name: 'Dr Admin', create: true });
      expect(await first.api.testDatabase({ database: withPassword.href })).toEqual({ ok: true, message: expect.stringMatching(/answered$/) });
      const failed = await first.api.testDatabase({ database: gone.href });
      expect(failed.ok).toBe(false);
      expect(failed.message).toMatch(/cannot connect to PostgreSQL at .*no_such_database.*: database "no_such_database" does not exist/);
      expect(failed.message).not.toContain('s3cret');

      await expect(first.api.saveDatabase({ database: gone.href, sharedDir: share, test: true })).rejects.toThrow(/^not saved: cannot connect/);
      expect(readStartConfig(dataDir)).toBeNull();
      const saved = await first.api.saveDatabase({ database: withPassword.href, sharedDir: share, test: true });
      expect(saved.databaseStart).toMatchObject({ pendingRestart: true, savedSharedDir: share });
      expect(saved.databaseStart.saved).toMatch(/^postgresql:\/\/triage:\*\*\*@/);
    } finally {
      await first.stop();
    }

    // The next start, as the desktop app makes it with no TRIAGE_DATABASE.
    const start = chooseStart(dataDir, {});
    expect(start).toEqual({ database: withPassword.href, sharedDir: share, source: 'Settings' });
    const next = await startWorkstation({ dataDir, ...start, databaseSource: start.source, models: false });
    try {
      const status = await next.api.status({});
      expect(status.database).toMatch(/^PostgreSQL postgresql:\/\/triage:\*\*\*@.*db_setting.* \(from Settings, applies since start\)$/);
      const settings = await next.api.getSettings({});
      expect(settings.databaseStart).toMatchObject({ source: 'Settings', overriddenBy: null, pendingRestart: false });
    } finally {
      await next.stop();
    }
  });
});
