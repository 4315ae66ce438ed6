"""Choose the family that ranks the worklist by measurement, and each family's operating thresholds.

    /usr/bin/python3 -m models.training.ranking          # prints the record; onnx_export writes it to the manifest

The app ranks by one of three families (src/main/triage/ranking.ts): the Conv-LSTM, the ensemble
(mean of EfficientNet-B3 and Inception-ResNet-V2) or the mean of both. This compares them on the
threshold-choosing set that ``evaluate.py`` already scored every network on (a phantom seed used
neither for training nor for the test), picks the family with the highest mean slice ROC-AUC over
the six labels, and chooses each family's thresholds there by Youden's J. The test seed is never
looked at here, so the choice does not flatter the test figures.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from .contract import LABELS
from .engine import run_dir
from .evaluate import ENSEMBLE_MEMBERS
from .metrics import roc_auc, youden_threshold

FAMILIES = ("convlstm", "ensemble", "mean")
#: The networks whose run folders' predictions the families are computed from.
NETWORKS = ("convlstm", *ENSEMBLE_MEMBERS)


def _load(model_id: str, runs_root: Optional[Path] = None) -> Optional[Dict[str, np.ndarray]]:
    p = (runs_root / model_id if runs_root else run_dir(model_id)) / "predictions.npz"
    if not p.exists():
        return None
    with np.load(p) as f:
        return {k: f[k] for k in f.files}


def family_probabilities(split: str = "val", runs_root: Optional[Path] = None) -> Dict[str, Any]:
    """Per family, the probabilities on ``split`` (when all its networks were evaluated on it)."""
    preds = {m: _load(m, runs_root) for m in NETWORKS}
    have = {m: p for m, p in preds.items() if p is not None}
    if not have:
        raise SystemExit("no evaluated network: run models.training.evaluate first")
    ref = next(iter(have.values()))
    for m, p in have.items():
        if not np.array_equal(p[f"{split}_labels"], ref[f"{split}_labels"]):
            raise SystemExit(f"{m} was evaluated on another {split} set: rerun evaluate with the same options for all")
    out: Dict[str, np.ndarray] = {}
    if "convlstm" in have:
        out["convlstm"] = have["convlstm"][f"{split}_prob"]
    if all(m in have for m in ENSEMBLE_MEMBERS):
        out["ensemble"] = np.mean([have[m][f"{split}_prob"] for m in ENSEMBLE_MEMBERS], axis=0)
    if "convlstm" in out and "ensemble" in out:
        out["mean"] = (out["convlstm"] + out["ensemble"]) / 2
    return {"labels": ref[f"{split}_labels"], "prob": out}


def _mean_auc(y: np.ndarray, p: np.ndarray) -> Dict[str, Optional[float]]:
    aucs = {l: roc_auc(y[:, j], p[:, j]) for j, l in enumerate(LABELS)}
    defined = [a for a in aucs.values() if a is not None]
    return {"mean_auc": float(np.mean(defined)) if defined else None, **{f"auc_{l}": a for l, a in aucs.items()}}


def ranking_record(runs_root: Optional[Path] = None) -> Dict[str, Any]:
    val = family_probabilities("val", runs_root)
    y = val["labels"]
    measured = {f: _mean_auc(y, p) for f, p in val["prob"].items()}
    thresholds = {f: {l: float(youden_threshold(y[:, j], p[:, j])) for j, l in enumerate(LABELS)}
                  for f, p in val["prob"].items()}
    best = max(measured, key=lambda f: (measured[f]["mean_auc"] or 0.0, f == "ensemble"))
    member = runs_root / ENSEMBLE_MEMBERS[0] if runs_root else run_dir(ENSEMBLE_MEMBERS[0])
    evaluation = json.loads((member / "evaluation.json").read_text())
    vs = evaluation["validation_set"]
    words = ", ".join(f"{f} {measured[f]['mean_auc']:.3f}" for f in sorted(measured, key=lambda f: -(measured[f]["mean_auc"] or 0)))
    reason = (f"{best} ranked best on held-out synthetic phantoms (seed {vs.get('seed')}, {vs['slices']} slices, "
              f"mean slice ROC-AUC over the six labels: {words}); not clinically validated")
    return {"family": best, "reason": reason, "rule": "highest mean slice ROC-AUC on the threshold-choosing set; "
            "thresholds per family by Youden's J on the same set", "set": vs, "measured": measured,
            "thresholds": thresholds}


if __name__ == "__main__":
    print(json.dumps(ranking_record(), indent=1))
