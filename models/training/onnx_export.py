"""Export a trained model to ONNX under the model contract; write models/manifest.json and the card.

    /usr/bin/python3 -m models.training.onnx_export --model convlstm
    /usr/bin/python3 -m models.training.onnx_export --model ensemble     # the ensemble entry only

Reads the weights from ``runs/<model>/best.pt`` (``--checkpoint`` to choose), rounds them through
fp16, exports (opset 17, dynamic batch), stores the initializers as fp16 behind Cast nodes, shards
external data for large models, and records files with sha256, training figures (from the
checkpoint) and measured metrics (from ``runs/<model>/evaluation.json``, written by evaluate.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import onnx
import torch

from .cards import write_card
from .contract import INPUTS, LABELS, MODELS_DIR, OUTPUTS, REPO_ROOT
from .engine import load_checkpoint, load_trained, round_to_fp16_, run_dir
from .evaluate import ENSEMBLE_ID, ENSEMBLE_MEMBERS
from .onnx_utils import MANIFEST, OPSET, read_manifest, check_contract, export_onnx, save_sharded, sha256, to_fp16_storage
from .registry import count_parameters, create_model, get_config, list_models

SCHEMA_VERSION = 1
WARNING = ("Trained from scratch on synthetic phantoms only; NOT clinically validated. Retrain on real data "
           "(see the card) before any use on patients.")


def write_manifest(models: List[Dict[str, Any]], ensembles: List[Dict[str, Any]],
                   ranking: Optional[Dict[str, Any]] = None) -> None:
    order = {m: i for i, m in enumerate(list_models())}
    doc = {
        "$comment": ("Written by models/training/onnx_export.py; do not edit by hand. Paths are relative to this "
                     "file's folder. Every model satisfies the model contract (src/shared/model-contract.json)."),
        "schemaVersion": SCHEMA_VERSION,
        "labels": list(LABELS),
        "contract": {"inputs": INPUTS, "outputs": OUTPUTS},
        "models": sorted(models, key=lambda m: order.get(m["id"], 99)),
        "ensembles": ensembles,
        **({"ranking": ranking} if ranking else {}),
    }
    MANIFEST.write_text(json.dumps(doc, indent=2) + "\n")


def _legacy_run(last: Dict[str, Any]) -> Dict[str, Any]:
    """A checkpoint written before runs were recorded one by one, as one run."""
    run, args, st = last.get("run", {}), last.get("run", {}).get("args", {}), last["state"]
    hw = str(run.get("hardware")) if str(run.get("device", "cpu")).startswith("cuda") else \
        f"{run.get('cpu_count', os.cpu_count())}-core CPU ({platform.machine()}), {run.get('threads')} torch threads"
    return {"hardware": hw, "minutes": round(float(st.get("wall_seconds", st.get("train_seconds", 0))) / 60, 1),
            "slices": st.get("slices_seen"), "steps": st.get("step"), "command": run.get("command"),
            "data": "synthetic phantoms generated on the fly", "batch_size": run.get("batch_size"),
            "lr": args.get("lr"), "init": "from scratch"}


def training_record(model_id: str, best: Dict[str, Any], last: Dict[str, Any]) -> Dict[str, Any]:
    """Every run that contributed to the weights (hardware, minutes, slices) and their total."""
    st = last["state"]
    if "runs" not in st:
        runs = [_legacy_run(last)]
    else:
        runs = list(st["runs"])
        cur = st.get("run")
        if cur and not cur.get("finished") and cur.get("steps"):
            runs.append({**{k: cur.get(k) for k in ("started", "command", "hardware", "data", "init", "batch_size", "lr",
                                                    "steps", "slices")},
                         "minutes": round(float(cur.get("seconds", 0)) / 60, 1), "note": "stopped before its budget"})
    latest = runs[-1] if runs else {}
    cur = st.get("run") or {}
    total_minutes = round(sum(float(r.get("minutes") or 0) for r in runs), 1)
    rec: Dict[str, Any] = {
        "fromScratch": True,
        "pretrained": None,
        "command": latest.get("command"),
        "data": latest.get("data"),
        "hardware": latest.get("hardware"),
        "runs": runs,
        "total": {"runs": len(runs), "minutes": total_minutes,
                  "slices": int(sum(int(r.get("slices") or 0) for r in runs)),
                  "steps": int(sum(int(r.get("steps") or 0) for r in runs))},
        "slicesSeen": int(sum(int(r.get("slices") or 0) for r in runs)),
        "steps": int(sum(int(r.get("steps") or 0) for r in runs)),
        "wallSeconds": round(total_minutes * 60, 1),
        "batchSize": latest.get("batch_size"),
        "optimizer": "AdamW" if "runs" in st else "Adam",
        "learningRate": latest.get("lr"),
        "recipe": {k: cur.get(k) for k in ("weight_decay", "warmup_steps", "train_size", "native_from", "bf16", "augment")}
        if "runs" in st else None,
        "classWeights": dict(zip(LABELS, [round(float(x), 3) for x in last.get("pos_weight", [])])),
        "exportedCheckpoint": {"step": best["state"]["step"],
                               "rule": "best validation mean ROC-AUC of the weights' moving average (EMA), "
                                       "evaluated every few hundred steps"},
    }
    return rec


def metrics_record(evaluation: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if evaluation is None:
        return None
    keep = ("auc", "sensitivity", "specificity", "precision", "f1", "accuracy", "positives", "threshold", "ece")
    return {
        "command": evaluation["command"],
        "measuredAt": evaluation["time"],
        "testSet": evaluation["test_set"],
        "thresholdSet": evaluation["validation_set"],
        "perLabel": {l: {k: evaluation["per_label"][l].get(k) for k in keep} for l in LABELS},
        "overall": evaluation["overall"],
    }


def calibration_record(cal: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """What the graph's calibration layer holds and how it was fitted (None: identity)."""
    if not cal:
        return None
    return {"method": cal["method"], "inGraph": True, "scale": dict(zip(LABELS, cal["scale"])),
            "bias": dict(zip(LABELS, cal["bias"])), "set": cal["set"], "eceBins": cal["ece_bins"],
            "eceBefore": cal["ece_before"], "eceAfter": cal["ece_after"], "command": cal["command"]}


