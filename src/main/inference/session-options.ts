/**
 * onnxruntime session options for one execution provider — the app's, and the benchmark's, so
 * what `npm run bench` measures is what the app runs.
 *
 * Memory: onnxruntime's CPU arena keeps the peak of every batch shape it has seen; with the
 * Conv-LSTM's ten 512×512 views a batch of 16 took over 15 GB. The arena and memory patterns are
 * off, so memory follows the current batch and is returned after it.
 */
import type { InferenceSession } from 'onnxruntime-node';

export function sessionOptions(provider: string, threads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    enableCpuMemArena: false,
    enableMemPattern: false,
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}
