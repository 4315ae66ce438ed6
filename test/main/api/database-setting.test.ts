/**
 * The database saved in Settings for the next start (saveDatabase, testDatabase): `sqlite` or a
 * PostgreSQL URL and nothing else, the shared folder a PostgreSQL database needs, a signed-in
 * reviewer, the start configuration written and the change audited without the password, and
 * Settings saying what chose the database in use, what is saved, and what overrides it.
 * Real core, real SQLite.
 */
import { mkdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TriageApiImpl } from '../../../src/main/api/index.js';
import { compose, type CoreOptions } from '../../../src/main/core.js';
import { readStartConfig, startConfigPath } from '../../../src/main/start-config.js';
import { testPostgresConnection } from '../../../src/main/store/index.js';
import { withDatabase, tempDir } from '../../helpers.js';

const dir = tempDir('triage-database-setting-');
afterAll(() => dir.cleanup());
const URL_WITH_PASSWORD = 'postgresql://triage:s3cret@db.example:5432/triage';
let n = 0;

async function withApi(opts: Partial<CoreOptions>, use: (api: TriageApiImpl, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = join(dir.path, `ws${++n}`);
  const core = compose({ dataDir, ...opts });
  const api = new TriageApiImpl(core, { externalPollMs: 0 });
  try {
    await use(api, dataDir);
  } finally {
    api.close();
    await core.stop();
  }
}

describe('saving the database for the next start', () => {
  const share = join(dir.path, 'share');
  mkdirSync(share, { recursive: true });

  it('refuses anything but sqlite or a PostgreSQL URL, with the reason and never the value', async () => {
    await withApi({}, async (api, dataDir) => {
      await api.signIn({ name: 'Dr Admin', create: true });
      for (const database of ['mysql://triage:s3cret@db.example/triage', '/var/lib/triage.db', 'file:triage.sqlite', '']) {
        const err = await api.saveDatabase({ database, sharedDir: share }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/invalid saveDatabase request: database: /);
        expect((err as Error).message).not.toContain('s3cret');
      }
      const noName = await api.saveDatabase({ database: 'postgres://triage:s3cret@db.example', sharedDir: share }).catch((e: Error) => e);
      expect((noName as Error).message).toMatch(/names no database/);
      expect((noName as Error).message).not.toContain('s3cret');
      await expect(api.testDatabase({ database: 'ftp://db.example/x' })).rejects.toThrow(/invalid testDatabase request/);
      expect(readStartConfig(dataDir)).toBeNull();
    });
  });

  it('needs a signed-in reviewer, and for PostgreSQL the shared folder, which must be there', async () => {
    await withApi({}, async (api, dataDir) => {
      await expect(api.saveDatabase({ database: URL_WITH_PASSWORD, sharedDir: share })).rejects.toThrow(/sign in as a reviewer to change the database/);
      await expect(api.testDatabase({ database: URL_WITH_PASSWORD })).rejects.toThrow(/sign in/);
      await api.signIn({ name: 'Dr Admin', create: true });
      await expect(api.saveDatabase({ database: URL_WITH_PASSWORD })).rejects.toThrow(/name the folder every workstation on it mounts/);
      await expect(api.saveDatabase({ database: URL_WITH_PASSWORD, sharedDir: 'share' })).rejects.toThrow(/give the whole path/);
      await expect(api.saveDatabase({ database: URL_WITH_PASSWORD, sharedDir: join(dir.path, 'not-mounted') })).rejects.toThrow(/does not exist or is not a folder/);
      expect(readStartConfig(dataDir)).toBeNull();
    });
  });

  it('saves a PostgreSQL URL for the next start, owner-only, audited without the password; Settings says a restart uses it', async () => {
    await withApi({ databaseSource: 'default' }, async (api, dataDir) => {
      const before = await api.getSettings({});
      expect(before.database).toBe(`SQLite in ${dataDir} (the default)`);
      expect(before.databaseStart).toEqual({
        source: 'default',
        file: startConfigPath(dataDir),
        saved: null,
        savedSharedDir: null,
        savedError: null,
        overriddenBy: null,
        pendingRestart: false,
      });
      await api.signIn({ name: 'Dr Admin', create: true });
      const after = await api.saveDatabase({ database: `  ${URL_WITH_PASSWORD}  `, sharedDir: share });
      // The database in use does not change under a running workstation.
      expect(after.database).toBe(before.database);
      expect(after.databaseStart).toMatchObject({ source: 'default', saved: 'postgresql://triage:***@db.example:5432/triage', savedSharedDir: share, overriddenBy: null, pendingRestart: true });
      expect(JSON.stringify(after)).not.toContain('s3cret');
      expect(readStartConfig(dataDir)).toMatchObject({ database: URL_WITH_PASSWORD, sharedDir: share, savedBy: 'Dr Admin' });
      expect(statSync(startConfigPath(dataDir)).mode & 0o777).toBe(0o600);
      const audit = withDatabase(dataDir, (db) => db.prepare("SELECT actor, detail FROM audit_log WHERE action = 'settings.database'").all()) as { actor: string; detail: string }[];
      expect(audit).toHaveLength(1);
      expect(audit[0]!.actor).toBe('Dr Admin');
      expect(JSON.parse(audit[0]!.detail)).toMatchObject({ database: 'postgresql://triage:***@db.example:5432/triage', sharedDir: share, appliesAt: 'next start' });
      expect(audit[0]!.detail).not.toContain('s3cret');

      // Back to SQLite: saved as such; the same as in use, so nothing waits for a restart.
      const back = await api.saveDatabase({ database: 'SQLite' });
      expect(back.databaseStart).toMatchObject({ saved: 'sqlite', savedSharedDir: null, pendingRestart: false });
    });
  });

  it('says when the command line or the environment overrides the saved database', async () => {
    await withApi({ databaseSource: 'TRIAGE_DATABASE' }, async (api) => {
      await api.signIn({ name: 'Dr Admin', create: true });
      const s = await api.saveDatabase({ database: URL_WITH_PASSWORD, sharedDir: share });
      expect(s.database).toMatch(/\(from TRIAGE_DATABASE\)$/);
      expect(s.databaseStart).toMatchObject({ source: 'TRIAGE_DATABASE', overriddenBy: 'TRIAGE_DATABASE', pendingRestart: false });
    });
  });

  it('says why a saved file cannot be used, rather than failing the screen', async () => {
    await withApi({}, async (api, dataDir) => {
      mkdirSync(startConfigPath(dataDir));
      const s = await api.getSettings({});
      expect(s.databaseStart.saved).toBeNull();
      expect(s.databaseStart.savedError).toMatch(/cannot be read \(EISDIR\)/);
    });
  });

  it('needs no connection for SQLite', async () => {
    await withApi({}, async (api, dataDir) => {
      await api.signIn({ name: 'Dr Admin', create: true });
      expect(await api.testDatabase({ database: 'sqlite' })).toEqual({ ok: true, message: `SQLite in ${dataDir}: nothing to connect to` });
    });
  });
});

describe('the connection test', () => {
  it('says a server that refuses the connection, without the password', async () => {
    const r = await testPostgresConnection('postgres://triage:s3cret@127.0.0.1:1/triage', 2_000);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/triage:\*\*\*@127\.0\.0\.1:1\/triage: .*ECONNREFUSED/);
    expect(r.message).not.toContain('s3cret');
  });

  it('gives up on a server that accepts and never answers, within its time limit', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    try {
      const { port } = silent.address() as AddressInfo;
      const began = Date.now();
      const r = await testPostgresConnection(`postgres://triage:s3cret@127.0.0.1:${port}/triage`, 500);
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/timeout/i);
      expect(r.message).not.toContain('s3cret');
      expect(Date.now() - began).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });
});
