/**
 * Inference stage. Input: a ready series (its ordered HU slices in the store). Output: per-slice,
 * per-model probabilities and study scores — or, while no model is installed, the series marked
 * "awaiting model": never a made-up score.
 */
export { loadManifest, graphFor, lesionMapNetworks, DEFAULT_MODELS_DIR } from './manifest.js';
export type { LesionMapOutput, Manifest, ModelEntry } from './manifest.js';
export { rankingFamily, siteRankingFamily, RANKING_SETTING } from './ranking-setting.js';
import type { Store } from '../store/index.js';

/** How far the models are through one series: slice runs done of slices × models, and which model runs. */
export interface ScoringProgress {
  done: number;
  total: number;
  modelId: string;
}

/** What the core needs from whatever runs models on a series. */
export interface SeriesScorer {
  /** Human-readable state, e.g. "2 models on CPU (CUDA provider not installed)". */
  describe(): string;
  /**
   * Scores a series; `onProgress` hears after each batch how many of its slice runs are done.
   * `provisional`: the series is still arriving (a provisional study score; the state stays).
   * `onRanked`: the ranking family's networks are done and the study has its ranking score while
   * other networks still run. `yieldTo` (provisional runs): asked before each batch of a network
   * outside the ranking family; true ends the run there, keeping what it has.
   */
  scoreSeries(
    seriesUid: string,
    onProgress?: (p: ScoringProgress) => void,
    opts?: { provisional?: boolean; onRanked?: () => void; yieldTo?: () => boolean },
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * What loading models needs of the workstation: its store and slice folder, and a place to hand
 * the scorer. The core is one; this stage names only what it uses, so it never imports the core.
 */
export interface ScorerHost {
  readonly store: Store;
  /** The folder the HU copies' paths are relative to (the data folder, or the folder workstations share). */
  readonly huDir: string;
  attachScorer(scorer: SeriesScorer): void;
}

export const AWAITING_MODEL_REASON = 'awaiting model: models/manifest.json lists no model';

/** The setting where this workstation's last model load's states (provider and why, or refusal) are kept: each PC's own (store/settings.ts). */
export const MODEL_STATES_SETTING = 'modelStates';
