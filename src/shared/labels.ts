/**
 * The project label order, fixed everywhere (../shared/SEEDS.md, "Common ground"): the column
 * order of the RSNA 2019 challenge files and of every model's `probabilities` output. Its one
 * source is model-contract.json, which Python (training, phantoms) reads too; the literal type
 * below is checked against it when this module loads.
 */
import contract from './model-contract.json' with { type: 'json' };

export type Label = 'any' | 'epidural' | 'intraparenchymal' | 'intraventricular' | 'subarachnoid' | 'subdural';

export const LABELS: readonly Label[] = Object.freeze(contract.labels as Label[]);

/** The five hemorrhage subtypes, i.e. every label but `any`. */
export const SUBTYPES: readonly Exclude<Label, 'any'>[] = Object.freeze(
  LABELS.filter((l): l is Exclude<Label, 'any'> => l !== 'any'),
);

/** Per-label probabilities. */
export type LabelProbabilities = Record<Label, number>;

export function probabilitiesFromArray(values: ArrayLike<number>): LabelProbabilities {
  if (values.length !== LABELS.length) {
    throw new Error(`expected ${LABELS.length} probabilities in label order, got ${values.length}`);
  }
  const out = {} as LabelProbabilities;
  LABELS.forEach((label, i) => {
    out[label] = values[i] as number;
  });
  return out;
}

export function probabilitiesToArray(p: LabelProbabilities): number[] {
  return LABELS.map((label) => p[label]);
}
