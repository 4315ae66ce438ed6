/**
 * The inference worker: owns the onnxruntime-node sessions so that a model run never blocks the
 * main process, and a crash in native code takes down this thread, not the app.
 *
 * Execution providers: CUDA is tried first when asked for. onnxruntime-node treats a missing
 * CUDA provider as a hard error, not a fallback, so we catch it, load on CPU, and report which
 * provider runs and why.
 *
 * Memory: each session's CPU arena keeps about the peak of the largest batch it has run, and
 * memory patterns are off (session-options.ts says why both).
 */
import './offline.js'; // before onnxruntime-node: telemetry off (offline.ts says why)
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ModelToLoad, WorkerRequest, WorkerResponse } from './protocol.js';
import { sessionOptions } from './session-options.js';

const sessions = new Map<string, ort.InferenceSession>();
const lesionMaps = new Map<string, NonNullable<ModelToLoad['lesionMap']>>();

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

/**
 * Whether onnxruntime-node's CUDA provider library is installed next to its binding. Its
 * install script downloads it separately (README, "GPU sites"); without it, asking for CUDA
 * fails noisily in native code, so we do not ask.
 */
function cudaProviderInstalled(): boolean {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const binRoot = join(pkg, 'bin');
    for (const napi of readdirSync(binRoot)) {
      const dir = join(binRoot, napi, process.platform, process.arch);
      try {
        if (readdirSync(dir).some((f) => /onnxruntime_providers_cuda\.(so|dll)$/.test(f))) return true;
      } catch {
        // not this napi version
      }
    }
  } catch {
    return false;
  }
  return false;
}

async function load(model: ModelToLoad): Promise<{ provider: string; reason: string }> {
  const skipped: string[] = [];
  for (const provider of model.providers) {
    if (provider === 'cuda' && !cudaProviderInstalled()) {
      skipped.push('CUDA provider not installed (see README, "GPU sites")');
      continue;
    }
    const path = model.paths[provider];
    if (!path) {
      skipped.push(`no ${provider} file in the manifest`);
      if (provider === model.providers.at(-1)) throw new Error(`${model.id}: ${skipped.join('; ')}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(path, sessionOptions(provider, model.intraOpThreads));
      sessions.set(model.id, session);
      if (model.lesionMap) lesionMaps.set(model.id, model.lesionMap);
      else lesionMaps.delete(model.id);
      const precision = model.precisions[provider];
      const reason = (skipped.length ? skipped.join('; ') : `${provider} requested first`) + (precision ? `; ${precision} file` : '');
      return { provider, reason };
    } catch (err) {
      const message = firstLine(err);
      skipped.push(`${provider} failed: ${message}`);
      if (provider === model.providers.at(-1)) throw new Error(`${model.id}: ${skipped.join('; ')}`);
    }
  }
  throw new Error(`${model.id}: no execution provider configured`);
}

async function run(
  modelId: string,
  hu: Float32Array,
  window: Float32Array,
  count: number,
): Promise<{ probabilities: Float32Array; lesionMap?: Uint8Array }> {
  const session = sessions.get(modelId);
  if (!session) throw new Error(`model ${modelId} is not loaded`);
  const out = await session.run({
    hu: new ort.Tensor('float32', hu, [count, 1, 512, 512]),
    window: new ort.Tensor('float32', window, [count, 2]),
  });
  const probabilities = out.probabilities;
  if (!probabilities || probabilities.dims.length !== 2 || probabilities.dims[0] !== count || probabilities.dims[1] !== 6) {
    throw new Error(`model ${modelId} broke the contract: output 'probabilities' must be [${count}, 6]`);
  }
  const result = { probabilities: Float32Array.from(probabilities.data as Float32Array) };
  const spec = lesionMaps.get(modelId);
  if (!spec) return result;
  const map = out[spec.name];
  const want = [count, spec.channels, spec.height, spec.width];
  if (!map || map.dims.length !== 4 || map.dims.some((d, k) => d !== want[k])) {
    throw new Error(`model ${modelId} broke its manifest: output '${spec.name}' must be [${want.join(', ')}]`);
  }
  return { ...result, lesionMap: toBytes(map.data as Float32Array) };
}

/** Probabilities as bytes (×255): what the store keeps, a quarter of the floats to send. */
function toBytes(p: Float32Array): Uint8Array {
  const out = new Uint8Array(p.length);
  for (let k = 0; k < p.length; k++) out[k] = Math.round(Math.min(1, Math.max(0, p[k]!)) * 255);
  return out;
}

const port = parentPort;
if (!port) throw new Error('inference worker must run in a worker thread');

port.on('message', (msg: WorkerRequest) => {
  const reply = (r: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  void (async () => {
    try {
      switch (msg.type) {
        case 'load': {
          const { provider, reason } = await load(msg.model);
          reply({ type: 'loaded', id: msg.id, modelId: msg.model.id, provider, reason });
          break;
        }
        case 'run': {
          const { probabilities, lesionMap } = await run(msg.modelId, msg.hu, msg.window, msg.count);
          const transfer = [probabilities.buffer as ArrayBuffer, ...(lesionMap ? [lesionMap.buffer as ArrayBuffer] : [])];
          reply({ type: 'result', id: msg.id, probabilities, ...(lesionMap ? { lesionMap } : {}) }, transfer);
          break;
        }
        case 'close': {
          for (const s of sessions.values()) await s.release();
          sessions.clear();
          reply({ type: 'closed', id: msg.id });
          break;
        }
      }
    } catch (err) {
      reply({ type: 'error', id: msg.id, message: firstLine(err) });
    }
  })();
});
