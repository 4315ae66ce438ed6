/**
 * The shapes of an evaluation report: what `evaluateStored` (index.ts) measures and the report
 * writers (report.ts) print. Apart, so that neither imports the other.
 */
import type { Label } from '../../shared/labels.js';
import type { Confusion, ThresholdMetrics } from '../metrics/index.js';
import type { AggregationRule } from '../triage/index.js';

export interface LabelResult extends ThresholdMetrics {
  auc: number | null;
  /** Expected calibration error (15 bins): how far the probabilities are from the observed rates. */
  ece: number | null;
  threshold: number;
  positives: number;
  n: number;
  confusion: Confusion;
}

export interface LevelResult {
  n: number;
  perLabel: Record<Label, LabelResult>;
  overall: ThresholdMetrics & { auc: number | null; confusion: Confusion };
  logLoss: number | null;
  roc: Record<Label, { fpr: number; tpr: number }[]>;
}

export interface ModelResult {
  modelId: string;
  provider: string;
  thresholds: number[];
  slice: LevelResult;
  study: Record<AggregationRule, LevelResult>;
  /**
   * What the worklist shows a radiologist, checked against the labels (the app's rule): whether
   * every study with a bleed scores above every study without one (study AUC(any) = 1), and in how
   * many bleeding studies the first key slice itself holds a bleed; and at this row's thresholds,
   * how many bleeding studies the app would flag and how many normal ones it would leave quiet.
   */
  worklist: {
    bleedingStudies: number;
    normalStudies: number;
    bleedingAboveNormal: boolean;
    firstKeySliceBleeds: number;
    bleedingFlagged: number;
    normalQuiet: number;
  };
}

export interface EvaluationReport {
  generatedAt: string;
  data: string;
  counts: { slicesScored: number; slicesLabelled: number; slicesWithoutLabel: number; studies: number };
  rankingFamily: string;
  models: ModelResult[];
  note: string;
}
