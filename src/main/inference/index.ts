/**
 * Inference stage. Input: a ready series (its ordered HU slices in the store). Output: per-slice,
 * per-model probabilities and study scores — or, while no model is installed, the series marked
 * "awaiting model": never a made-up score.
 */
export { loadManifest, graphFor, DEFAULT_MODELS_DIR } from './manifest.js';
export type { Manifest, ModelEntry } from './manifest.js';

/** What the core needs from whatever runs models on a series. */
export interface SeriesScorer {
  /** Human-readable state, e.g. "2 models on CPU (CUDA provider not installed)". */
  describe(): string;
  scoreSeries(seriesUid: string): Promise<void>;
  close(): Promise<void>;
}

export const AWAITING_MODEL_REASON = 'awaiting model: models/manifest.json lists no model';

/** The setting where the last model load's states (provider and why, or refusal) are kept. */
export const MODEL_STATES_SETTING = 'modelStates';
