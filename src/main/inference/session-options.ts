/**
 * onnxruntime session options for one execution provider — the app's, and the benchmark's, so
 * what `npm run bench` measures is what the app runs.
 *
 * Memory: onnxruntime's CPU arena keeps the blocks a run frees for the next run, and without it
 * every intermediate tensor is a fresh allocation that the system maps page by page. Where a page
 * fault is dear (a virtual machine), that was most of the time: `npm run bench` put the Conv-LSTM
 * (ten 512×512 views) at 3.3 s a slice without the arena and 0.15 s with it, at 0.64 GiB peak for a
 * batch of 1 against 0.53 GiB (bench/results-2026-11-28a-epyc.json and -28-epyc.json, the same
 * machine). Memory patterns stay off: they plan one block per batch shape and keep each (a batch of 16 took over 15 GB with
 * both on), while the arena alone holds about the peak of the largest batch a session has run,
 * which the scorer keeps small (scorer.ts, batchSize).
 */
import type { InferenceSession } from 'onnxruntime-node';

export function sessionOptions(provider: string, threads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    enableCpuMemArena: true,
    enableMemPattern: false,
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}
