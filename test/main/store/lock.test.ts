/**
 * One writer per data folder: a second writer (another `serve`, `watch` or `import`) is refused
 * with who holds the folder; a reader (`status`, `worklist`, ...) opens beside the writer and
 * changes nothing — in particular it does not requeue the writer's running inference job; a lock
 * left by a killed process is taken over; one from another host is not guessed about.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { DataFolderInUse, LOCK_FILE } from '../../../src/main/store/lock.js';
import { REPO_ROOT, tempDir, withDatabase } from '../../helpers.js';

const dir = tempDir('triage-lock-');
afterAll(() => dir.cleanup());

it('refuses a second writer, lets a reader in without requeuing the writer\'s job, and releases on stop', async () => {
  const dataDir = join(dir.path, 'a');
  const writer = compose({ dataDir });
  try {
    expect(() => compose({ dataDir })).toThrow(DataFolderInUse);
    expect(() => compose({ dataDir })).toThrow(new RegExp(`in use by process ${process.pid}`));
    writer.store.jobs.enqueue('infer-series', '1.2.3', {});
    expect(writer.store.jobs.claim('infer-series')?.state).toBe('running');
    const reader = compose({ dataDir, readOnly: true });
    await reader.stop();
    const status = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), '--data-dir', dataDir, 'status', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, TRIAGE_MODELS_DIR: join(dir.path, 'no-models') },
    });
    expect(status.status, status.stderr).toBe(0);
    expect(withDatabase(dataDir, (db) => db.prepare('SELECT state FROM jobs').pluck().get())).toBe('running');
  } finally {
    await writer.stop();
  }
  expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  const again = compose({ dataDir });
  await again.stop();
});

it('takes over the lock of a process that is gone, and not one from another host', async () => {
  const stale = join(dir.path, 'stale');
  mkdirSync(stale);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(stale, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), command: 'triage serve', since: '2026-01-01T00:00:00Z' }));
  const core = compose({ dataDir: stale });
  await core.stop();

  const shared = join(dir.path, 'shared');
  mkdirSync(shared);
  writeFileSync(join(shared, LOCK_FILE), JSON.stringify({ pid: 1, host: 'reading-room-2', command: 'triage serve', since: '2026-01-01T00:00:00Z' }));
  expect(() => compose({ dataDir: shared })).toThrow(/in use by process 1 on reading-room-2 .*remove/);
});
