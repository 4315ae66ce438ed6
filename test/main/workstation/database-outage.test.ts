/**
 * A PostgreSQL server that goes away in the middle of an import and comes back: a workstation on a
 * cluster of this test's own (test/postgres-server.ts; the run's shared cluster is never touched)
 * receives two phantom studies, one through its import folder and one over DICOM from dcmtk's
 * storescu. Half of each arrives, the server is stopped as a crash stops it (pg_ctl stop -m
 * immediate), the other halves arrive while it is down, and it is started again on the same data
 * folder and socket. The sender hears success for every slice (each is durable in the receiver's
 * spool and held for the database); status says UNREACHABLE while the server is down and stops
 * saying it after; in the end every slice is stored exactly once (rows, HU copies, spooled
 * originals) and each series is scored once, each slice run once by the network. And a workstation
 * that is itself stopped during the outage reads the slices it held at its next start; one that
 * cannot note a slice as held tells the sender to keep it (0xA700).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { compose, DATABASE_RETRY_MS } from '../../../src/main/core.js';
import { Store } from '../../../src/main/store/index.js';
import { PostgresHandle } from '../../../src/main/store/postgres.js';
import { startWorkstation, type Workstation } from '../../../src/main/workstation.js';
import { modelsFolderWith, phantomSlices, tempDir } from '../../helpers.js';
import { POSTGRES_BINARIES_MISSING, serverBin, startThrowawayCluster, type ThrowawayCluster } from '../../postgres-server.js';

const run = promisify(execFile);
const missing = serverBin() === null ? POSTGRES_BINARIES_MISSING : !existsSync('/usr/bin/storescu') ? "dcmtk's storescu (Debian package dcmtk)" : null;
const dir = tempDir('triage-outage-');

/** Waits until `test` holds, checking every 100 ms; fails after `ms` with what was awaited and the log. */
async function until(test: () => boolean, ms: number, what: string, log: string[]): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; the workstation said:\n${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(missing !== null)(`a PostgreSQL server stopped during an import and started again${missing ? ` (missing: ${missing})` : ''}`, () => {
  let cluster: ThrowawayCluster | undefined;
  let ws: Workstation | undefined;
  afterAll(async () => {
    await ws?.stop();
    cluster?.stop();
    dir.cleanup();
  });

  /** A new database on this test's own cluster (started at the first call), as a URL. */
  const ownDatabase = (name: string): string => {
    if (!cluster) {
      // Acknowledged commits survive the server's crash, as on a production server.
      const started = startThrowawayCluster({ crashSafe: true });
      if ('missing' in started) throw new Error(started.missing);
      cluster = started;
    }
    const admin = new PostgresHandle(cluster.url);
    admin.exec(`CREATE DATABASE ${name}`);
    admin.close();
    const url = new URL(cluster.url);
    url.pathname = `/${name}`;
    return url.href;
  };

  it('loses no slice and stores none twice; the sender hears success; status says unreachable, then clears; each series is scored once', async () => {
    const database = ownDatabase('outage');

    const sharedDir = join(dir.path, 'share');
    const importDir = join(dir.path, 'import');
    const dataDir = join(dir.path, 'data');
    mkdirSync(sharedDir);
    mkdirSync(importDir);
    const byFolder = phantomSlices(join(dir.path, 'by-folder'), 61, 10);
    const byDicom = phantomSlices(join(dir.path, 'by-dicom'), 62, 10);

    const log: string[] = [];
    // Settling waits longer than the outage lasts, so each series settles once, whole.
    ws = await startWorkstation({
      dataDir,
      database,
      sharedDir,
      modelsDir: modelsFolderWith(join(dir.path, 'models'), 'efficientnet_b3'),
      cuda: false,
      onModelError: 'throw',
      watch: importDir,
      core: { settleMs: 20_000, stableMs: 200 },
      log: (m) => log.push(`${new Date().toISOString()} ${m}`),
    });
    expect(ws.modelsLoaded).toBe(1);
    const core = ws.core;
    const scored: string[] = [];
    core.on((e) => {
      if (e.type === 'series-scored') scored.push(e.seriesUid);
    });
    const receiver = await core.listen({ port: 0, aeTitle: 'ICH_TRIAGE', allowedCallingAeTitles: ['CT_SCANNER'] });
    const drop = (files: string[]) => files.forEach((f) => copyFileSync(f, join(importDir, basename(f))));
    // storescu exits non-zero when any C-STORE is answered with a failure status; its verbose
    // log names the slice, the status and the workstation's reason, kept with the failure.
    const send = (files: string[]) =>
      run('storescu', ['-v', '-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(receiver.port), ...files]).catch(
        (e: { message: string; stdout?: string; stderr?: string }) => {
          throw new Error(`${e.message}\nstorescu said:\n${e.stdout ?? ''}${e.stderr ?? ''}\nthe workstation said:\n${log.join('\n')}`);
        },
      );
    const instances = () => core.status().counts.instances ?? -1;
    const unreachable = () => /UNREACHABLE since/.test(core.status().database);

    // The first halves arrive and are stored.
    drop(byFolder.slice(0, 5));
    await send(byDicom.slice(0, 5));
    await until(() => instances() === 10, 30_000, 'the first halves stored', log);

    // The server crashes; the second halves arrive while it is down.
    cluster!.halt('immediate');
    await until(unreachable, 10_000, 'status saying the database is unreachable', log);
    expect(core.status().database).toMatch(/^PostgreSQL postgresql:.*: UNREACHABLE since .*received files are kept and read again$/);
    drop(byFolder.slice(5));
    await send(byDicom.slice(5)); // every C-STORE answered success: the slices are held here
    expect(receiver.stats).toMatchObject({ stored: 10, failed: 0 });
    const held = join(dataDir, 'awaiting-database');
    await until(() => existsSync(held) && readdirSync(held).length === 5, 10_000, 'the received slices held for the database', log);
    const keptFromFolder = () => new Set(log.flatMap((m) => /database unreachable: (.*) is kept and read again/.exec(m)?.[1] ?? []).filter((p) => p.startsWith(importDir)));
    await until(() => keptFromFolder().size === 5, 10_000, 'the folder files kept', log);
    // Each is read again, and refused again, while the server stays down.
    await new Promise((r) => setTimeout(r, DATABASE_RETRY_MS + 1_000));
    expect(unreachable()).toBe(true);

    cluster!.restart();
    await until(() => !unreachable() && instances() === 20, 30_000, 'every slice stored once the server is back', log);
    expect(readdirSync(held)).toEqual([]);
    await until(() => new Set(scored).size === 2, 120_000, 'both series scored', log);
    // Time for a second scoring of either series to show, were there one.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(scored).toHaveLength(2);
    expect(log.filter((m) => /inference failed/.test(m))).toEqual([]);

    const reader = Store.connect(database);
    const sql = new PostgresHandle(database);
    try {
      // Every slice once: 10 in each of the two series, no SOP Instance UID twice, no file refused.
      expect(sql.prepare('SELECT sop_uid FROM instances GROUP BY sop_uid HAVING COUNT(*) > 1').all()).toEqual([]);
      const perSeries = sql.prepare('SELECT series_uid, COUNT(*) AS n FROM instances GROUP BY series_uid').all() as { n: number }[];
      expect(perSeries.map((r) => r.n)).toEqual([10, 10]);
      expect(core.status().counts).toMatchObject({ instances: 20, quarantined: 0 });
      // Each slice's HU copy in the shared folder, each received original once in the spool.
      const huPaths = sql.prepare('SELECT hu_path FROM instances').all() as { hu_path: string }[];
      expect(huPaths.filter((r) => existsSync(join(sharedDir, r.hu_path)))).toHaveLength(20);
      expect(readdirSync(join(dataDir, 'received')).filter((f) => f.endsWith('.dcm'))).toHaveLength(10);
      // Each series' job done once, claimed once; each slice run once by the network.
      const jobs = sql.prepare('SELECT state, attempts FROM jobs').all();
      expect(jobs).toEqual([
        { state: 'done', attempts: 1 },
        { state: 'done', attempts: 1 },
      ]);
      const predictions = reader.predictions.all().get('efficientnet_b3') ?? [];
      expect(predictions).toHaveLength(20);
      expect(new Set(predictions.map((p) => p.sopUid)).size).toBe(20);
      expect(core.worklist().map((r) => r.state)).toEqual(['scored', 'scored']);
    } finally {
      sql.close();
      reader.close();
    }
  });

  it('reads at its next start the slices it held when it was stopped during the outage; a slice it cannot note as held is refused', async () => {
    const database = ownDatabase('stopped_during_outage');
    const sharedDir = join(dir.path, 'share-2');
    const dataDir = join(dir.path, 'data-2');
    mkdirSync(sharedDir);
    const slices = phantomSlices(join(dir.path, 'held'), 63, 4);
    const log: string[] = [];
    const options = { dataDir, database, sharedDir, settleMs: 60_000, log: (m: string) => log.push(m) };
    const listen = { port: 0, aeTitle: 'ICH_TRIAGE', allowedCallingAeTitles: ['CT_SCANNER'] };
    const send = (port: number, files: string[], extra: string[] = []) =>
      run('storescu', [...extra, '-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(port), ...files]);

    const first = compose(options);
    const receiver = await first.listen(listen);
    cluster!.halt('fast');
    // The note cannot be written (its folder's name is taken by a file): the sender must keep this slice.
    const held = join(dataDir, 'awaiting-database');
    writeFileSync(held, 'not a folder');
    // storescu's debug log shows the response's status and Error Comment, and it exits non-zero.
    const refusal = await send(receiver.port, slices.slice(0, 1), ['-d']).then(
      () => 'stored',
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );
    expect(refusal).toMatch(/OutOfResources|0xa700/i);
    expect(refusal).toMatch(/database unreachable, and the/);
    rmSync(held);
    // These are held, and the workstation is stopped before the server is back.
    await send(receiver.port, slices.slice(1));
    expect(receiver.stats).toMatchObject({ stored: 3, failed: 1 });
    expect(readdirSync(held)).toHaveLength(3);
    await first.stop();

    // The server comes back; so does the workstation, and reads what it held.
    cluster!.restart();
    const second = compose(options);
    try {
      await second.listen(listen);
      await until(() => second.status().counts.instances === 3, 30_000, 'the held slices stored at the next start', log);
      expect(readdirSync(held)).toEqual([]);
      expect(second.status().counts).toMatchObject({ instances: 3, quarantined: 0 });
    } finally {
      await second.stop();
    }
  });
});
