/**
 * The seed papers' published figures (../shared/SEEDS.md), printed beside what `triage evaluate`
 * measures. Percentages are stored as fractions.
 */
import type { Label } from '../../shared/labels.js';

export const RAJAGOPAL_2023 = {
  source: 'Rajagopal et al., Brain Sci. 2023 (Conv-LSTM), test set, abstract',
  overall: { sensitivity: 0.9387, specificity: 0.9645, precision: 0.9521, accuracy: 0.9514 },
  auc: { any: 0.9474, epidural: 0.9311, intraparenchymal: 0.9513, intraventricular: 0.9306, subarachnoid: 0.9511, subdural: 0.9537 } as Record<Label, number>,
  f1: { any: 0.9463, epidural: 0.9315, intraparenchymal: 0.9487, intraventricular: 0.9316, subarachnoid: 0.9561, subdural: 0.9537 } as Record<Label, number>,
};

export const BARIN_2021 = {
  source: 'Barin et al., BRAIN 2021, test set 1 (75,281 slices), mean of 10 folds',
  rows: {
    efficientnet_b3: { precision: 0.868, sensitivity: 0.8061, specificity: 0.9926, f1: 0.8531, accuracy: 0.982 },
    inception_resnet_v2: { precision: 0.8627, sensitivity: 0.8106, specificity: 0.9922, f1: 0.8441, accuracy: 0.9819 },
    ensemble: { precision: 0.9057, sensitivity: 0.8269, specificity: 0.9948, f1: 0.8676, accuracy: 0.9853 },
  } as Record<string, { precision: number; sensitivity: number; specificity: number; f1: number; accuracy: number }>,
};
