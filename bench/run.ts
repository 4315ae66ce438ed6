/**
 * `npm run bench -- --out results.json [--md table.md] [--quick] [--threads N] [--mem-limit-gb 12]`
 *
 * How long from the last slice landing to the study on the worklist, on this PC, and what drives
 * it — measured in one run, every figure next to the baseline it is compared with:
 *
 *   models     onnxruntime-node (the app's session options) vs PyTorch on the same fp16-rounded
 *              weights, same threads, batch 1/8/16: ms per slice, slices/s, peak RSS per
 *              configuration (own process each), FLOPs per slice (bench/flops.py) and the fraction
 *              of the machine's measured fp32 MatMul peak; onnxruntime's profiler per operator type
 *   end to end compose() + OnnxSeriesScorer + watch: last file copied → worklist row 'scored',
 *              split into the configured waits and the compute (bench/e2e-child.ts)
 *   decode     the app's readSlice vs pydicom + numpy on the same files
 *   worklist   the store's worklist query on 100,000 studies in a database with the app's schema,
 *              on SQLite and on PostgreSQL (a throwaway cluster of the bench's own, bench/postgres.ts)
 *   reviews    on PostgreSQL, a review recorded on one workstation until another shows it, as the
 *              app's API polls for it (bench/review-propagation.ts)
 *   memory     peak RSS of the process hosting the core and the inference worker, models loaded
 *
 * Prints a markdown table and writes the JSON. Nothing here is a test or runs in CI; --quick is a
 * smoke check of about a minute (batch 1 only, a small study, fewer repetitions and rows).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_EXTERNAL_POLL_MS } from '../src/main/api/index.js';
import { DEFAULT_RELEASE_SETTLE_MS, DEFAULT_SETTLE_MS } from '../src/main/assemble/index.js';
import { DEFAULT_STABLE_MS } from '../src/main/watch/index.js';
import { loadManifest, graphFor, DEFAULT_MODELS_DIR } from '../src/main/inference/index.js';
import { benchDecode } from './decode.js';
import type { HuSlice } from '../src/main/dicom/index.js';
import type { E2eInput, E2eOutput } from './e2e-child.js';
import { machineInfo } from './machine.js';
import type { MatmulChildInput, MatmulChildOutput, ModelChildInput, ModelChildOutput } from './ort-child.js';
import { benchPostgres } from './postgres.js';
import { PYTHON, PYTHON_ENV, REPO_ROOT, gb, runJsonChild, runPython, runTsChild, type ChildResult } from './proc.js';
import { renderMarkdown } from './report.js';
import type { BenchResults, ModelBench, RuntimeFigures, ScannerPaceRun, Skipped } from './results.js';
import { median } from './stats.js';
import { benchWorklist } from './worklist.js';
import { z } from 'zod';

/** The manifest's record of an adopted int8 file (models/training/onnx_export.py), as far as the bench reports it. */
const Int8Record = z.object({
  meanAucFloat: z.number(),
  meanAucInt8: z.number(),
  heldOut: z.object({ slices: z.number(), seed: z.number() }).passthrough(),
  alsoHeldOut: z.array(z.object({ pool: z.string(), slices: z.number(), meanAucFloat: z.number(), meanAucInt8: z.number() })).optional(),
});

/** The watch stage's default stability wait (src/main/watch/index.ts; not exported there). */

interface Settings {
  quick: boolean;
  threads: number;
  memLimitBytes: number;
  batches: number[];
  slices: number;
  targetSeconds: number;
  maxReps: number;
  profileRuns: number;
  matmulSizes: number[];
  decodeReps: number;
  /** Rounds of the app's reader and pydicom, alternating which goes first. */
  decodeRounds: number;
  worklistRows: number;
  worklistReps: { limited: number; full: number };
  /** Reviews timed from one workstation to another, each way of looking (bench/review-propagation.ts). */
  propagationReviews: number;
  settleMs: number;
  stableMs: number;
  /** The second end-to-end run: slices arriving at this pace, at the app's default waits. */
  scannerSlicesPerSecond: number;
  childTimeoutMs: number;
}

