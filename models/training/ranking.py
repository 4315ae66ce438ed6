"""Choose the family that ranks the worklist by measurement, and each family's operating thresholds.

    /usr/bin/python3 -m models.training.ranking          # prints the record; onnx_export writes it to the manifest

The app ranks by one of three families (src/main/triage/ranking.ts): the Conv-LSTM, the ensemble
(mean of EfficientNet-B3 and Inception-ResNet-V2) or the mean of both. This compares them on the
threshold-choosing set that ``evaluate.py`` already scored every network on (a phantom seed used
neither for training nor for the test), and chooses each family's flag thresholds there. The
test seed is never looked at here, so the choice does not flatter the test figures.

The rule judges the label the worklist ranks by, "any" (a study's score is its highest slice
"any"), and prices what a family costs: families are tried cheapest first (COST_ORDER), and a
costlier one replaces the choice only when its slice ROC-AUC of "any" beats it in at least
``CONFIDENCE`` of paired bootstrap resamples of the set's studies. Slices of one study are not
independent, so the studies are what is resampled. A family that waits for more networks must win
on more than noise: on a few dozen studies, a difference of a few thousandths is noise.

The flag thresholds are chosen on what the app flags: a study, by its score, the highest slice
score per label (src/main/triage/policy.ts: flagged when any label's study score reaches its
threshold). A threshold chosen on slices flags nearly every study, normal ones included, because a
study's highest slice sits far above a typical slice. Per label, the highest threshold that still
flags ``STUDY_SENSITIVITY`` of the set's studies with that label: sensitivity first, as a triage
flag must be, rather than Youden's J, which on a set with few normal studies weighs one quiet
normal study as much as several flagged bleeds (on seed 8001, 1 of 7 against 6 of 41: Youden
chose a threshold that left 3 of 41 bleeding studies unflagged to quiet all 7 normal ones, where
the 95 % point leaves 2 and quiets 4). A subtype's threshold is then raised, where needed, above every
study of the set without blood: a subtype says which bleed, and "any" says whether there is one, so
six labels at 95 % each do not pile six chances of a false alarm onto a normal study (measured on
seed 8001, the flag by any label at the plain 95 % points called 2 of 7 normal studies quiet; with
the subtypes raised, 4, as "any" alone does). A site's own proposal, from its reviewed studies,
follows the same rule (``thresholdsFromReviews`` in src/main/triage/policy.ts). The study-level
sensitivity and specificity at each threshold, and the slice-level Youden thresholds, stay in the
record.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from .contract import LABELS
from .engine import run_dir
from .evaluate import ENSEMBLE_MEMBERS
from .metrics import roc_auc, threshold_metrics, youden_threshold

FAMILIES = ("convlstm", "ensemble", "mean")
#: The label the worklist ranks by (src/main/triage/aggregate.ts: a study's score is its highest slice "any").
RANK_LABEL = "any"
#: Families cheapest first, by the kernel time a slice costs on a CPU (bench/RESULTS.md, "profile":
#: B3 34 ms + Inception-ResNet-V2 39 ms, both int8, against the Conv-LSTM's 239 ms; 'mean' waits for all three).
COST_ORDER = ("ensemble", "convlstm", "mean")
#: A costlier family must beat the choice on "any" in at least this share of the resamples.
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 8001
#: The share of the threshold set's bleeding studies a label's default flag threshold must flag. A
#: triage flag that misses a bleed costs more than one that calls a normal study: the threshold is
#: the highest that keeps this sensitivity, and the specificity is whatever that leaves (recorded).
#: The app proposes a site's own thresholds by the same rule (src/main/triage/policy.ts
#: FLAG_SENSITIVITY; a test there holds the two to the manifest's record).
STUDY_SENSITIVITY = 0.95
#: The networks whose run folders' predictions the families are computed from.
NETWORKS = ("convlstm", *ENSEMBLE_MEMBERS)


def study_scores(labels: np.ndarray, prob: np.ndarray, studies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per study, its labels (any positive slice) and its score (the highest slice), per label."""
    ids = np.unique(studies)
    return (np.stack([labels[studies == s].max(axis=0) for s in ids]),
            np.stack([prob[studies == s].max(axis=0) for s in ids]))


def study_flag_threshold(y: np.ndarray, score: np.ndarray, sensitivity: float = STUDY_SENSITIVITY) -> Optional[float]:
    """The highest threshold that still flags ``sensitivity`` of the positive studies (a positive
    study's score); None when the set lacks positive or negative studies."""
    pos, neg = np.sort(score[y.astype(bool)]), score[~y.astype(bool)]
    if len(pos) == 0 or len(neg) == 0:
        return None
    missed = int(np.floor((1.0 - sensitivity) * len(pos) + 1e-9))  # positives the threshold may leave below it
    return float(pos[missed])


def above_normal_studies(y: np.ndarray, score: np.ndarray, normal: np.ndarray, t: float) -> float:
    """``t`` raised, when needed, above every study without blood: the lowest positive study's score
    above them all, else just above the highest of them."""
    if not normal.any() or score[normal].max() < t:
        return t
    top = float(score[normal].max())
    above = score[y.astype(bool) & (score > top)]
    return float(above.min()) if above.size else float(np.nextafter(top, 1.0))


def study_operating_point(y: np.ndarray, score: np.ndarray, t: float) -> Dict[str, Any]:
    """Sensitivity and specificity over studies at ``t``, with the counts they rest on."""
    m = threshold_metrics(y, score, t)
    return {"threshold": t, "positives": int(m["tp"] + m["fn"]), "negatives": int(m["tn"] + m["fp"]),
            "sensitivity": m["sensitivity"], "specificity": m["specificity"]}


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
    return {"labels": ref[f"{split}_labels"], "studies": ref[f"{split}_study"], "prob": out}


