/**
 * kill -9 in the middle of an import of a few hundred slices, then a restart: every slice is
 * stored exactly once and every series is complete.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { corpus, CT1_UNC, fixture, HAVE_CORPUS, REPO_ROOT, tempDir } from '../../helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

const SERIES = 3;
const PER_SERIES = 100;

function countInstances(dataDir: string): number {
  const file = join(dataDir, 'triage.sqlite');
  if (!existsSync(file)) return 0;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // schema not created yet
  }
}

it.skipIf(!HAVE_CORPUS)('resumes after kill -9 with no slice lost and none stored twice', async () => {
  const inbox = join(dir.path, 'inbox');
  for (let s = 0; s < SERIES; s++) {
    const out = join(inbox, `series-${s}`);
    mkdirSync(out, { recursive: true });
    fixture('series', '--base', corpus(CT1_UNC), '--out', out, '--count', String(PER_SERIES), '--seed', String(s));
  }
  const dataDir = join(dir.path, 'data');
  const cli = [join(REPO_ROOT, 'bin', 'triage.mjs'), '--data-dir', dataDir, '--init', 'import', '--no-models', inbox];

  // Models are not what this test is about: without any, ready series await one.
  const env = { ...process.env, TRIAGE_MODELS_DIR: join(dir.path, 'no-models') };
  const child = spawn(process.execPath, cli, { stdio: 'ignore', env });
  const start = Date.now();
  while (countInstances(dataDir) < 40) {
    if (Date.now() - start > 60_000) throw new Error('import made no progress');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const afterKill = countInstances(dataDir);
  expect(afterKill).toBeGreaterThanOrEqual(40);
  expect(afterKill).toBeLessThan(SERIES * PER_SERIES);

  const rerun = spawnSync(process.execPath, [...cli, '--json'], { encoding: 'utf8', env });
  expect(rerun.status, rerun.stderr).toBe(0);
  const summary = JSON.parse(rerun.stdout) as Record<string, number>;
  expect(summary.files).toBe(SERIES * PER_SERIES);
  // What the killed run stored is recognised, not stored again.
  expect(summary.unchanged! + summary.stored!).toBe(SERIES * PER_SERIES);
  expect(summary.duplicate).toBe(0);

  const db = new Database(join(dataDir, 'triage.sqlite'), { readonly: true });
  const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  expect(one('SELECT COUNT(*) AS n FROM instances')).toBe(SERIES * PER_SERIES);
  expect(one('SELECT COUNT(DISTINCT sop_uid) AS n FROM instances')).toBe(SERIES * PER_SERIES);
  expect(one('SELECT COUNT(*) AS n FROM files')).toBe(SERIES * PER_SERIES);
  expect(one("SELECT COUNT(*) AS n FROM series WHERE slice_count = 100 AND state = 'awaiting_model'")).toBe(SERIES);
  expect(one('SELECT COUNT(*) AS n FROM instances WHERE slice_index IS NULL')).toBe(0);
  expect(one('SELECT COUNT(*) AS n FROM quarantine')).toBe(0);
  db.close();
});
