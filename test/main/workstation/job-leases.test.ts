/**
 * Job leases between two workstations on one PostgreSQL database (the run's test cluster), with a
 * lease of two seconds (CoreOptions.jobLeaseMs) and scorers that only take their time: a job that
 * runs three times longer than its lease stays with the workstation running it, which renews the
 * lease, while the other one keeps looking for work; and a job whose workstation was killed while
 * running it is taken over by the other once the lease runs out, not before.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { compose, type TriageCore } from '../../../src/main/core.js';
import type { SeriesScorer } from '../../../src/main/inference/index.js';
import { PostgresHandle } from '../../../src/main/store/postgres.js';
import { backendMissing, freshPostgresDatabase } from '../../fixtures/store.js';
import { phantomSlices, REPO_ROOT, tempDir } from '../../helpers.js';
import type { JobHolderInput } from './job-holder-child.js';

const missing = backendMissing('postgres');
const dir = tempDir('triage-leases-');
const LEASE_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A scorer that takes `ms` a series and notes when it was asked for which. */
class TimedScorer implements SeriesScorer {
  readonly asked: { seriesUid: string; at: number }[] = [];
  constructor(private readonly ms: number) {}
  describe(): string {
    return `a test scorer taking ${this.ms} ms a series`;
  }
  async scoreSeries(seriesUid: string): Promise<void> {
    this.asked.push({ seriesUid, at: Date.now() });
    await sleep(this.ms);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

type JobRow = { state: string; attempts: number; claimed_by: string; lease_until: string };

describe.skipIf(missing !== null)(`job leases between workstations on one PostgreSQL database${missing ? ` (missing: ${missing})` : ''}`, () => {
  const cores: TriageCore[] = [];
  const handles: PostgresHandle[] = [];
  afterAll(async () => {
    for (const c of cores) await c.stop();
    for (const h of handles) h.close();
    dir.cleanup();
  });

  /** A workstation of this test: its own data folder, the shared one, the short lease; it never scores provisionally. */
  const workstation = (name: string, database: string, scorer: SeriesScorer): TriageCore => {
    const core = compose({
      dataDir: join(dir.path, name),
      database,
      sharedDir: join(dir.path, 'share'),
      scorer,
      jobLeaseMs: LEASE_MS,
      settleMs: 400,
      provisionalScores: false,
    });
    cores.push(core);
    return core;
  };
  mkdirSync(join(dir.path, 'share'));
  const nothingToWatch = join(dir.path, 'empty');
  mkdirSync(nothingToWatch);

  it('a job that runs longer than its lease is renewed, and the other workstation never claims it meanwhile', async () => {
    const database = freshPostgresDatabase('lease_renewed');
    const sql = new PostgresHandle(database);
    handles.push(sql);
    const job = () => sql.prepare('SELECT state, attempts, claimed_by, lease_until FROM jobs').get() as JobRow | undefined;
    const slow = new TimedScorer(3 * LEASE_MS);
    const eager = new TimedScorer(0);
    const a = workstation('renew-a', database, slow);
    const b = workstation('renew-b', database, eager);

    const started = Date.now();
    let finished = false;
    phantomSlices(join(dir.path, 'renewed'), 71, 4);
    const importing = a.importFolder(join(dir.path, 'renewed', 'study_00000')).then(() => (finished = true));
    await until(() => slow.asked.length === 1, 60_000, "a's job run begun");
    const firstLease = Date.parse(job()!.lease_until);
    // b looks for work all along: at its settle tick, and asked outright every 100 ms.
    b.watch(nothingToWatch);
    let latestLease = firstLease;
    while (!finished) {
      await b.runJobs();
      const row = job()!;
      if (row.state === 'running') latestLease = Math.max(latestLease, Date.parse(row.lease_until));
      await sleep(100);
    }
    await importing;

    expect(Date.now() - started).toBeGreaterThan(3 * LEASE_MS);
    expect(latestLease - firstLease).toBeGreaterThan(LEASE_MS); // renewed while it ran
    expect(eager.asked).toEqual([]);
    expect(job()).toMatchObject({ state: 'done', attempts: 1, claimed_by: a.workstation });
  });

  it("a job whose workstation died is claimed by the other once its lease runs out, not before", async () => {
    const database = freshPostgresDatabase('lease_lapsed');
    const sql = new PostgresHandle(database);
    handles.push(sql);
    const job = () => sql.prepare('SELECT state, attempts, claimed_by, lease_until FROM jobs').get() as JobRow | undefined;

    const input: JobHolderInput = {
      dataDir: join(dir.path, 'dies'),
      database,
      sharedDir: join(dir.path, 'share'),
      inbox: join(dir.path, 'lapsed', 'study_00000'),
      jobLeaseMs: LEASE_MS,
    };
    phantomSlices(join(dir.path, 'lapsed'), 72, 4);
    // The other workstation is up before the first one claims the job and dies with it.
    const eager = new TimedScorer(0);
    const b = workstation('survives', database, eager);
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'main', 'workstation', 'job-holder-child.ts'), JSON.stringify(input)], {
      cwd: REPO_ROOT,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const scoring = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the dying workstation never began its job; stderr:\n${stderr}`)), 60_000);
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { scoring: string }).scoring);
      });
    });
    // b looks for work from now on; the job is renewed at least once before its holder dies.
    b.watch(nothingToWatch);
    await sleep(LEASE_MS / 2);
    child.kill('SIGKILL');
    await exited;
    const held = job()!;
    expect(held).toMatchObject({ state: 'running', attempts: 1, claimed_by: expect.stringMatching(/:.*\/dies$/) as string });
    const leaseRunsOut = Date.parse(held.lease_until);

    expect(eager.asked).toEqual([]);
    await until(() => eager.asked.length === 1, 30_000, 'the job taken over');
    expect(eager.asked[0]!.seriesUid).toBe(scoring);
    expect(eager.asked[0]!.at).toBeGreaterThanOrEqual(leaseRunsOut);
    await until(() => job()!.state === 'done', 10_000, 'the job done');
    expect(job()).toMatchObject({ state: 'done', attempts: 2, claimed_by: b.workstation });
  });
});