def _mean_auc(y: np.ndarray, p: np.ndarray) -> Dict[str, Optional[float]]:
    aucs = {l: roc_auc(y[:, j], p[:, j]) for j, l in enumerate(LABELS)}
    defined = [a for a in aucs.values() if a is not None]
    return {"mean_auc": float(np.mean(defined)) if defined else None, **{f"auc_{l}": a for l, a in aucs.items()}}


def bootstrap_win_share(y: np.ndarray, p_new: np.ndarray, p_old: np.ndarray, studies: np.ndarray,
                        resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> float:
    """Share of study-level bootstrap resamples in which ``p_new`` has the higher ROC-AUC (ties count half)."""
    ids = np.unique(studies)
    rows = [np.flatnonzero(studies == s) for s in ids]
    rng = np.random.default_rng(seed)
    wins, counted = 0.0, 0
    for _ in range(resamples):
        take = np.concatenate([rows[i] for i in rng.integers(0, len(ids), len(ids))])
        a_new, a_old = roc_auc(y[take], p_new[take]), roc_auc(y[take], p_old[take])
        if a_new is None or a_old is None:  # a resample without a positive or a negative slice
            continue
        counted += 1
        wins += 1.0 if a_new > a_old else 0.5 if a_new == a_old else 0.0
    return wins / counted if counted else 0.0


def choose_family(y: np.ndarray, prob: Dict[str, np.ndarray], studies: np.ndarray) -> Dict[str, Any]:
    """The cheapest family no costlier family beats on "any" with ``CONFIDENCE``; each step's evidence."""
    j = LABELS.index(RANK_LABEL)
    order = [f for f in COST_ORDER if f in prob]
    chosen, steps = order[0], []
    for f in order[1:]:
        share = bootstrap_win_share(y[:, j], prob[f][:, j], prob[chosen][:, j], studies)
        steps.append({"challenger": f, "against": chosen, "win_share": share, "replaces": share >= CONFIDENCE})
        if share >= CONFIDENCE:
            chosen = f
    return {"family": chosen, "steps": steps}


def ranking_record(runs_root: Optional[Path] = None) -> Dict[str, Any]:
    val = family_probabilities("val", runs_root)
    y = val["labels"]
    measured = {f: _mean_auc(y, p) for f, p in val["prob"].items()}
    slice_thresholds = {f: {l: float(youden_threshold(y[:, j], p[:, j])) for j, l in enumerate(LABELS)}
                        for f, p in val["prob"].items()}
    thresholds: Dict[str, Dict[str, float]] = {}
    operating: Dict[str, Dict[str, Any]] = {}
    for f, p in val["prob"].items():
        ys, ps = study_scores(y, p, val["studies"])
        normal = ys[:, LABELS.index(RANK_LABEL)] == 0
        thresholds[f], operating[f] = {}, {}
        for j, l in enumerate(LABELS):
            t = study_flag_threshold(ys[:, j], ps[:, j])
            how = "slices" if t is None else "sensitivity"  # slices: a label the set cannot judge by study
            t = slice_thresholds[f][l] if t is None else t
            if l != RANK_LABEL:  # a subtype names the bleed; finding one is "any"'s work, not a second alarm
                raised = above_normal_studies(ys[:, j], ps[:, j], normal, t)
                how, t = ("studies without blood" if raised > t else how), raised
            thresholds[f][l] = t
            operating[f][l] = {**study_operating_point(ys[:, j], ps[:, j], t), "set_by": how}
    choice = choose_family(y, val["prob"], val["studies"])
    best = choice["family"]
    member = runs_root / ENSEMBLE_MEMBERS[0] if runs_root else run_dir(ENSEMBLE_MEMBERS[0])
    evaluation = json.loads((member / "evaluation.json").read_text())
    vs = evaluation["validation_set"]
    key = f"auc_{RANK_LABEL}"
    words = ", ".join(f"{f} {measured[f][key]:.3f}" for f in sorted(measured, key=lambda f: -(measured[f][key] or 0)))
    steps = "; ".join(f"{s['challenger']} beat {s['against']} in {100 * s['win_share']:.0f} % of "
                      f"{BOOTSTRAP_RESAMPLES} study resamples" for s in choice["steps"])
    reason = (f"{best} chosen on held-out synthetic phantoms (seed {vs.get('seed')}, {vs['studies']} studies, {vs['slices']} slices, "
              f"slice ROC-AUC of '{RANK_LABEL}': {words}; {steps}); not clinically validated")
    return {"family": best, "reason": reason,
            "rule": (f"families tried cheapest first ({', '.join(COST_ORDER)}); a costlier one is chosen only when its "
                     f"slice ROC-AUC of '{RANK_LABEL}' on the threshold-choosing set beats the choice in at least "
                     f"{100 * CONFIDENCE:.0f} % of {BOOTSTRAP_RESAMPLES} paired bootstrap resamples of its studies; "
                     "flag thresholds per family and label: the highest that flags at least "
                     f"{100 * STUDY_SENSITIVITY:.0f} % of the same set's studies with that label, on study scores "
                     "(the highest slice per label), a subtype's raised above every study without blood"),
            "set": vs, "measured": measured, "bootstrap": choice["steps"], "study_sensitivity": STUDY_SENSITIVITY,
            "thresholds": thresholds,
            "study_operating_points": operating, "slice_thresholds": slice_thresholds}


if __name__ == "__main__":
    print(json.dumps(ranking_record(), indent=1))
