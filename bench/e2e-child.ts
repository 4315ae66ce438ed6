/**
 * End to end, in its own process: the workstation as the app composes it (startWorkstation: core,
 * models, watcher, API) and the time from the last slice of a study landing in the import folder
 * to the study's worklist row in state 'scored'.
 *
 * Input (argv[2], JSON): the study's files, the work folder, the settle and stability waits, and
 * how they arrive: copied one after another as fast as the disk takes them, or at a scanner's
 * pace (a number of slices per second, as a CT reconstructs and sends them), into the import folder
 * or over DICOM to the app's receiver (C-STORE, one association a slice, sent by dcmtk's storescu as
 * a scanner's network node would; no stability wait applies to an instance the receiver stored), or
 * pushed to the receiver in one association that is then released (storescu given every file, as a
 * PACS forwards a study or a scanner transfers a finished series; the clock starts at the release).
 * Output (stdout, one JSON line): the total and its parts — the stability wait plus reading the
 * last files, the settle wait, inference of every model with storing, the worklist query — and
 * this process's peak RSS (VmHWM) with all models loaded; the inference worker is a thread of
 * this process, so its memory is in the figure. With TRIAGE_BENCH_TRACE=1 every core event is
 * written to stderr with its time, to see where a figure's seconds went.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { CoreEvent } from '../src/main/core.js';
import { MODEL_STATES_SETTING } from '../src/main/inference/index.js';
import type { ModelState } from '../src/main/inference/scorer.js';
import { startWorkstation } from '../src/main/workstation.js';
import { procStatusBytes } from './proc.js';

export interface E2eInput {
  files: string[];
  workDir: string;
  settleMs: number;
  stableMs: number;
  modelsDir?: string;
  timeoutMs: number;
  /** Slices per second as a scanner sends them; absent: as fast as the disk takes them. */
  paceSlicesPerSecond?: number;
  /**
   * 'folder' (the default): copied into the watched import folder; 'dicom': sent to the receiver,
   * one association a slice; 'dicom-association': every slice in one association (no pace).
   */
  arrival?: 'folder' | 'dicom' | 'dicom-association';
}

export interface E2eOutput {
  slices: number;
  modelsLoaded: string[];
  modelLoadSeconds: number;
  /** First slice sent → last slice sent (copied, or its C-STORE acknowledged). */
  copySeconds: number;
  /** Last file copied → last file read and stored (includes the stability wait). */
  stabilityAndIngestSeconds: number;
  /** Last file stored → series settled and queued (includes the settle wait). */
  settleSeconds: number;
  /** Series settled → 'series-scored': every model, the ensemble, predictions and study scores stored. */
  inferenceSeconds: number;
  /** 'series-scored' → the worklist row read back with state 'scored'. */
  worklistSeconds: number;
  /**
   * Last file copied → the study ranked by its final run (the ranking family's networks done,
   * 'series-ranked'); null when no network was left to run after them.
   */
  rankedSeconds: number | null;
  /** First file copied → the first provisional score (slices still arriving); null if none came. */
  firstProvisionalSeconds: number | null;
  /**
   * Last file copied → the worklist ranks the study by a score from every one of its slices,
   * provisional (the series still within its settle wait) or final, whichever comes first.
   */
  rankedFromAllSlicesSeconds: number | null;
  totalSeconds: number;
  rssAfterLoadBytes: number | null;
  peakRssBytes: number | null;
  memoryUsage: NodeJS.MemoryUsage;
  studyUid: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);
const BENCH_SCANNER_AE = 'BENCH_CT';

