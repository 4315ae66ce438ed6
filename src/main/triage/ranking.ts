/**
 * Which per-slice probabilities rank the worklist: the Conv-LSTM's, the ensemble's, or the mean
 * of both families (a site setting). Both families' answers are always stored; this only picks.
 */
import { RankingModelSchema, type RankingModel } from '../../shared/api.js';
import { meanOf } from './aggregate.js';

/** The families, declared once (the API's schema); the screen and the store use the same names. */
export type RankingFamily = RankingModel;
export const RANKING_FAMILIES: readonly RankingFamily[] = RankingModelSchema.options;
export const DEFAULT_RANKING_FAMILY: RankingFamily = 'mean';
/** The model ids of the two families in models/manifest.json. */
export const CONVLSTM_ID = 'convlstm';
export const ENSEMBLE_ID = 'ensemble';

/**
 * The networks a family's ranking score needs (an ensemble's members, not the ensemble id): the
 * scorer runs them first, so that the ranking score, and any flag, comes before the others finish.
 */
export function familyNetworks(
  family: RankingFamily,
  ensembles: readonly { readonly id: string; readonly members: readonly string[] }[],
): string[] {
  const expand = (id: string) => ensembles.find((e) => e.id === id)?.members ?? [id];
  if (family === 'mean') return [...new Set([...expand(CONVLSTM_ID), ...expand(ENSEMBLE_ID)])];
  return [...expand(family)];
}

export type SliceRow = { seriesUid: string; instanceId: number; probabilities: number[] };

/**
 * The ranking family's per-slice rows. When the chosen family could not run, what did run ranks
 * instead and `family` says so.
 */
export function rankingSlices<T extends SliceRow>(
  byModel: ReadonlyMap<string, T[]>,
  family: RankingFamily,
): { family: string; rows: T[] } | undefined {
  const convlstm = byModel.get(CONVLSTM_ID);
  const ensemble = byModel.get(ENSEMBLE_ID);
  if (family === 'convlstm' && convlstm) return { family: 'convlstm', rows: convlstm };
  if (family === 'ensemble' && ensemble) return { family: 'ensemble', rows: ensemble };
  if (convlstm && ensemble && convlstm.length === ensemble.length) {
    return {
      family: family === 'mean' ? 'mean' : `mean (${family} unavailable)`,
      rows: convlstm.map((r, i) => ({ ...r, probabilities: meanOf([r.probabilities, ensemble[i]!.probabilities]) })),
    };
  }
  if (convlstm) return { family: 'convlstm (ensemble unavailable)', rows: convlstm };
  if (ensemble) return { family: 'ensemble (Conv-LSTM unavailable)', rows: ensemble };
  const [first] = byModel;
  return first ? { family: `${first[0]} (no family available)`, rows: first[1] } : undefined;
}
