/**
 * The six probability columns (p_any … p_subdural) that study scores and predictions are stored
 * in, read back as label probabilities. Its own module so that the query modules (worklist,
 * study) and the store class share it without importing each other.
 */
import { LABELS, type LabelProbabilities } from '../../shared/labels.js';

/** The columns, in label order. */
export const SCORE_COLUMNS: readonly string[] = LABELS.map((l) => `p_${l}`);

export function scoreFromRow(row: Record<string, unknown>, prefix = 'p_'): LabelProbabilities {
  const out = {} as LabelProbabilities;
  for (const l of LABELS) out[l] = row[`${prefix}${l}`] as number;
  return out;
}
