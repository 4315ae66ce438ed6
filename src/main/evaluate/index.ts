/**
 * `triage evaluate`: scores what the models said about an RSNA-format folder against its labels,
 * with the seed papers' metrics, at slice and at study level, for each model, the ensemble and
 * the ranking family, at the manifest's thresholds.
 *
 * Input: the stored predictions of a database into which the folder was imported and scored (the
 * normal ingest), and the labels. Output: an `EvaluationReport` (written as JSON), text tables, and an HTML page of ROC
 * curves (chart.js, inlined: it opens offline).
 *
 * "overall" pools the six labels' confusion counts (micro-average); overall ROC-AUC is the mean
 * of the per-label AUCs that are defined. Study truth: a study is positive for a label when any
 * of its labelled slices is.
 */
import { LABELS, probabilitiesFromArray, type Label } from '../../shared/labels.js';
import {
  addConfusion,
  confusion,
  expectedCalibrationError,
  rocAuc,
  rocCurve,
  thresholdMetrics,
  weightedLogLoss,
  type Confusion,
} from '../metrics/index.js';
import { RANKING_SCORE_ID, type StoredPrediction } from '../store/index.js';
import { isFlagged, rankingSlices, studyLevel, type AggregationRule, type RankingFamily } from '../triage/index.js';
import { rsnaId } from './rsna.js';
import type { EvaluationReport, LabelResult, LevelResult, ModelResult } from './types.js';

export { parseLabelsCsv, rsnaId, submissionCsv } from './rsna.js';
export { formatReport, reportHtml } from './report.js';

export type { EvaluationReport, LabelResult, LevelResult, ModelResult } from './types.js';

export const SYNTHETIC_NOTE =
  'Models trained from scratch on synthetic data only (phantoms, and synthetic bleeds drawn into one real head CT); figures on synthetic data say nothing about real patients. Not clinically validated.';

const ROC_POINTS = 200;

function thin<T>(points: T[]): T[] {
  if (points.length <= ROC_POINTS) return points;
  const step = (points.length - 1) / (ROC_POINTS - 1);
  return Array.from({ length: ROC_POINTS }, (_, i) => points[Math.round(i * step)]!);
}

export function scoreLevel(truth: number[][], scores: number[][], thresholds: number[]): LevelResult {
  const perLabel = {} as Record<Label, LabelResult>;
  const roc = {} as Record<Label, { fpr: number; tpr: number }[]>;
  let pooled: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const aucs: number[] = [];
  LABELS.forEach((label, l) => {
    const t = truth.map((r) => r[l]!);
    const s = scores.map((r) => r[l]!);
    const c = confusion(t, s, thresholds[l]!);
    pooled = addConfusion(pooled, c);
    const auc = rocAuc(t, s);
    if (auc !== null) aucs.push(auc);
    perLabel[label] = {
      ...thresholdMetrics(c),
      auc,
      ece: expectedCalibrationError(t, s),
      threshold: thresholds[l]!,
      positives: c.tp + c.fn,
      n: t.length,
      confusion: c,
    };
    roc[label] = thin(rocCurve(t, s)).map(({ fpr, tpr }) => ({ fpr, tpr }));
  });
  return {
    n: truth.length,
    perLabel,
    overall: { ...thresholdMetrics(pooled), auc: aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null, confusion: pooled },
    logLoss: weightedLogLoss(truth, scores),
    roc,
  };
}

export interface EvaluateInput {
  /** Every stored prediction, by model (store.predictions.all()). */
  predictions: ReadonlyMap<string, StoredPrediction[]>;
  labels: Map<string, number[]>;
  dataFolder: string;
  thresholdsFor: (modelId: string) => number[];
  rankingFamily: RankingFamily;
}

export function evaluateStored(input: EvaluateInput): EvaluationReport {
  const byModel = input.predictions;
  const models: ModelResult[] = [];
  const ranking = rankingSlices(byModel, input.rankingFamily);
  const entries: [string, StoredPrediction[]][] = [...byModel];
  if (ranking) entries.push([RANKING_SCORE_ID, ranking.rows.map((r) => ({ ...r, modelId: RANKING_SCORE_ID }))]);
  let counts = { slicesScored: 0, slicesLabelled: 0, slicesWithoutLabel: 0, studies: 0 };
  for (const [modelId, rows] of entries) {
    const labelled = rows.filter((r) => input.labels.has(rsnaId(r.sopUid, r.sourcePath)));
    const truth = labelled.map((r) => input.labels.get(rsnaId(r.sopUid, r.sourcePath))!);
    const thresholds = input.thresholdsFor(modelId);
    const slice = scoreLevel(truth, labelled.map((r) => r.probabilities), thresholds);

    const byStudy = new Map<string, StoredPrediction[]>();
    for (const r of labelled) byStudy.set(r.studyUid, [...(byStudy.get(r.studyUid) ?? []), r]);
    const studyTruth = [...byStudy.values()].map((list) =>
      LABELS.map((_, l) => Math.max(...list.map((r) => input.labels.get(rsnaId(r.sopUid, r.sourcePath))![l]!))),
    );
    const study = {} as Record<AggregationRule, LevelResult>;
    for (const rule of ['max', 'smoothed-max'] as const) {
      const scores = [...byStudy.values()].map((list) => studyLevel(list, rule).probabilities);
      study[rule] = scoreLevel(studyTruth, scores, thresholds);
    }
    const lists = [...byStudy.values()];
    const studyRows = lists.map((list, k) => ({ bleeds: studyTruth[k]![0]! >= 0.5, level: studyLevel(list) }));
    const bleeding = studyRows.filter((r) => r.bleeds);
    const normal = studyRows.filter((r) => !r.bleeds);
    const sliceBleeds = new Map(labelled.map((r) => [r.instanceId, input.labels.get(rsnaId(r.sopUid, r.sourcePath))![0]! >= 0.5]));
    const flagAt = probabilitiesFromArray(thresholds);
    const flagged = (r: (typeof studyRows)[number]) => isFlagged(probabilitiesFromArray(r.level.probabilities), flagAt);
    const worklist = {
      bleedingStudies: bleeding.length,
      normalStudies: normal.length,
      bleedingAboveNormal:
        Math.min(...bleeding.map((r) => r.level.probabilities[0]!)) > Math.max(...normal.map((r) => r.level.probabilities[0]!)),
      firstKeySliceBleeds: bleeding.filter((r) => sliceBleeds.get(r.level.keys[0] ?? -1) === true).length,
      bleedingFlagged: bleeding.filter(flagged).length,
      normalQuiet: normal.filter((r) => !flagged(r)).length,
    };
    models.push({ modelId, provider: [...new Set(rows.map((r) => r.provider))].join(', '), thresholds, slice, study, worklist });
    counts = {
      slicesScored: rows.length,
      slicesLabelled: labelled.length,
      slicesWithoutLabel: rows.length - labelled.length,
      studies: byStudy.size,
    };
  }
  return {
    generatedAt: new Date().toISOString(),
    data: input.dataFolder,
    counts,
    rankingFamily: ranking?.family ?? 'none',
    models,
    note: SYNTHETIC_NOTE,
  };
}