async function main(inp: E2eInput): Promise<E2eOutput> {
  const importDir = join(inp.workDir, 'import');
  await mkdir(importDir, { recursive: true });
  const t0 = performance.now();
  // The workstation as the app composes it (core, models, watcher, API), on the CPU provider.
  const ws = await startWorkstation({
    dataDir: join(inp.workDir, 'data'),
    modelsDir: inp.modelsDir,
    cuda: false,
    core: { settleMs: inp.settleMs, stableMs: inp.stableMs },
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const core = ws.core;
  if (!ws.modelsLoaded) throw new Error('no model loaded');
  const modelLoadSeconds = (performance.now() - t0) / 1000;
  const states = core.store.settings.get<{ models: ModelState[] }>(MODEL_STATES_SETTING)?.models ?? [];
  const modelsLoaded = states.filter((s) => s.status === 'loaded').map((s) => s.modelId);
  const rssAfterLoadBytes = procStatusBytes('self', 'VmHWM') ?? null;

  let stored = 0;
  let lastStoredAt = 0;
  let readyAt = 0;
  let scoredAt = 0;
  let rankedAt = 0;
  let firstProvisionalAt = 0;
  let allSlicesRankedAt = 0;
  let lastCopiedAt = 0;
  let seriesUid: string | undefined;
  // A ranking score from every slice: a provisional one that covers them all, or a final one
  // (made after the series settled, so from all of its slices).
  const coversAll = () =>
    core.worklist().some((r) => r.score !== null && (r.provisionalSlices === null ? readyAt > 0 : r.provisionalSlices >= inp.files.length));
  core.on((e: CoreEvent) => {
    const now = performance.now();
    if (process.env.TRIAGE_BENCH_TRACE) process.stderr.write(`${((now - t0) / 1000).toFixed(2)} ${e.type} ${e.type === 'series-scoring' ? JSON.stringify(e.progress) : ''}\n`);
    if (e.type === 'file') {
      if (e.outcome.outcome === 'stored') stored++;
      lastStoredAt = now;
    } else if (e.type === 'series-ready') {
      readyAt = now;
      seriesUid = e.seriesUid;
    } else if (e.type === 'series-scored') {
      scoredAt = now;
    } else if (e.type === 'series-ranked' && readyAt && !rankedAt) {
      rankedAt = now;
    } else if ((e.type === 'series-provisional' || e.type === 'series-ranked') && !readyAt && !firstProvisionalAt) {
      firstProvisionalAt = now;
    }
    if ((e.type === 'series-provisional' || e.type === 'series-ranked' || e.type === 'series-scored') && lastCopiedAt && !allSlicesRankedAt && coversAll()) {
      allSlicesRankedAt = now;
    }
  });
  let deliver: (file: string) => Promise<unknown>;
  let storescuArgs: string[] = [];
  if (inp.arrival === 'dicom' || inp.arrival === 'dicom-association') {
    const receiver = await core.listen({ port: 0, aeTitle: 'ICH_TRIAGE', allowedCallingAeTitles: [BENCH_SCANNER_AE], host: '127.0.0.1' });
    storescuArgs = ['-aet', BENCH_SCANNER_AE, '-aec', 'ICH_TRIAGE', '127.0.0.1', String(receiver.port)];
    deliver = (f) => run('storescu', [...storescuArgs, f]);
  } else {
    ws.startWatch(importDir);
    await sleep(1000); // the watcher's initial scan of the empty folder
    deliver = (f) => copyFile(f, join(importDir, basename(f)));
  }

  const copyStart = performance.now();
  // As a PACS push or a copy tool delivers them (one after another, as fast as the disk takes
  // them), or as a scanner does: each slice at its time on the clock. The clock of "after the last
  // slice" starts when the last copy returned, or when the last C-STORE began: the receiver
  // acknowledges an instance once it is stored, so storing it counts against the app.
  const gapMs = inp.paceSlicesPerSecond ? 1000 / inp.paceSlicesPerSecond : 0;
  if (inp.arrival === 'dicom-association') {
    // One association: storescu stores every file, then releases; the release is "sent".
    await run('storescu', [...storescuArgs, ...inp.files]);
  } else {
    for (const [i, f] of inp.files.entries()) {
      const due = copyStart + i * gapMs;
      if (gapMs && performance.now() < due) await sleep(due - performance.now());
      if (inp.arrival === 'dicom' && i === inp.files.length - 1) lastCopiedAt = performance.now();
      await deliver(f);
    }
  }
  if (inp.arrival !== 'dicom') lastCopiedAt = performance.now();

  const deadline = lastCopiedAt + inp.timeoutMs;
  while (!scoredAt && performance.now() < deadline) await sleep(5);
  if (!scoredAt) throw new Error(`no 'series-scored' within ${inp.timeoutMs / 1000} s (${stored} of ${inp.files.length} files stored)`);
  let row = core.worklist().find((r) => r.state === 'scored');
  while (!row && performance.now() < deadline) {
    await sleep(5);
    row = core.worklist().find((r) => r.state === 'scored');
  }
  const rowAt = performance.now();
  if (!row) throw new Error('the series was scored but no worklist row shows it scored');

  const out: E2eOutput = {
    slices: stored,
    modelsLoaded,
    modelLoadSeconds,
    copySeconds: (lastCopiedAt - copyStart) / 1000,
    stabilityAndIngestSeconds: (lastStoredAt - lastCopiedAt) / 1000,
    settleSeconds: (readyAt - lastStoredAt) / 1000,
    inferenceSeconds: (scoredAt - readyAt) / 1000,
    worklistSeconds: (rowAt - scoredAt) / 1000,
    totalSeconds: (rowAt - lastCopiedAt) / 1000,
    rankedSeconds: rankedAt ? (rankedAt - lastCopiedAt) / 1000 : null,
    firstProvisionalSeconds: firstProvisionalAt ? (firstProvisionalAt - copyStart) / 1000 : null,
    rankedFromAllSlicesSeconds: allSlicesRankedAt ? (allSlicesRankedAt - lastCopiedAt) / 1000 : null,
    rssAfterLoadBytes,
    peakRssBytes: procStatusBytes('self', 'VmHWM') ?? null,
    memoryUsage: process.memoryUsage(),
    studyUid: row.studyUid,
  };
  if (!seriesUid) throw new Error('no series-ready event');
  await ws.stop();
  return out;
}

const input = JSON.parse(process.argv[2] ?? '{}') as E2eInput;
process.stdout.write(`${JSON.stringify(await main(input))}\n`);
