/**
 * This PC's start configuration (`<data folder>/workstation.json`): which database a start uses
 * (the command line over the environment over the file over SQLite), the file written atomically
 * and readable by its owner only, and a file that cannot be used stopping the start with its name
 * and the reason, never with the password it may hold.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseStart, readStartConfig, startConfigPath, StartConfigError, writeStartConfig } from '../../src/main/start-config.js';
import { REPO_ROOT, tempDir } from '../helpers.js';

const dir = tempDir('triage-start-config-');
afterAll(() => dir.cleanup());
let n = 0;
const dataDir = () => {
  const d = join(dir.path, `ws${++n}`);
  mkdirSync(d);
  return d;
};
const SAVED = 'postgres://triage:s3cret@db.example/triage';
const FLAG = 'postgres://triage@flag.example/triage';
const ENV = 'postgres://triage@env.example/triage';

describe('the database a start uses', () => {
  it('is SQLite in the data folder when nothing names one', () => {
    expect(chooseStart(dataDir(), {})).toEqual({ database: undefined, sharedDir: undefined, source: 'default' });
  });

  it('is the saved one, with its shared folder, when neither the command line nor the environment names one', () => {
    const d = dataDir();
    writeStartConfig(d, { database: SAVED, sharedDir: '/mnt/hu' });
    expect(chooseStart(d, {})).toEqual({ database: SAVED, sharedDir: '/mnt/hu', source: 'Settings' });
    // --shared-dir / TRIAGE_SHARED_DIR still name the folder.
    expect(chooseStart(d, { sharedDir: '/mnt/other' }).sharedDir).toBe('/mnt/other');
    writeStartConfig(d, { database: 'sqlite', sharedDir: null });
    expect(chooseStart(d, {})).toEqual({ database: undefined, sharedDir: undefined, source: 'Settings' });
  });

  it('is the environment over the file, and the command line over both', () => {
    const d = dataDir();
    writeStartConfig(d, { database: SAVED, sharedDir: '/mnt/hu' });
    expect(chooseStart(d, { database: { value: ENV, from: 'TRIAGE_DATABASE' } })).toEqual({ database: ENV, sharedDir: undefined, source: 'TRIAGE_DATABASE' });
    expect(chooseStart(d, { database: { value: FLAG, from: 'command line' }, sharedDir: '/mnt/x' })).toEqual({ database: FLAG, sharedDir: '/mnt/x', source: 'command line' });
  });

  it('is not stopped by a broken file that the command line or the environment overrides', () => {
    const d = dataDir();
    writeFileSync(startConfigPath(d), '{ not json');
    expect(chooseStart(d, { database: { value: ENV, from: 'TRIAGE_DATABASE' } }).database).toBe(ENV);
  });
});

describe('the start configuration file', () => {
  it('is readable by its owner only, with nothing left beside it', () => {
    const d = dataDir();
    writeStartConfig(d, { database: SAVED, sharedDir: '/mnt/hu', savedBy: 'Dr A', savedAt: '2026-01-01T00:00:00.000Z' });
    expect(statSync(startConfigPath(d)).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['workstation.json']);
    expect(readStartConfig(d)).toEqual({ database: SAVED, sharedDir: '/mnt/hu', savedBy: 'Dr A', savedAt: '2026-01-01T00:00:00.000Z' });
  });

  it('replaces the old file whole, as 0600 even over a looser temporary file a crashed save left', () => {
    const d = dataDir();
    writeStartConfig(d, { database: 'sqlite', sharedDir: null });
    // What a save killed before its rename leaves: a temporary file others could read.
    const temp = `${startConfigPath(d)}.${process.pid}.tmp`;
    writeFileSync(temp, 'partial', { mode: 0o644 });
    chmodSync(temp, 0o644);
    writeStartConfig(d, { database: SAVED, sharedDir: '/mnt/hu' });
    expect(existsSync(temp)).toBe(false);
    expect(statSync(startConfigPath(d)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(startConfigPath(d), 'utf8'))).toMatchObject({ database: SAVED, sharedDir: '/mnt/hu' });
  });

  it('leaves the old file as it was when the new one cannot be written', () => {
    const d = dataDir();
    writeStartConfig(d, { database: SAVED, sharedDir: '/mnt/hu' });
    // The temporary file's name is taken by a folder: the write fails before the rename.
    mkdirSync(`${startConfigPath(d)}.${process.pid}.tmp`);
    expect(() => writeStartConfig(d, { database: 'sqlite', sharedDir: null })).toThrow(StartConfigError);
    expect(readStartConfig(d)?.database).toBe(SAVED);
  });

  it('is none when it is not there', () => {
    expect(readStartConfig(dataDir())).toBeNull();
    expect(readStartConfig(join(dir.path, 'never-made'))).toBeNull();
  });

  it.each([
    ['not JSON', `{"database": "${SAVED}"`, /is not valid JSON/],
    ['not a database this app can use', JSON.stringify({ database: 'mysql://triage:s3cret@db.example/triage' }), /is not valid \(database: the database is sqlite .* or a PostgreSQL URL/],
    ['a PostgreSQL URL that names no database', JSON.stringify({ database: 'postgres://triage:s3cret@db.example' }), /names no database/],
    ['a shared folder that is not a path', JSON.stringify({ database: SAVED, sharedDir: 3 }), /is not valid \(sharedDir:/],
  ])('stops the start with the file and the reason when it is %s, never with the password', (_what, text, reason) => {
    const d = dataDir();
    writeFileSync(startConfigPath(d), text);
    const thrown = (() => {
      try {
        chooseStart(d, {});
      } catch (err) {
        return err as Error;
      }
      throw new Error('started');
    })();
    expect(thrown).toBeInstanceOf(StartConfigError);
    expect(thrown.message).toContain(startConfigPath(d));
    expect(thrown.message).toMatch(reason);
    expect(thrown.message).not.toContain('s3cret');
  });

  it('stops the start with the file and the reason when it cannot be read', () => {
    const d = dataDir();
    // A folder where the file should be: unreadable as a file for every user, root included.
    mkdirSync(startConfigPath(d));
    expect(() => chooseStart(d, {})).toThrow(new RegExp(`start configuration ${startConfigPath(d)} cannot be read \\(EISDIR\\)`));
  });
});

describe('the triage command', () => {
  function triage(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, TRIAGE_DATABASE: '', TRIAGE_SHARED_DIR: '', TRIAGE_MODELS_DIR: join(dir.path, 'no-models'), ...env },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('says in status what chose the database, and refuses a start configuration it cannot use', () => {
    const d = dataDir();
    expect(triage(['--data-dir', d, 'status']).stdout).toContain(`database: SQLite in ${d} (the default)`);
    writeStartConfig(d, { database: 'sqlite', sharedDir: null });
    expect(triage(['--data-dir', d, 'status']).stdout).toContain(`database: SQLite in ${d} (from Settings, applies since start)`);
    writeFileSync(startConfigPath(d), JSON.stringify({ database: 'mysql://triage:s3cret@db.example/triage' }));
    const refused = triage(['--data-dir', d, 'status']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`triage: start configuration ${startConfigPath(d)} is not valid`);
    expect(refused.stderr).not.toContain('s3cret');
    // The command line overrides the file, which then does not matter; the status says which chose.
    const flagged = triage(['--data-dir', d, '--database', 'mysql://x@y/z', 'status']);
    expect(flagged.stderr).toMatch(/only PostgreSQL/);
  });
});
