/**
 * Messages between the scorer (main thread) and the inference worker: tagged unions with ids and
 * serialised errors (STYLE.md habit 6). Tensors travel as transferred ArrayBuffers, not copies.
 */
export interface ModelToLoad {
  id: string;
  /**
   * Absolute path of the .onnx graph for each execution provider (e.g. int8 on the CPU, float on
   * CUDA); external-data files sit beside it.
   */
  paths: Readonly<Record<string, string>>;
  /** What each provider's file is, for the load reason ("int8", "float16"). */
  precisions: Readonly<Record<string, string>>;
  /** Providers to try in order, e.g. ['cuda', 'cpu']. */
  providers: string[];
  intraOpThreads: number;
  /** The declared lesion-map output to return with the probabilities, and its shape per slice. */
  lesionMap?: { name: string; channels: number; height: number; width: number };
}

export type WorkerRequest =
  | { type: 'load'; id: number; model: ModelToLoad }
  | { type: 'run'; id: number; modelId: string; hu: Float32Array; window: Float32Array; count: number }
  | { type: 'close'; id: number };

export type WorkerResponse =
  | { type: 'loaded'; id: number; modelId: string; provider: string; reason: string }
  | {
      type: 'result';
      id: number;
      probabilities: Float32Array;
      /** count×channels×height×width bytes, probability ×255, when the model draws a lesion map. */
      lesionMap?: Uint8Array;
    }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string };