function settingsFrom(quick: boolean, threads: number, memLimitGb: number): Settings {
  return {
    quick,
    threads,
    memLimitBytes: memLimitGb * 1e9,
    batches: quick ? [1] : [1, 8, 16],
    slices: quick ? 8 : 40,
    targetSeconds: quick ? 1 : 5,
    maxReps: quick ? 3 : 10,
    profileRuns: quick ? 1 : 3,
    matmulSizes: quick ? [2048] : [2048, 4096],
    decodeReps: quick ? 3 : 10,
    decodeRounds: quick ? 2 : 6,
    worklistRows: quick ? 5_000 : 100_000,
    worklistReps: quick ? { limited: 5, full: 3 } : { limited: 30, full: 10 },
    propagationReviews: quick ? 5 : 20,
    settleMs: 1000,
    stableMs: 500,
    scannerSlicesPerSecond: 10,
    childTimeoutMs: quick ? 180_000 : 600_000,
  };
}

const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function need<T>(r: ChildResult<T>, what: string): T {
  if (!r.ok || r.value === undefined) throw new Error(`${what} failed: ${r.reason ?? 'no result'}`);
  return r.value;
}

function figures(
  runSeconds: number[],
  batch: number,
  peakRssBytes: number | null,
  loadSeconds: number,
  othersCpuShare: number | null,
): RuntimeFigures {
  const perRun = median(runSeconds);
  return {
    msPerSlice: (perRun * 1000) / batch,
    slicesPerSecond: batch / perRun,
    runs: runSeconds.length,
    runSeconds,
    peakRssBytes,
    loadSeconds,
    othersCpuShare,
  };
}

/** Peak RSS at a larger batch, extrapolated linearly from two smaller ones; undefined if unknown. */
function predictedPeak(rows: ModelBench['configurations'], runtime: 'onnxruntime' | 'pytorch', batch: number): number | undefined {
  const known = rows
    .map((r) => ({ batch: r.batch, rss: (r[runtime] as RuntimeFigures | Skipped).peakRssBytes }))
    .filter((k): k is { batch: number; rss: number } => typeof k.rss === 'number')
    .sort((a, b) => a.batch - b.batch);
  if (known.length < 2) return undefined;
  const a = known.at(-2)!;
  const b = known.at(-1)!;
  return b.rss + ((b.rss - a.rss) / (b.batch - a.batch)) * (batch - b.batch);
}

