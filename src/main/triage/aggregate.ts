/**
 * From per-slice probabilities to a study score (one module owns this rule).
 *
 * Rule 'smoothed-max' (the default): per label, smooth along the ordered slices with the kernel
 * [¼, ½, ¼] (edges repeated), then take the maximum. A bleed spans several contiguous 5 mm
 * slices, while a false positive from a streak or a calcification is usually an isolated spike;
 * smoothing lowers lone spikes more than runs. Baseline 'max': the maximum over raw slices.
 * `triage evaluate` measures both at study level (README, "Study score").
 */
import { LABELS } from '../../shared/labels.js';

export type AggregationRule = 'max' | 'smoothed-max';
export const STUDY_AGGREGATION: AggregationRule = 'smoothed-max';
export const KEY_SLICE_COUNT = 3;
const N = LABELS.length;

/** `perSlice` is slices × 6, in slice order. Returns the 6 study probabilities. */
export function aggregate(perSlice: readonly ArrayLike<number>[], rule: AggregationRule = STUDY_AGGREGATION): number[] {
  const out = new Array<number>(N).fill(0);
  if (!perSlice.length) return out;
  const column = (l: number) => perSlice.map((p) => p[l] as number);
  for (let l = 0; l < N; l++) {
    const values = rule === 'max' ? column(l) : smooth(column(l));
    out[l] = Math.max(...values);
  }
  return out;
}

export function smooth(values: readonly number[]): number[] {
  return values.map((v, i) => 0.25 * (values[i - 1] ?? v) + 0.5 * v + 0.25 * (values[i + 1] ?? v));
}

/** Indices of the slices that drove the "any" score: the highest after the same smoothing. */
export function keySlices(perSlice: readonly ArrayLike<number>[], rule: AggregationRule = STUDY_AGGREGATION): number[] {
  const anyIndex = LABELS.indexOf('any');
  const raw = perSlice.map((p) => p[anyIndex] as number);
  const values = rule === 'max' ? raw : smooth(raw);
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, KEY_SLICE_COUNT)
    .map(([, i]) => i);
}

/** Per-label weighted mean of several models' probabilities (the ensembles' rule). */
export function meanOf(members: readonly ArrayLike<number>[], weights?: readonly number[]): number[] {
  const w = weights ?? members.map(() => 1 / members.length);
  const total = w.reduce((a, b) => a + b, 0);
  return Array.from({ length: N }, (_, l) => members.reduce((acc, m, i) => acc + (m[l] as number) * w[i]!, 0) / total);
}

/** Which model family ranks the worklist: a site setting (stored as 'rankingModel'). */
export type RankingFamily = 'convlstm' | 'ensemble' | 'mean';
export const RANKING_FAMILIES: readonly RankingFamily[] = ['convlstm', 'ensemble', 'mean'];
export const DEFAULT_RANKING_FAMILY: RankingFamily = 'mean';
