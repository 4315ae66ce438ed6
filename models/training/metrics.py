"""Metrics of the training side (SEEDS.md, "Common ground"): one module, no second copy.

ROC-AUC is the Mann-Whitney statistic with ties counted one half (average ranks); the threshold
metrics count a prediction as positive when ``p >= threshold``.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
from scipy.stats import rankdata


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> Optional[float]:
    """Area under the ROC curve, ties handled by average ranks; None when one class is absent."""
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)  # average ranks: a tie between a positive and a negative counts 1/2
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ratio(num: int, den: int) -> Optional[float]:
    return None if den == 0 else num / den


def confusion(y_true: np.ndarray, score: np.ndarray, threshold: float) -> Dict[str, int]:
    y = np.asarray(y_true).astype(bool).ravel()
    p = np.asarray(score).ravel() >= threshold
    return {"tp": int((p & y).sum()), "fp": int((p & ~y).sum()), "tn": int((~p & ~y).sum()), "fn": int((~p & y).sum())}


def threshold_metrics(y_true: np.ndarray, score: np.ndarray, threshold: float) -> Dict[str, Optional[float]]:
    c = confusion(y_true, score, threshold)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    return {
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "precision": _ratio(tp, tp + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, tp + tn + fp + fn),
        **{k: float(v) for k, v in c.items()},
    }


def youden_threshold(y_true: np.ndarray, score: np.ndarray, default: float = 0.5) -> float:
    """The threshold maximising sensitivity + specificity - 1 (Youden's J); ``default`` if undefined.

    Candidates are the observed scores; among equal J the one nearest 0.5 wins (stability).
    """
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    if y.all() or (~y).all():
        return default
    best_t, best_j = default, -np.inf
    for t in np.unique(s):
        p = s >= t
        sens = (p & y).sum() / y.sum()
        spec = (~p & ~y).sum() / (~y).sum()
        j = sens + spec - 1
        if j > best_j + 1e-12 or (abs(j - best_j) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best_t, best_j = float(t), j
    return best_t


def weighted_log_loss(y_true: np.ndarray, prob: np.ndarray, weights: Sequence[float] = (2, 1, 1, 1, 1, 1),
                      eps: float = 1e-15) -> float:
    """The RSNA 2019 challenge score: BCE per label, weight 2 for `any`, 1 per subtype."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.clip(np.asarray(prob, dtype=np.float64), eps, 1 - eps)
    w = np.asarray(weights, dtype=np.float64)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float((bce * w).sum(axis=1).mean() / w.sum())


def per_label_report(labels: Sequence[str], y_true: np.ndarray, prob: np.ndarray,
                     thresholds: Sequence[float]) -> Dict[str, Dict[str, Optional[float]]]:
    """{label: {auc, prevalence, positives, threshold, sensitivity, specificity, ...}}."""
    out: Dict[str, Dict[str, Optional[float]]] = {}
    for j, label in enumerate(labels):
        y, s = y_true[:, j], prob[:, j]
        out[label] = {"auc": roc_auc(y, s), "positives": float(np.sum(y)), "prevalence": float(np.mean(y)),
                      "threshold": float(thresholds[j]), **threshold_metrics(y, s, thresholds[j])}
    return out


def subtype_separation(y_true: np.ndarray, prob: np.ndarray) -> Dict[int, Dict[str, Optional[float]]]:
    """Each subtype's ROC-AUC (columns 1.., column 0 is ``any``) split by what its negatives are:
    slices with no blood at all, and slices with blood of another subtype only. A network that
    reads "blood here" as every subtype scores high on the first and near 0.5 on the second, which
    the plain AUC mixes in proportion to the two kinds of negative."""
    out: Dict[int, Dict[str, Optional[float]]] = {}
    bleed = y_true[:, 0] >= 1
    for j in range(1, y_true.shape[1]):
        pos = y_true[:, j] >= 1
        clean, other = ~bleed, bleed & ~pos
        out[j] = {"auc_vs_no_bleed": roc_auc(pos[pos | clean], prob[pos | clean, j]),
                  "auc_vs_other_bleed": roc_auc(pos[pos | other], prob[pos | other, j])}
    return out


ECE_BINS = 15


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Sum over equal-width probability bins of (share of samples) x |mean label - mean probability|."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(y[sel].mean() - p[sel].mean())
    return float(ece)