async function benchModel(
  s: Settings,
  modelId: string,
  path: string,
  floatPath: string | null,
  /** The shipped float file PyTorch reads its weights from; null where the network ships int8 only. */
  torchPath: string | null,
  flops: number | null,
  io: { huFile: string; windowFile: string; profileDir: string },
): Promise<ModelBench> {
  const out: ModelBench = { id: modelId, path: relative(REPO_ROOT, path), flopsPerSlice: flops, configurations: [], profile: null };
  const opts = { memLimitBytes: s.memLimitBytes, timeoutMs: s.childTimeoutMs };
  for (const batch of s.batches) {
    const row: ModelBench['configurations'][number] = {
      batch,
      onnxruntime: { skipped: 'not run', peakRssBytes: null },
      pytorch: { skipped: 'not run', peakRssBytes: null },
      ortTimeOverPytorchTime: null,
      fractionOfPeak: null,
    };
    for (const runtime of ['onnxruntime', 'pytorch'] as const) {
      const predicted = predictedPeak(out.configurations, runtime, batch);
      if (predicted !== undefined && predicted > s.memLimitBytes) {
        row[runtime] = {
          skipped: `predicted peak RSS ${gb(predicted)} GB (linear in batch from the two smaller batches) is over the ${gb(s.memLimitBytes)} GB ceiling`,
          peakRssBytes: null,
        };
        log(`${modelId} batch ${batch} ${runtime}: skipped (${row[runtime].skipped})`);
        continue;
      }
      log(`${modelId} batch ${batch} ${runtime}…`);
      const minReps = batch === 1 ? (s.quick ? 1 : 3) : 1;
      const warmup = batch === 1 && !s.quick ? 2 : 1;
      const ortInput = (file: string, profile: boolean): ModelChildInput => ({
        mode: 'model',
        modelId,
        path: file,
        batch,
        threads: s.threads,
        huFile: io.huFile,
        windowFile: io.windowFile,
        warmup,
        minReps,
        maxReps: s.maxReps,
        targetSeconds: s.targetSeconds,
        ...(profile ? { profileDir: io.profileDir, profileRuns: s.profileRuns } : {}),
      });
      if (runtime === 'onnxruntime') {
        const r = await runTsChild<ModelChildOutput>('bench/ort-child.ts', ortInput(path, batch === 1), opts);
        if (r.ok && r.value) {
          row.onnxruntime = figures(r.value.runSeconds, batch, r.value.peakRssBytes, r.value.loadSeconds, r.othersCpuShare);
          if (r.value.profile) out.profile = { batch: 1, ...r.value.profile, operators: r.value.profile.operators.slice(0, 12) };
        } else {
          row.onnxruntime = { skipped: r.reason ?? 'failed', peakRssBytes: r.polledPeakRssBytes || null };
        }
        if (floatPath && floatPath !== path) {
          // int8 on the CPU: its float file (shipped, or the int8 one dequantised) right after, same
          // batch and threads, so that the ratio compares the two files under the same machine load.
          log(`${modelId} batch ${batch} onnxruntime, float file…`);
          const f = await runTsChild<ModelChildOutput>('bench/ort-child.ts', ortInput(floatPath, false), opts);
          row.onnxruntimeFloat =
            f.ok && f.value
              ? figures(f.value.runSeconds, batch, f.value.peakRssBytes, f.value.loadSeconds, f.othersCpuShare)
              : { skipped: f.reason ?? 'failed', peakRssBytes: f.polledPeakRssBytes || null };
          row.int8Speedup =
            'msPerSlice' in row.onnxruntimeFloat && 'msPerSlice' in row.onnxruntime
              ? row.onnxruntimeFloat.msPerSlice / row.onnxruntime.msPerSlice
              : null;
        }
      } else if (!torchPath) {
        row.pytorch = { skipped: 'no float file shipped (the int8 file is the only one; PyTorch reads its weights from a float file)', peakRssBytes: null };
      } else {
        const r = await runPython<{ runSeconds: number[]; peakRssBytes: number | null; loadSeconds: number }>(
          'bench/torch_bench.py',
          [
            'model', '--model', modelId, '--onnx', torchPath, '--batch', String(batch), '--threads', String(s.threads),
            '--hu', io.huFile, '--window', io.windowFile, '--warmup', String(warmup), '--min-reps', String(minReps),
            '--max-reps', String(s.maxReps), '--target-seconds', String(s.targetSeconds),
          ],
          opts,
        );
        row.pytorch =
          r.ok && r.value
            ? figures(r.value.runSeconds, batch, r.value.peakRssBytes, r.value.loadSeconds, r.othersCpuShare)
            : { skipped: r.reason ?? 'failed', peakRssBytes: r.polledPeakRssBytes || null };
      }
    }
    if ('msPerSlice' in row.onnxruntime && 'msPerSlice' in row.pytorch) {
      row.ortTimeOverPytorchTime = row.onnxruntime.msPerSlice / row.pytorch.msPerSlice;
    }
    out.configurations.push(row);
  }
  return out;
}

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      md: { type: 'string' },
      quick: { type: 'boolean', default: false },
      threads: { type: 'string' },
      'mem-limit-gb': { type: 'string', default: '12' },
      'keep-work': { type: 'boolean', default: false },
      models: { type: 'string' },
      batches: { type: 'string' },
      slices: { type: 'string' },
      render: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--out results.json] [--md table.md] [--quick] [--threads N] [--mem-limit-gb 12]\n' +
        '                        [--models id,id] [--batches 1,8,16] [--slices 40] [--keep-work]\n' +
        '       npm run bench -- --render results.json [--md table.md]   (the table again, measuring nothing)\n',
    );
    return 0;
  }
  if (values.render) {
    // The table again from a results JSON, measuring nothing (e.g. after the renderer changed).
    const md = renderMarkdown(JSON.parse(readFileSync(resolve(values.render), 'utf8')) as BenchResults);
    process.stdout.write(`${md}\n`);
    if (values.md) writeFileSync(resolve(values.md), md);
    return 0;
  }
  const threads = values.threads ? Number(values.threads) : availableParallelism();
  const s = settingsFrom(values.quick, threads, Number(values['mem-limit-gb']));
  // Narrowing for development; a committed table is a run without these.
  if (values.batches) s.batches = values.batches.split(',').map(Number);
  if (values.slices) s.slices = Number(values.slices);
  const onlyModels = values.models?.split(',');
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const work = mkdtempSync(join(tmpdir(), 'ich-bench-'));
  log(`work folder ${work}; ${s.quick ? 'quick' : 'full'} run, ${threads} thread(s), load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  // The ceiling is for the model configurations; the helper steps (FLOP count, MatMul, phantom,
  // decode) are small and bounded, and are only stopped if something runs away.
  const opts = { memLimitBytes: Math.max(s.memLimitBytes, 16e9), timeoutMs: s.childTimeoutMs };
  try {
    machine.python = need(await runPython<Record<string, unknown>>('bench/torch_bench.py', ['info'], opts), 'python info');

    // One phantom study: the same files feed the decode, the model inputs and the end to end run.
    log(`phantom study of ${s.slices} slices…`);
    const phantomDir = join(work, 'phantom');
    need(
      await runJsonChild(
        PYTHON,
        ['-m', 'models.phantom', 'generate', '--studies', '1', '--seed', '11', '--out', phantomDir,
          '--slices-min', String(s.slices), '--slices-max', String(s.slices), '--workers', '1'],
        opts,
        PYTHON_ENV,
      ),
      'phantom generation',
    );
    const studyDir = join(phantomDir, 'study_00000');
    const files = readdirSync(studyDir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(studyDir, f));

    // Each reader's passes last about a second: timed one after the other once, a burst from
    // another tenant of a shared machine decides the ratio. So the two alternate over several
    // rounds, the order swapped each round, and the ratio is the median of the rounds' ratios.
    log(`DICOM decode: app reader and pydicom, ${s.decodeRounds} rounds in alternating order…`);
    const appPasses: number[] = [];
    const pyPasses: number[] = [];
    const roundRatios: number[] = [];
    let slices: HuSlice[] = [];
    let pydicomVersion = '';
    for (let round = 0; round < s.decodeRounds; round++) {
      let appRound = 0;
      let pyRound = 0;
      const app = async () => {
        const r = await benchDecode(files, s.decodeReps);
        if (!slices.length) slices = r.slices;
        appPasses.push(...r.result.passSeconds);
        appRound = r.result.slices / median(r.result.passSeconds);
      };
      const py = async () => {
        const r = need(
          await runPython<{ slices: number; passSeconds: number[]; pydicom: string }>(
            'bench/torch_bench.py', ['decode', '--dir', studyDir, '--reps', String(s.decodeReps)], opts,
          ),
          'pydicom decode',
        );
        pyPasses.push(...r.passSeconds);
        pydicomVersion = r.pydicom;
        pyRound = r.slices / median(r.passSeconds);
      };
      for (const step of round % 2 ? [py, app] : [app, py]) await step();
      roundRatios.push(appRound / pyRound);
    }
    const appRate = files.length / median(appPasses);
    const pyRate = files.length / median(pyPasses);

    // Model inputs: real phantom HU slices and their windows, as raw float32 (dicom_to_raw format).
    const inputSlices = slices.slice(0, 16);
    const hu = new Float32Array(inputSlices.length * 512 * 512);
    const win = new Float32Array(inputSlices.length * 2);
    inputSlices.forEach((sl, k) => {
      hu.set(sl.hu, k * 512 * 512);
      win[k * 2] = sl.window.center;
      win[k * 2 + 1] = sl.window.width;
    });
    const io = { huFile: join(work, 'hu.f32'), windowFile: join(work, 'window.f32'), profileDir: join(work, 'profiles') };
    writeFileSync(io.huFile, hu);
    writeFileSync(io.windowFile, win);

    // The float run's models: each network's CPU file in float, where the app runs int8
    // (bench/float_models.py), so that int8's gain is measured per network and end to end.
    log('float models for the float run (an int8-only network dequantised)…');
    const floatModelsDir = join(work, 'float-models');
    const floatModels = need(
      await runPython<Record<string, { path: string; source: string }>>('bench/float_models.py', ['--models-dir', DEFAULT_MODELS_DIR, '--out', floatModelsDir], opts),
      'float models',
    );

    log('FLOPs per slice (forward hooks)…');
    const flops = need(await runPython<Record<string, { total: number; conv: number; linear: number; lstm: number }>>('bench/flops.py', [], opts), 'FLOP count');

    // The peak is measured before and after the models, at two sizes, and the highest figure is
    // used, so neither a moment of contention from other processes nor one size's cache
    // behaviour deflates it.
    const peakSamples: BenchResults['peak']['samples'] = [];
    for (const n of s.matmulSizes) {
      need(await runPython('bench/torch_bench.py', ['matmul-onnx', '--n', String(n), '--out', join(work, `matmul-${n}.onnx`)], opts), 'matmul graph');
    }
    const measurePeak = async (when: string, sizes = s.matmulSizes) => {
      for (const n of sizes) {
        log(`fp32 MatMul peak (${n}², ${threads} thread(s)): PyTorch, then onnxruntime…`);
        const t = await runPython<{ gflops: number }>('bench/torch_bench.py', ['matmul', '--threads', String(threads), '--n', String(n), '--reps', '3'], opts);
        const torchPeak = need(t, 'torch matmul');
        const mmInput: MatmulChildInput = { mode: 'matmul', path: join(work, `matmul-${n}.onnx`), n, reps: 3, threads };
        const o = await runTsChild<MatmulChildOutput>('bench/ort-child.ts', mmInput, opts);
        const ortPeak = need(o, 'onnxruntime matmul');
        const others = [t.othersCpuShare, o.othersCpuShare].filter((x): x is number => x !== null);
        peakSamples.push({ n, when, torch: torchPeak.gflops, onnxruntime: ortPeak.gflops, othersCpuShare: others.length ? Math.max(...others) : null });
      }
    };
    await measurePeak('before');

    const manifest = loadManifest(DEFAULT_MODELS_DIR);
    const models: ModelBench[] = [];
    for (const m of manifest.models.filter((x) => !onlyModels || onlyModels.includes(x.id))) {
      // A sample before each model too: the more moments the peak is taken at, the less one
      // stretch of contention from other processes can deflate it.
      if (!s.quick) await measurePeak(`before ${m.id}`, [s.matmulSizes[0]!]);
      // onnxruntime runs the file the app runs on the CPU (int8 where adopted); PyTorch reads its
      // weights back from a float file, so it runs only where one is shipped.
      const cpuGraph = graphFor(m, 'cpu') ?? m.files[0]!;
      const floatGraph = m.files.find((f) => (f.role ?? 'model') === 'model' && f.path.endsWith('.onnx') && f.precision !== 'int8');
      const path = resolve(DEFAULT_MODELS_DIR, cpuGraph.path);
      const shippedFloat = floatGraph ? resolve(DEFAULT_MODELS_DIR, floatGraph.path) : null;
      const dequantised = cpuGraph.precision === 'int8' && !shippedFloat ? floatModels[m.id] : undefined;
      const floatPath = shippedFloat ?? (dequantised ? resolve(floatModelsDir, dequantised.path) : null);
      const bench = await benchModel(s, m.id, path, floatPath, shippedFloat, flops[m.id]?.total ?? null, io);
      if (cpuGraph.precision === 'int8' && floatPath) {
        bench.floatFile = shippedFloat
          ? { path: relative(REPO_ROOT, shippedFloat), source: 'the shipped float file' }
          : { path: `(the bench's work folder) float-models/${dequantised!.path}`, source: dequantised!.source };
      }
      const int8 = Int8Record.safeParse((m as Record<string, unknown>)['int8']);
      if (int8.success) {
        bench.int8Accuracy = [
          { pool: `seed ${int8.data.heldOut.seed} (phantoms)`, slices: int8.data.heldOut.slices, meanAucFloat: int8.data.meanAucFloat, meanAucInt8: int8.data.meanAucInt8 },
          ...(int8.data.alsoHeldOut ?? []).map((a) => ({ pool: a.pool, slices: a.slices, meanAucFloat: a.meanAucFloat, meanAucInt8: a.meanAucInt8 })),
        ];
      }
      models.push(bench);
    }
    await measurePeak('after');
    const torchBest = Math.max(...peakSamples.map((p) => p.torch));
    const ortBest = Math.max(...peakSamples.map((p) => p.onnxruntime));
    const peakGflops = Math.max(torchBest, ortBest);
    // Fractions of peak once every peak sample is in.
    for (const model of models) {
      for (const c of model.configurations) {
        if (model.flopsPerSlice === null) continue;
        if ('slicesPerSecond' in c.onnxruntime) c.fractionOfPeak = (model.flopsPerSlice * c.onnxruntime.slicesPerSecond) / (peakGflops * 1e9);
        if ('slicesPerSecond' in c.pytorch) c.pytorchFractionOfPeak = (model.flopsPerSlice * c.pytorch.slicesPerSecond) / (peakGflops * 1e9);
      }
    }

    log(`end to end: ${files.length} slices into a watched folder, all models on CPU…`);
    const e2eInput: E2eInput = {
      files,
      workDir: join(work, 'e2e'),
      settleMs: s.settleMs,
      stableMs: s.stableMs,
      timeoutMs: s.childTimeoutMs - 60_000,
    };
    const e2eRun = await runTsChild<E2eOutput>('bench/e2e-child.ts', e2eInput, opts);
    const e2e = need(e2eRun, 'end to end');
    const waits = (s.settleMs + s.stableMs) / 1000;
    const compute = e2e.totalSeconds - waits;
    const scale = 40 / e2e.slices;

    // As a scanner sends a study, and with the waits the app ships with: what a reading room sees.
    log(`end to end at a scanner's pace: ${files.length} slices at ${s.scannerSlicesPerSecond} a second, the app's default waits…`);
    const pacedRun = await runTsChild<E2eOutput>(
      'bench/e2e-child.ts',
      { ...e2eInput, workDir: join(work, 'e2e-paced'), settleMs: DEFAULT_SETTLE_MS, stableMs: DEFAULT_STABLE_MS, paceSlicesPerSecond: s.scannerSlicesPerSecond },
      opts,
    );
    const paced = need(pacedRun, 'end to end at a scanner\'s pace');
    // A scanner sends over DICOM: the receiver stores each instance as it comes, no stability wait.
    log(`end to end at a scanner's pace over DICOM: ${files.length} slices at ${s.scannerSlicesPerSecond} a second to the receiver…`);
    const pacedDicomRun = await runTsChild<E2eOutput>(
      'bench/e2e-child.ts',
      { ...e2eInput, workDir: join(work, 'e2e-paced-dicom'), settleMs: DEFAULT_SETTLE_MS, stableMs: DEFAULT_STABLE_MS, paceSlicesPerSecond: s.scannerSlicesPerSecond, arrival: 'dicom' },
      opts,
    );
    const pacedDicom = need(pacedDicomRun, 'end to end at a scanner\'s pace over DICOM');
    // A PACS forward or a scanner's transfer of a finished series: one association, then released.
    log(`end to end over DICOM in one association: ${files.length} slices pushed to the receiver, then released…`);
    const pushedDicomRun = await runTsChild<E2eOutput>(
      'bench/e2e-child.ts',
      { ...e2eInput, workDir: join(work, 'e2e-pushed-dicom'), settleMs: DEFAULT_SETTLE_MS, stableMs: DEFAULT_STABLE_MS, arrival: 'dicom-association' },
      opts,
    );
    const pushedDicom = need(pushedDicomRun, 'end to end over DICOM in one association');
    // The same two runs with every network's CPU file in float: what int8 saves, end to end.
    log('end to end in float: the study copied at once, then at a scanner\'s pace over DICOM…');
    const floatE2eRun = await runTsChild<E2eOutput>('bench/e2e-child.ts', { ...e2eInput, workDir: join(work, 'e2e-float'), modelsDir: floatModelsDir }, opts);
    const floatE2e = need(floatE2eRun, 'end to end in float');
    const floatPacedDicomRun = await runTsChild<E2eOutput>(
      'bench/e2e-child.ts',
      { ...e2eInput, workDir: join(work, 'e2e-float-paced-dicom'), modelsDir: floatModelsDir, settleMs: DEFAULT_SETTLE_MS, stableMs: DEFAULT_STABLE_MS, paceSlicesPerSecond: s.scannerSlicesPerSecond, arrival: 'dicom' },
      opts,
    );
    const floatPacedDicom = need(floatPacedDicomRun, 'end to end in float at a scanner\'s pace over DICOM');
    const floatPushedDicomRun = await runTsChild<E2eOutput>(
      'bench/e2e-child.ts',
      { ...e2eInput, workDir: join(work, 'e2e-float-pushed-dicom'), modelsDir: floatModelsDir, settleMs: DEFAULT_SETTLE_MS, stableMs: DEFAULT_STABLE_MS, arrival: 'dicom-association' },
      opts,
    );
    const floatPushedDicom = need(floatPushedDicomRun, 'end to end in float over DICOM in one association');
    const paceFigures = (run: E2eOutput, arrival: NonNullable<ScannerPaceRun['arrival']>, others: number | null): ScannerPaceRun => ({
      arrival,
      slices: run.slices,
      slicesPerSecond: arrival === 'dicom-association' ? null : s.scannerSlicesPerSecond,
      arrivalSeconds: run.copySeconds,
      settleMs: DEFAULT_SETTLE_MS,
      stableMs: DEFAULT_STABLE_MS,
      ...(arrival === 'folder' ? {} : { releaseSettleMs: DEFAULT_RELEASE_SETTLE_MS }),
      firstProvisionalSeconds: run.firstProvisionalSeconds,
      rankedFromAllSlicesSeconds: run.rankedFromAllSlicesSeconds,
      finalRankedSeconds: run.rankedSeconds,
      scoredSeconds: run.totalSeconds,
      othersCpuShare: others,
    });

    log(`worklist query on ${s.worklistRows.toLocaleString('en')} studies…`);
    const worklist = benchWorklist({ backend: 'sqlite', dataDir: join(work, 'worklist') }, s.worklistRows, s.worklistReps);
    const postgres = await benchPostgres(s.worklistRows, s.worklistReps, s.propagationReviews, DEFAULT_EXTERNAL_POLL_MS, log);

    machine.loadAverageAtEnd = loadavg();
    const results: BenchResults = {
      schemaVersion: 1,
      command: `npm run bench -- ${argv.join(' ')}`.trim(),
      startedAt,
      finishedAt: new Date().toISOString(),
      quick: s.quick,
      threads,
      memLimitBytes: s.memLimitBytes,
      machine,
      endToEnd: {
        slices: e2e.slices,
        secondsPer40SliceStudy: e2e.slices === 40 ? e2e.totalSeconds : waits + compute * scale,
        extrapolatedFromSlices: e2e.slices === 40 ? null : e2e.slices,
        measuredSeconds: e2e.totalSeconds,
        settleMs: s.settleMs,
        stableMs: s.stableMs,
        waitsSeconds: waits,
        computeSeconds: compute,
        breakdown: {
          stabilityAndIngestSeconds: e2e.stabilityAndIngestSeconds,
          settleSeconds: e2e.settleSeconds,
          inferenceSeconds: e2e.inferenceSeconds,
          worklistSeconds: e2e.worklistSeconds,
        },
        inferenceSecondsPerSlice: e2e.inferenceSeconds / e2e.slices,
        rankedSeconds: e2e.rankedSeconds,
        firstProvisionalSeconds: e2e.firstProvisionalSeconds,
        modelsLoaded: e2e.modelsLoaded,
        modelLoadSeconds: e2e.modelLoadSeconds,
        othersCpuShare: e2eRun.othersCpuShare,
        appDefaultWaits: { settleMs: DEFAULT_SETTLE_MS, stableMs: DEFAULT_STABLE_MS },
        estimatedSecondsPer40SliceStudyAtAppDefaultWaits:
          (DEFAULT_SETTLE_MS + DEFAULT_STABLE_MS) / 1000 + compute * (e2e.slices === 40 ? 1 : scale),
        rankedFromAllSlicesSeconds: e2e.rankedFromAllSlicesSeconds,
      },
      scannerPace: paceFigures(paced, 'folder', pacedRun.othersCpuShare),
      scannerPaceDicom: paceFigures(pacedDicom, 'dicom', pacedDicomRun.othersCpuShare),
      pushedDicom: paceFigures(pushedDicom, 'dicom-association', pushedDicomRun.othersCpuShare),
      floatRun: {
        models: floatModels,
        copiedAtOnce: {
          measuredSeconds: floatE2e.totalSeconds,
          computeSeconds: floatE2e.totalSeconds - waits,
          inferenceSeconds: floatE2e.inferenceSeconds,
          rankedSeconds: floatE2e.rankedSeconds,
          rankedFromAllSlicesSeconds: floatE2e.rankedFromAllSlicesSeconds,
          peakRssBytes: floatE2e.peakRssBytes,
          othersCpuShare: floatE2eRun.othersCpuShare,
        },
        scannerPaceDicom: paceFigures(floatPacedDicom, 'dicom', floatPacedDicomRun.othersCpuShare),
        pushedDicom: paceFigures(floatPushedDicom, 'dicom-association', floatPushedDicomRun.othersCpuShare),
      },
      memory: {
        peakRssBytes: e2e.peakRssBytes,
        rssAfterModelLoadBytes: e2e.rssAfterLoadBytes,
        memoryUsageAtEnd: e2e.memoryUsage,
        what: 'VmHWM of the process hosting the core and its inference worker thread, all models loaded, after scoring one study with the app\'s batch sizes',
      },
      peak: { torchMatmulGflops: torchBest, onnxruntimeMatmulGflops: ortBest, matmulSizes: s.matmulSizes, usedGflops: peakGflops, samples: peakSamples },
      pythonEnv: { OMP_WAIT_POLICY: PYTHON_ENV.OMP_WAIT_POLICY ?? null },
      flops,
      models,
      decode: {
        slices: files.length,
        app: { slicesPerSecond: appRate, passSeconds: appPasses },
        pydicom: { slicesPerSecond: pyRate, passSeconds: pyPasses, version: pydicomVersion },
        appOverPydicomSpeed: median(roundRatios),
        roundRatios,
      },
      worklist,
      postgres,
    };
    const md = renderMarkdown(results);
    process.stdout.write(`${md}\n`);
    if (values.out) {
      mkdirSync(dirname(resolve(values.out)), { recursive: true });
      writeFileSync(resolve(values.out), `${JSON.stringify(results, null, 2)}\n`);
      log(`wrote ${resolve(values.out)}`);
    }
    if (values.md) {
      writeFileSync(resolve(values.md), md);
      log(`wrote ${resolve(values.md)}`);
    }
    return 0;
  } catch (err) {
    log(`failed: ${(err as Error).message}`);
    return 1;
  } finally {
    if (values['keep-work']) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}
