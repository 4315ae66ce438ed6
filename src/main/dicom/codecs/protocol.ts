/**
 * Messages between the DecoderPool (main thread) and a decoder worker: tagged unions with ids and
 * serialised errors (STYLE.md habit 6). Typed arrays travel as transferables, never copied twice.
 */
import type { FrameDescription, StoredPixels } from './types.js';

export interface DecoderWorkerData {
  /** Cap on WebAssembly memory per module, in bytes (see wasm-module.ts capWasmMemory). */
  memoryLimitBytes: number;
  /** Honour `debug` requests; set only from tests (ICH_DECODER_TEST_HOOKS=1 in the environment). */
  testHooks: boolean;
}

export type ToWorker =
  | { type: 'decode'; id: number; transferSyntaxUid: string; frame: Uint8Array; desc: FrameDescription }
  /**
   * Test hooks, so the pool's time limit and worker replacement can be exercised: spin forever,
   * or end the thread abruptly as a crashing native decoder would.
   */
  | { type: 'debug'; id: number; action: DebugAction };

export type DebugAction = 'busy-loop' | 'crash';

export interface SerialisedError {
  name: string;
  reason: string;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'decoded'; id: number; pixels: StoredPixels }
  /** `retire`: the worker's codec state is no longer trustworthy (abort, memory cap hit). */
  | { type: 'failed'; id: number; error: SerialisedError; retire: boolean };
