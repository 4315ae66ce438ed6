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
from .onnx_utils import OPSET, check_contract, export_onnx, save_sharded, sha256, to_fp16_storage
from .registry import count_parameters, create_model, get_config, list_models

MANIFEST = MODELS_DIR / "manifest.json"
SCHEMA_VERSION = 1
WARNING = ("Trained from scratch on synthetic phantoms only; NOT clinically validated. Retrain on real data "
           "(see the card) before any use on patients.")


def read_manifest() -> Dict[str, Any]:
    if MANIFEST.exists():
        return json.loads(MANIFEST.read_text())
    return {}


def write_manifest(models: List[Dict[str, Any]], ensembles: List[Dict[str, Any]]) -> None:
    order = {m: i for i, m in enumerate(list_models())}
    doc = {
        "$comment": ("Written by models/training/onnx_export.py; do not edit by hand. Paths are relative to this "
                     "file's folder. Every model satisfies the model contract (src/shared/model-contract.json)."),
        "schemaVersion": SCHEMA_VERSION,
        "labels": list(LABELS),
        "contract": {"inputs": INPUTS, "outputs": OUTPUTS},
        "models": sorted(models, key=lambda m: order.get(m["id"], 99)),
        "ensembles": ensembles,
    }
    MANIFEST.write_text(json.dumps(doc, indent=2) + "\n")


def _hardware(run: Dict[str, Any]) -> str:
    if str(run.get("device", "cpu")).startswith("cuda"):
        return str(run.get("hardware"))
    return f"{run.get('cpu_count', os.cpu_count())}-core CPU ({platform.machine()}), no GPU, {run.get('threads')} torch threads"


def training_record(model_id: str, best: Dict[str, Any], last: Dict[str, Any]) -> Dict[str, Any]:
    run, args = last.get("run", {}), last.get("run", {}).get("args", {})
    st, bst = last["state"], best["state"]
    rec: Dict[str, Any] = {
        "fromScratch": True,
        "command": run.get("command"),
        "data": ("synthetic phantoms (models/phantom), balanced mode" if args.get("balanced") else
                 "synthetic phantoms (models/phantom)") if args.get("data") == "phantom" else
        f"RSNA-format folder {args.get('rsna_dir')}",
        "hardware": _hardware(run),
        "epochs": st["epoch"], "steps": st["step"], "slicesSeen": st["slices_seen"],
        "batchSize": run.get("batch_size"), "stepsPerEpoch": args.get("steps_per_epoch"),
        "wallSeconds": round(float(st.get("wall_seconds", st["train_seconds"])), 1),
        "optimizer": "Adam", "learningRate": args.get("lr") or get_config(model_id).lr,
        "classWeights": dict(zip(LABELS, [round(float(x), 3) for x in last.get("pos_weight", [])])),
        "exportedCheckpoint": {"epoch": bst["epoch"], "step": bst["step"],
                               "rule": "best validation mean ROC-AUC over the epochs"},
    }
    if args.get("data") == "phantom":
        rec.update({"phantomSeed": args.get("seed"), "phantomStudies": args.get("studies"),
                    "validationSeed": args.get("val_seed"), "validationStudies": args.get("val_studies")})
    return rec


def metrics_record(evaluation: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if evaluation is None:
        return None
    keep = ("auc", "sensitivity", "specificity", "precision", "f1", "accuracy", "positives", "threshold")
    return {
        "command": evaluation["command"],
        "measuredAt": evaluation["time"],
        "testSet": evaluation["test_set"],
        "thresholdSet": evaluation["validation_set"],
        "perLabel": {l: {k: evaluation["per_label"][l].get(k) for k in keep} for l in LABELS},
        "overall": evaluation["overall"],
    }


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
        "thresholds": (evaluation or {}).get("thresholds") or {l: 0.5 for l in LABELS},
        "thresholdRule": (evaluation or {}).get("threshold_rule", "0.5 (not yet measured)"),
        "metrics": metrics_record(evaluation),
        "card": f"{model_id}/CARD.md",
        "clinicalUse": WARNING,
        "export": fp16,
    }
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


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models() + [ENSEMBLE_ID, "all"])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--allow-untrained", action="store_true", help="export random weights when no checkpoint")
    args = ap.parse_args(argv)
    doc = read_manifest()
    models = {m["id"]: m for m in doc.get("models", [])}
    ids = list_models() if args.model == "all" else ([] if args.model == ENSEMBLE_ID else [args.model])
    for model_id in ids:
        models[model_id] = export_model(model_id, args.checkpoint, args.allow_untrained)
        print(f"exported {model_id}: " + ", ".join(f"{f['path']} ({f['bytes']} B)" for f in models[model_id]["files"]))
    ensembles = []
    if all(m in models for m in ENSEMBLE_MEMBERS):
        ensembles.append(ensemble_entry())
    write_manifest(list(models.values()), ensembles)
    print(f"wrote {MANIFEST}")


if __name__ == "__main__":
    main()
