/**
 * The training side (Python, models/training/metrics.py) chooses checkpoints and thresholds with
 * its own metrics; the app (src/main/metrics) reports them. Two languages cannot share one
 * implementation, so this test keeps the two from drifting: same data, same answers.
 */
import { describe, expect, it } from 'vitest';
import { confusion, expectedCalibrationError, rocAuc, thresholdMetrics, weightedLogLoss } from '../../../src/main/metrics/index.js';
import { pythonJson } from '../../helpers.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (1664525 * s + 1013904223) >>> 0) / 2 ** 32);
}

describe('TypeScript and Python metrics agree', () => {
  it('on ROC-AUC (with ties), threshold metrics, the weighted log loss and the calibration error', () => {
    const rand = lcg(42);
    const n = 300;
    // Scores rounded to 0.05 so that ties between positives and negatives are common.
    const truth = Array.from({ length: n }, () => LABELS6.map(() => (rand() < 0.3 ? 1 : 0)));
    const scores = truth.map((row) => row.map((y) => Math.round(Math.min(1, Math.max(0, 0.3 * y + rand() * 0.7)) * 20) / 20));
    const py = pythonJson<{ auc: (number | null)[]; tm: Record<string, number | null>[]; logloss: number; ece: number[] }>(
      `import json, sys
import numpy as np
from models.training.metrics import roc_auc, threshold_metrics, weighted_log_loss
from models.training.metrics import expected_calibration_error
d = json.load(sys.stdin)
y = np.array(d['truth']); p = np.array(d['scores'])
out = {'auc': [roc_auc(y[:, l], p[:, l]) for l in range(6)],
       'tm': [threshold_metrics(y[:, l], p[:, l], 0.5) for l in range(6)],
       'logloss': weighted_log_loss(y, p),
       'ece': [expected_calibration_error(y[:, l], p[:, l]) for l in range(6)]}
print(json.dumps(out))`,
      { truth, scores },
    );
    for (let l = 0; l < 6; l++) {
      const t = truth.map((r) => r[l]!);
      const s = scores.map((r) => r[l]!);
      expect(rocAuc(t, s)).toBeCloseTo(py.auc[l]!, 12);
      // Scores on a 0.05 grid land on bin edges: both sides must put an edge in the same bin.
      expect(expectedCalibrationError(t, s)).toBeCloseTo(py.ece[l]!, 12);
      const m = thresholdMetrics(confusion(t, s, 0.5));
      for (const k of ['sensitivity', 'specificity', 'precision', 'f1', 'accuracy'] as const) {
        expect(m[k]).toBeCloseTo(py.tm[l]![k]!, 12);
      }
    }
    expect(weightedLogLoss(truth, scores)).toBeCloseTo(py.logloss, 9);
  });
});

const LABELS6 = [0, 1, 2, 3, 4, 5];
