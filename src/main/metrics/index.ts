/**
 * The metrics the two seed papers report (../shared/SEEDS.md), written once for the app:
 * sensitivity TP/(TP+FN), specificity TN/(TN+FP), precision TP/(TP+FP), accuracy,
 * F1 = 2TP/(2TP+FP+FN), ROC-AUC, and the RSNA 2019 challenge's weighted multi-label log loss.
 *
 * A ratio whose denominator is zero (e.g. sensitivity for a label with no positive case) is
 * `null`, never 0 or NaN: "not measurable here" must not read as "perfectly bad".
 */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface ThresholdMetrics {
  sensitivity: number | null;
  specificity: number | null;
  precision: number | null;
  accuracy: number | null;
  f1: number | null;
}

export function confusion(truth: ArrayLike<number>, scores: ArrayLike<number>, threshold: number): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < truth.length; i++) {
    const positive = (truth[i] as number) >= 0.5;
    const predicted = (scores[i] as number) >= threshold;
    if (positive && predicted) c.tp++;
    else if (positive) c.fn++;
    else if (predicted) c.fp++;
    else c.tn++;
  }
  return c;
}

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

export function thresholdMetrics(c: Confusion): ThresholdMetrics {
  return {
    sensitivity: ratio(c.tp, c.tp + c.fn),
    specificity: ratio(c.tn, c.tn + c.fp),
    precision: ratio(c.tp, c.tp + c.fp),
    accuracy: ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
  };
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn };
}

/**
 * ROC-AUC as the Mann–Whitney statistic: the probability that a random positive scores above a
 * random negative, ties counting one half (average ranks). Null when either class is absent.
 */
export function rocAuc(truth: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = truth.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = avg;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if ((truth[i] as number) >= 0.5) {
      positives++;
      rankSum += ranks[i]!;
    }
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** ROC curve points (false-positive rate, true-positive rate), one per distinct threshold. */
export function rocCurve(truth: ArrayLike<number>, scores: ArrayLike<number>): { fpr: number; tpr: number; threshold: number }[] {
  const n = truth.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let P = 0;
  for (let i = 0; i < n; i++) if ((truth[i] as number) >= 0.5) P++;
  const N = n - P;
  const points = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    if ((truth[i] as number) >= 0.5) tp++;
    else fp++;
    const next = idx[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      points.push({ fpr: N ? fp / N : 0, tpr: P ? tp / P : 0, threshold: scores[i] as number });
    }
  }
  return points;
}

/** The RSNA 2019 challenge's label weights: 2 for "any", 1 for each subtype (project order). */
export const RSNA_LABEL_WEIGHTS: readonly number[] = [2, 1, 1, 1, 1, 1];
const EPS = 1e-15;

/**
 * Weighted multi-label log loss: the weighted mean over every (slice, label) pair of the binary
 * log loss, probabilities clipped to [1e-15, 1 − 1e-15]. `truth` and `scores` are rows of six.
 */
export function weightedLogLoss(
  truth: readonly ArrayLike<number>[],
  scores: readonly ArrayLike<number>[],
  weights: readonly number[] = RSNA_LABEL_WEIGHTS,
): number | null {
  if (!truth.length) return null;
  let loss = 0;
  let weight = 0;
  for (let i = 0; i < truth.length; i++) {
    for (let l = 0; l < weights.length; l++) {
      const y = truth[i]![l] as number;
      const p = Math.min(1 - EPS, Math.max(EPS, scores[i]![l] as number));
      loss += -weights[l]! * (y * Math.log(p) + (1 - y) * Math.log(1 - p));
      weight += weights[l]!;
    }
  }
  return loss / weight;
}

/** Equal-width bins of the expected calibration error (Guo et al., ICML 2017; the same as models/training/calibrate.py). */
export const ECE_BINS = 15;

/**
 * Expected calibration error: over equal-width probability bins, the share of samples in the bin
 * times |mean label − mean probability| in it. 0 for a perfectly calibrated score; null without data.
 */
export function expectedCalibrationError(truth: ArrayLike<number>, scores: ArrayLike<number>, bins = ECE_BINS): number | null {
  const n = truth.length;
  if (!n) return null;
  const count = new Float64Array(bins);
  const sumT = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = scores[i] as number;
    // numpy.digitize against the inner edges: a score equal to an edge falls in the upper bin.
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins + 1e-12)));
    count[b]! += 1;
    sumT[b]! += (truth[i] as number) >= 0.5 ? 1 : 0;
    sumP[b]! += p;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += (count[b]! / n) * Math.abs(sumT[b]! / count[b]! - sumP[b]! / count[b]!);
  return ece;
}

