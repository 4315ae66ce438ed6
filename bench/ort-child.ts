/**
 * One onnxruntime-node measurement in its own process (started by bench/run.ts through proc.ts).
 *
 * Input (argv[2], JSON): a model run — ONNX path, batch size, threads, the raw HU/window files —
 * optionally followed by a profiled run at batch 1; or a square MatMul for the machine's peak as
 * onnxruntime sees it. Output (stdout, one JSON line): run times, this process's peak RSS (VmHWM)
 * after the timed runs and before any profiling, and the per-operator profile summary.
 */
import '../src/main/inference/offline.js'; // before onnxruntime-node: telemetry off
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { summariseProfile, type ProfileEvent, type ProfileSummary } from './profile.js';
import { procStatusBytes } from './proc.js';
import { sessionOptions } from '../src/main/inference/session-options.js';

export interface ModelChildInput {
  mode: 'model';
  modelId: string;
  path: string;
  batch: number;
  threads: number;
  huFile: string;
  windowFile: string;
  warmup: number;
  minReps: number;
  maxReps: number;
  targetSeconds: number;
  /** When set, a second session with the profiler runs `profileRuns` batch-1 runs after a warm-up. */
  profileDir?: string;
  profileRuns?: number;
}

export interface MatmulChildInput {
  mode: 'matmul';
  path: string;
  n: number;
  reps: number;
  threads: number;
}

export interface ModelChildOutput {
  loadSeconds: number;
  runSeconds: number[];
  peakRssBytes: number | null;
  profile?: ProfileSummary;
}

export interface MatmulChildOutput {
  bestSeconds: number;
  gflops: number;
}

function batchInputs(inp: ModelChildInput, batch: number): Record<string, ort.Tensor> {
  const px = 512 * 512;
  const huAll = new Float32Array(readFileSync(inp.huFile).buffer.slice(0));
  const winAll = new Float32Array(readFileSync(inp.windowFile).buffer.slice(0));
  const available = winAll.length / 2;
  const hu = new Float32Array(batch * px);
  const window = new Float32Array(batch * 2);
  for (let k = 0; k < batch; k++) {
    const src = k % available;
    hu.set(huAll.subarray(src * px, (src + 1) * px), k * px);
    window[k * 2] = winAll[src * 2]!;
    window[k * 2 + 1] = winAll[src * 2 + 1]!;
  }
  return {
    hu: new ort.Tensor('float32', hu, [batch, 1, 512, 512]),
    window: new ort.Tensor('float32', window, [batch, 2]),
  };
}

async function timeRuns(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, inp: ModelChildInput): Promise<number[]> {
  let warm = 0;
  for (let i = 0; i < inp.warmup; i++) {
    const t = performance.now();
    await session.run(feeds);
    warm = (performance.now() - t) / 1000;
  }
  // As many timed runs as fit in targetSeconds (judged from the warm-up), within bounds.
  const reps = Math.max(inp.minReps, Math.min(inp.maxReps, warm ? Math.floor(inp.targetSeconds / warm) : inp.minReps));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push((performance.now() - t) / 1000);
  }
  return times;
}

async function profile(inp: ModelChildInput & { profileDir: string }): Promise<ProfileSummary> {
  const dir = join(inp.profileDir, `${inp.modelId}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const session = await ort.InferenceSession.create(inp.path, {
    ...sessionOptions('cpu', inp.threads),
    enableProfiling: true,
    profileFilePrefix: join(dir, inp.modelId),
  });
  const feeds = batchInputs(inp, 1);
  for (let i = 0; i < 1 + (inp.profileRuns ?? 2); i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`onnxruntime wrote no profile under ${dir}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  rmSync(dir, { recursive: true, force: true });
  return summariseProfile(events);
}

async function runModel(inp: ModelChildInput): Promise<ModelChildOutput> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(inp.path, sessionOptions('cpu', inp.threads));
  const loadSeconds = (performance.now() - t0) / 1000;
  const runSeconds = await timeRuns(session, batchInputs(inp, inp.batch), inp);
  const peakRssBytes = procStatusBytes('self', 'VmHWM') ?? null;
  await session.release();
  const out: ModelChildOutput = { loadSeconds, runSeconds, peakRssBytes };
  if (inp.profileDir) out.profile = await profile({ ...inp, profileDir: inp.profileDir });
  return out;
}

async function runMatmul(inp: MatmulChildInput): Promise<MatmulChildOutput> {
  const session = await ort.InferenceSession.create(inp.path, sessionOptions('cpu', inp.threads));
  const a = new Float32Array(inp.n * inp.n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const feeds = { a: new ort.Tensor('float32', a, [inp.n, inp.n]), b: new ort.Tensor('float32', a.slice(), [inp.n, inp.n]) };
  await session.run(feeds);
  let best = Infinity;
  for (let i = 0; i < inp.reps; i++) {
    const t = performance.now();
    await session.run(feeds);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  await session.release();
  return { bestSeconds: best, gflops: (2 * inp.n ** 3) / best / 1e9 };
}

const input = JSON.parse(process.argv[2] ?? '{}') as ModelChildInput | MatmulChildInput;
const result = input.mode === 'matmul' ? await runMatmul(input) : await runModel(input);
process.stdout.write(`${JSON.stringify(result)}\n`);