def _read_eval(model_id: str) -> Optional[Dict[str, Any]]:
    p = run_dir(model_id) / "evaluation.json"
    if not p.exists():
        return None
    # Paths in the record are shown relative to the repository (older records held absolute ones).
    return json.loads(p.read_text().replace(str(REPO_ROOT) + "/", ""))


COLLAPSED_STD = 1e-3  # a model whose test probabilities vary less than this has not learned


def _output_std(model_id: str) -> Optional[Dict[str, float]]:
    preds = run_dir(model_id) / "predictions.npz"
    if not preds.exists():
        return None
    return {l: float(v) for l, v in zip(LABELS, np.load(preds)["test_prob"].std(axis=0))}


def ensemble_note() -> Optional[str]:
    stds = {m: _output_std(m) for m in ENSEMBLE_MEMBERS}
    collapsed = [m for m, std in stds.items() if std is not None and max(std.values()) < COLLAPSED_STD]
    if not collapsed:
        return None
    return (f"Note: {', '.join(collapsed)} currently gives probabilities that barely vary from slice to slice "
            f"(per-label standard deviation below {COLLAPSED_STD:g}), so in the per-label mean it hardly moves the "
            "ensemble's ranking: the ensemble ranks slices almost as the other member does, with its probabilities "
            "and thresholds shifted.")


def export_model(model_id: str, checkpoint: Optional[str], allow_untrained: bool) -> Dict[str, Any]:
    cfg = get_config(model_id)
    d = run_dir(model_id)
    try:
        model, best = load_trained(model_id, checkpoint)
        # The training record comes from the run that produced the chosen checkpoint.
        run = Path(checkpoint).parent if checkpoint else d
        last = load_checkpoint(run / "last.pt") if (run / "last.pt").exists() else best
    except FileNotFoundError:
        if not allow_untrained:
            raise SystemExit(f"no checkpoint in {d}; train first or pass --allow-untrained")
        torch.manual_seed(0)
        model, best, last = create_model(model_id), None, None
    round_to_fp16_(model.eval())
    out_dir = MODELS_DIR / model_id
    path = out_dir / f"{model_id}.onnx"
    proto = export_onnx(model, path)
    check_contract(proto)
    fp16 = to_fp16_storage(proto)
    meta = {"model_id": model_id, "version": cfg.version, "labels": json.dumps(list(LABELS)),
            "contract": "src/shared/model-contract.json", "warning": WARNING}
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    proto.producer_name = "models/training/onnx_export.py"
    files = save_sharded(proto, path)
    onnx.checker.check_model(str(path))
    evaluation = _read_eval(model_id)
    entry: Dict[str, Any] = {
        "id": model_id,
        "version": cfg.version,
        "architecture": cfg.architecture,
        "paper": cfg.paper,
        "file": f"{model_id}/{path.name}",
        "files": [{"path": f"{model_id}/{f.name}", "sha256": sha256(f), "bytes": f.stat().st_size,
                   "role": "model" if f == path else "external-data"} for f in files],
        "parameters": count_parameters(model),
        "opset": OPSET,
        "weightsOnDisk": "float16 initializers, Cast to float32 in the graph (computes in fp32)",
        "inputs": INPUTS,
        "outputs": OUTPUTS,
        "labels": list(LABELS),
        "networkInputSize": cfg.input_size,
        "preprocessing": cfg.preprocessing,
        "interpretations": cfg.notes,
        "training": training_record(model_id, best, last) if best else {"fromScratch": True, "steps": 0,
                                                                       "data": "untrained (random init)"},
        "calibration": calibration_record(best.get("calibration") if best else None),
        "thresholds": (evaluation or {}).get("thresholds") or {l: 0.5 for l in LABELS},
        "thresholdRule": (evaluation or {}).get("threshold_rule", "0.5 (not yet measured)"),
        "metrics": metrics_record(evaluation),
        "card": f"{model_id}/CARD.md",
        "clinicalUse": WARNING,
        "export": fp16,
    }
    sweep = run_dir(model_id) / "lr_sweep.json"
    if sweep.exists():
        entry["lrSweep"] = {k: v for k, v in json.loads(sweep.read_text()).items() if k != "rows"}
    output_std = _output_std(model_id) if evaluation else None
    if output_std is not None:
        entry["metrics"]["outputStdOnTestSet"] = output_std  # ~0 means input-independent (not learned)
    write_card(out_dir / "CARD.md", entry, evaluation, _read_eval(ENSEMBLE_ID) if model_id in ENSEMBLE_MEMBERS else None,
               output_std, ensemble_note() if model_id in ENSEMBLE_MEMBERS else None)
    return entry


