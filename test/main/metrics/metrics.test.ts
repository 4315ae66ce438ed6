import { describe, expect, it } from 'vitest';
import { confusion, rocAuc, rocCurve, thresholdMetrics, weightedLogLoss } from '../../../src/main/metrics/index.js';

describe('metrics, against hand-computed cases', () => {
  it('confusion and the threshold metrics', () => {
    // truth 1 1 1 0 0 0 0 ; scores at threshold 0.5 → predictions 1 1 0 1 0 0 0
    const c = confusion([1, 1, 1, 0, 0, 0, 0], [0.9, 0.6, 0.4, 0.7, 0.2, 0.1, 0.3], 0.5);
    expect(c).toEqual({ tp: 2, fn: 1, fp: 1, tn: 3 });
    const m = thresholdMetrics(c);
    expect(m.sensitivity).toBeCloseTo(2 / 3);
    expect(m.specificity).toBeCloseTo(3 / 4);
    expect(m.precision).toBeCloseTo(2 / 3);
    expect(m.accuracy).toBeCloseTo(5 / 7);
    expect(m.f1).toBeCloseTo(4 / 6);
  });

  it('a threshold is inclusive: a score equal to it is positive', () => {
    expect(confusion([1], [0.5], 0.5)).toEqual({ tp: 1, fn: 0, fp: 0, tn: 0 });
  });

  it('a label with no positives: sensitivity and AUC are null, not 0', () => {
    const m = thresholdMetrics(confusion([0, 0, 0], [0.1, 0.7, 0.2], 0.5));
    expect(m.sensitivity).toBeNull();
    expect(m.specificity).toBeCloseTo(2 / 3);
    expect(m.precision).toBe(0);
    expect(rocAuc([0, 0, 0], [0.1, 0.7, 0.2])).toBeNull();
    expect(thresholdMetrics(confusion([0, 0], [0.1, 0.2], 0.5)).precision).toBeNull();
  });

  it('ROC-AUC: perfect, inverted, and ties counted one half', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])).toBe(0);
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    // positives {0.4, 0.8}, negatives {0.4, 0.1}: pairs (0.4 vs 0.4)=½, (0.4 vs 0.1)=1, (0.8 vs ·)=1+1 → 3.5/4
    expect(rocAuc([1, 1, 0, 0], [0.4, 0.8, 0.4, 0.1])).toBeCloseTo(3.5 / 4);
  });

  it('the ROC curve runs from (0,0) to (1,1) and merges tied scores', () => {
    const c = rocCurve([1, 1, 0, 0], [0.4, 0.8, 0.4, 0.1]);
    expect(c.map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0, 0.5], [0.5, 1], [1, 1]]);
  });

  it('weighted log loss: "any" counts twice', () => {
    const truth = [[1, 0, 0, 0, 0, 0]];
    const p = [[0.5, 0.5, 0.5, 0.5, 0.5, 0.5]];
    expect(weightedLogLoss(truth, p)).toBeCloseTo(Math.log(2));
    // Only "any" wrong-ish: loss_any = −ln 0.25 with weight 2; subtypes perfect-ish (clipped).
    const q = [[0.25, 0, 0, 0, 0, 0]];
    expect(weightedLogLoss(truth, q)).toBeCloseTo((2 * -Math.log(0.25) + 5 * -Math.log(1 - 1e-15)) / 7, 6);
    expect(weightedLogLoss([], [])).toBeNull();
  });
});
