/**
 * The triage command on a PostgreSQL database (`--database`, TRIAGE_DATABASE) of the run's test
 * cluster (test/postgres-cluster.ts): what one workstation imports, a reader elsewhere lists; a
 * database that is not a PostgreSQL URL, or a server that is not there, is named in the error
 * without its password.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendMissing, freshPostgresDatabase } from '../../fixtures/store.js';
import { phantomSlices, REPO_ROOT, tempDir } from '../../helpers.js';

const missing = backendMissing('postgres');
const dir = tempDir('triage-cli-pg-');
afterAll(() => dir.cleanup());

function triage(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRIAGE_MODELS_DIR: join(dir.path, 'no-models'), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(missing !== null)(`the triage command on PostgreSQL${missing ? ` (missing: ${missing})` : ''}`, () => {
  it('imports into the database --database names, and a reader on another data folder (TRIAGE_DATABASE) lists it', () => {
    const url = freshPostgresDatabase('cli_import');
    const inbox = join(dir.path, 'inbox');
    mkdirSync(inbox);
    phantomSlices(inbox, 11, 4);
    const share = join(dir.path, 'share');
    const noShare = triage(['--data-dir', join(dir.path, 'ws1'), '--init', '--database', url, 'import', '--no-models', inbox]);
    expect(noShare.code).toBe(1);
    expect(noShare.stderr).toMatch(/is shared by workstations that read each other's slices: name the folder they share for HU copies with --shared-dir/);
    mkdirSync(share);
    const imp = triage(['--data-dir', join(dir.path, 'ws1'), '--init', '--database', url, 'import', '--no-models', inbox], { TRIAGE_SHARED_DIR: share });
    expect(imp.stderr).not.toMatch(/triage:/);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/4 stored/);

    // Another workstation's reader: a data folder that was never made, the database from the environment.
    const rows = triage(['--data-dir', join(dir.path, 'ws2'), 'worklist', '--json'], { TRIAGE_DATABASE: url });
    expect(rows.code).toBe(0);
    expect((JSON.parse(rows.stdout) as { state: string }[]).map((r) => r.state)).toEqual(['awaiting_model']);
    const status = triage(['--data-dir', join(dir.path, 'ws2'), 'status'], { TRIAGE_DATABASE: url });
    expect(status.stdout).toContain(`database: PostgreSQL ${url}`);
    // The SQLite database of the data folder was not used.
    const local = triage(['--data-dir', join(dir.path, 'ws1'), 'worklist', '--json']);
    expect(JSON.parse(local.stdout)).toEqual([]);
  });

  it('refuses a URL that is not PostgreSQL, and names an unreachable server, never with the password', () => {
    const notPg = triage(['--data-dir', join(dir.path, 'ws3'), '--database', 'mysql://triage:s3cret@db.example/triage', 'status']);
    expect(notPg.code).toBe(1);
    expect(notPg.stderr).toMatch(/database mysql:\/\/triage:\*\*\*@db\.example\/triage: only PostgreSQL/);
    expect(notPg.stderr).not.toContain('s3cret');

    const noDb = triage(['--data-dir', join(dir.path, 'ws3'), '--database', 'postgres://triage:s3cret@localhost:1', 'status']);
    expect(noDb.stderr).toMatch(/names no database/);
    expect(noDb.stderr).not.toContain('s3cret');

    const gone = triage(['--data-dir', join(dir.path, 'ws3'), '--init', '--database', 'postgres://triage:s3cret@127.0.0.1:1/triage', '--shared-dir', dir.path, 'import', '--no-models', dir.path]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/triage:\*\*\*@127\.0\.0\.1:1\/triage: /);
    expect(gone.stderr).not.toContain('s3cret');

    const garbage = triage(['--data-dir', join(dir.path, 'ws3'), 'status'], { TRIAGE_DATABASE: 'not a url s3cret' });
    expect(garbage.stderr).toMatch(/the database is not a URL/);
    expect(garbage.stderr).not.toContain('s3cret');
  });
});