def ensemble_entry() -> Dict[str, Any]:
    evaluation = _read_eval(ENSEMBLE_ID)
    entry = {
        "id": ENSEMBLE_ID,
        "members": list(ENSEMBLE_MEMBERS),
        "rule": "mean",
        "weights": [1.0 / len(ENSEMBLE_MEMBERS)] * len(ENSEMBLE_MEMBERS),
        "description": "Barin et al. 2021 hybrid: per label, the mean of the members' sigmoid probabilities",
        "note": ensemble_note(),
        "thresholds": (evaluation or {}).get("thresholds") or {l: 0.5 for l in LABELS},
        "thresholdRule": (evaluation or {}).get("threshold_rule", "0.5 (not yet measured)"),
        "metrics": metrics_record(evaluation),
        "cards": [f"{m}/CARD.md" for m in ENSEMBLE_MEMBERS],
        "clinicalUse": WARNING,
    }
    return entry


def refresh_metrics(entry: Dict[str, Any]) -> Dict[str, Any]:
    """Keep a model's files and training record; take thresholds, metrics and card from a new
    evaluation of the shipped file (``evaluate.py --weights onnx``)."""
    model_id = entry["id"]
    evaluation = _read_eval(model_id)
    if evaluation is None:
        raise SystemExit(f"no runs/{model_id}/evaluation.json: evaluate the shipped file first")
    entry = dict(entry, thresholds=evaluation["thresholds"], thresholdRule=evaluation["threshold_rule"],
                 metrics=metrics_record(evaluation))
    std = _output_std(model_id)
    if std is not None:
        entry["metrics"]["outputStdOnTestSet"] = std
    write_card(MODELS_DIR / model_id / "CARD.md", entry, evaluation,
               _read_eval(ENSEMBLE_ID) if model_id in ENSEMBLE_MEMBERS else None, std,
               ensemble_note() if model_id in ENSEMBLE_MEMBERS else None)
    return entry


def main(argv: Optional[List[str]] = None) -> None:
    from .ranking import ranking_record

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models() + [ENSEMBLE_ID, "all"])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--allow-untrained", action="store_true", help="export random weights when no checkpoint")
    ap.add_argument("--metrics-only", action="store_true",
                    help="keep the model's files; refresh its thresholds, metrics and card from evaluation.json")
    args = ap.parse_args(argv)
    doc = read_manifest()
    models = {m["id"]: m for m in doc.get("models", [])}
    ids = list_models() if args.model == "all" else ([] if args.model == ENSEMBLE_ID else [args.model])
    for model_id in ids:
        if args.metrics_only:
            models[model_id] = refresh_metrics(models[model_id])
            print(f"refreshed the metrics of {model_id}")
            continue
        models[model_id] = export_model(model_id, args.checkpoint, args.allow_untrained)
        print(f"exported {model_id}: " + ", ".join(f"{f['path']} ({f['bytes']} B)" for f in models[model_id]["files"]))
    ensembles = []
    if all(m in models for m in ENSEMBLE_MEMBERS):
        ensembles.append(ensemble_entry())
    try:
        ranking = ranking_record()
    except SystemExit as err:  # not every family evaluated on one set: keep the last measured choice
        print(f"ranking family unchanged: {err}")
        ranking = doc.get("ranking")
    write_manifest(list(models.values()), ensembles, ranking)
    print(f"wrote {MANIFEST}")


if __name__ == "__main__":
    main()
