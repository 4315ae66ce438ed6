"""Export a trained model to ONNX under the model contract; write models/manifest.json and the card.

    /usr/bin/python3 -m models.training.onnx_export --model convlstm
    /usr/bin/python3 -m models.training.onnx_export --model ensemble     # the ensemble entry only
    /usr/bin/python3 -m models.training.onnx_export --model inception_resnet_v2 --adopt-int8 [--drop-float]

Reads the weights from ``runs/<model>/best.pt`` (``--checkpoint`` to choose), rounds them through
fp16, exports (opset 17, dynamic batch), stores the initializers as fp16 behind Cast nodes, shards
external data for large models, and records files with sha256, training figures (from the
checkpoint) and measured metrics (from ``runs/<model>/evaluation.json``, written by evaluate.py).

``--adopt-int8`` records the int8 file that ``quantize.py`` wrote and measured
(``runs/<model>/quantization.json``) as the model's CPU file, only when it costs at most
``INT8_MAX_AUC_COST`` mean ROC-AUC on the held-out slices and runs faster than the float file on this
CPU; the float file stays the CUDA file. ``--drop-float`` ships the int8 file alone (for every
provider) and deletes the float files: for a network whose float file is too big to keep beside it.
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
from .quantize import worst_cost
from .registry import count_parameters, create_model, get_config, list_models

SCHEMA_VERSION = 1
#: The most mean held-out ROC-AUC an int8 file may cost against its float file to be shipped.
INT8_MAX_AUC_COST = 0.005
FLOAT_PRECISION = "float16 initializers, Cast to float32 in the graph (computes in fp32)"


def int8_precision(ops: Optional[List[str]] = None, fp16_weights: int = 0) -> str:
    """The int8 file's storage and arithmetic in words, naming the operators quantised (the
    quantisation record's; files quantised before it kept them: Conv, Gemm and MatMul) and whether
    the layers kept float store their weights as float16."""
    rest = ("the rest computes in float32, its weights stored float16" if fp16_weights
            else "the rest float32")
    return (f"int8 QDQ: weights int8 per channel, activations uint8 ({'/'.join(ops or ['Conv', 'Gemm', 'MatMul'])} "
            f"but the layers the int8 record keeps float); {rest}")


WARNING = ("Trained from scratch on synthetic data only (phantoms, and synthetic bleeds drawn into one real head "
           "CT); NOT clinically validated. Retrain on real data "
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


def stale_evaluation(model_id: str, entry: Optional[Dict[str, Any]],
                     evaluation: Optional[Dict[str, Any]]) -> Optional[str]:
    """Why ``evaluation`` (runs/<id>/evaluation.json) did not measure the weights the manifest row
    ``entry`` ships; None when it did (the shipped file itself, ``--weights onnx``/``runtime``, or a
    checkpoint of the step the row says was exported, ``checkpoint_step``) or when there is no evaluation. The ensemble
    row and the ranking (the worklist's flag thresholds) are computed from these run folders, so a
    candidate evaluated and never shipped must not feed them."""
    if evaluation is None:  # nothing in the run folder: nothing of it feeds the families
        return None
    if entry is None:
        return f"runs/{model_id} holds an evaluation, but {model_id} is not in the manifest"
    weights = str(evaluation.get("weights", ""))
    if weights.startswith(f"models/{model_id}/"):
        return None
    shipped = ((entry.get("training") or {}).get("exportedCheckpoint") or {}).get("step")
    step = evaluation.get("checkpoint_step")  # absent in records written before evaluate kept it: re-evaluate
    if step is not None and shipped is not None and int(step) == int(shipped):
        return None
    return f"runs/{model_id}/evaluation.json measured {weights!r}, not the shipped weights (step {shipped})"


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
        "files": file_entries(model_id, files, path, "float16", ["cuda", "cpu"]),
        "parameters": count_parameters(model),
        "opset": OPSET,
        "weightsOnDisk": FLOAT_PRECISION,
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


def file_entries(model_id: str, files: List[Path], graph: Path, precision: str,
                 providers: List[str]) -> List[Dict[str, Any]]:
    """Manifest rows for one ONNX graph and its external-data shards: the app loads the graph row
    whose ``providers`` holds the execution provider it runs (and checks every row's sha256)."""
    return [{"path": f"{model_id}/{f.name}", "sha256": sha256(f), "bytes": f.stat().st_size,
             "role": "model" if f == graph else "external-data", "precision": precision,
             "providers": providers} for f in files]


def adopt_int8(entry: Dict[str, Any], drop_float: bool) -> Dict[str, Any]:
    """The model's entry with its measured int8 file as the CPU file (and, with ``drop_float``, the
    only file)."""
    model_id = entry["id"]
    qpath = run_dir(model_id) / "quantization.json"
    if not qpath.exists():
        raise SystemExit(f"no {qpath}: run models.training.quantize --model {model_id} first")
    q = json.loads(qpath.read_text())
    graph = MODELS_DIR / model_id / f"{model_id}.int8.onnx"
    int8_files = sorted(graph.parent.glob(graph.name + "*"), key=lambda f: (f != graph, f.name))
    if not int8_files or not graph.exists():
        raise SystemExit(f"no {graph}: run models.training.quantize --model {model_id} first")
    if q["results"]["int8"].get("sha256") not in (None, sha256(graph)):
        raise SystemExit(f"{graph} is not the file {qpath} measured: quantise and measure again")
    if worst_cost(q) > INT8_MAX_AUC_COST:
        where = ", ".join([f"{q['mean_auc_cost']:.4f} on the test pool"] + [f"{a['mean_auc_cost']:.4f} on {a['pool']}" for a in q.get("also") or []])
        raise SystemExit(f"{model_id}: int8 costs more than {INT8_MAX_AUC_COST} mean ROC-AUC ({where}): not adopted")
    if q["speedup"] <= 1.0:
        raise SystemExit(f"{model_id}: int8 is not faster on this CPU ({q['speedup']:.2f}x): not adopted")
    floats = [f for f in entry["files"] if f.get("precision", "float16") != "int8"]
    if drop_float:
        for f in floats:
            (MODELS_DIR / f["path"]).unlink(missing_ok=True)
        floats = []
    else:
        floats = [dict(f, providers=["cuda"]) for f in floats]
    rows = file_entries(model_id, int8_files, graph, "int8", ["cpu"] if floats else ["cpu", "cuda"])
    f, i = q["results"]["float"], q["results"]["int8"]
    entry = dict(entry, files=floats + rows, file=(floats[0]["path"] if floats else rows[0]["path"]),
                 weightsOnDisk=(FLOAT_PRECISION + "; CPU: " if floats else "")
                 + int8_precision(q.get("quantization", {}).get("ops"),
                                  q.get("quantization", {}).get("float_weights_stored_fp16", 0)))
    entry["int8"] = {
        "file": rows[0]["path"], "providers": rows[0]["providers"], "scheme": q["scheme"],
        "calibration": q.get("quantization", {}).get("calibration_slices"),
        "calibrationSeed": q.get("quantization", {}).get("calibration_pool_seed"),
        "calibrationPools": q.get("quantization", {}).get("calibration_pools"),
        "heldOut": q["test"],
        "meanAucFloat": f["mean_auc"], "meanAucInt8": i["mean_auc"], "meanAucCost": q["mean_auc_cost"],
        "aucAnyFloat": f["auc"]["any"], "aucAnyInt8": i["auc"]["any"],
        "msPerSliceFloat": f["ms_per_slice"], "msPerSliceInt8": i["ms_per_slice"], "speedup": q["speedup"],
        "measuredOn": q.get("machine"), "threads": q["threads"], "batchSize": q["batch_size"],
        "command": q["command"], "floatShipped": bool(floats),
        "alsoHeldOut": [{"pool": a["pool"], "slices": a["slices"], "meanAucFloat": a["mean_auc_float"],
                         "meanAucInt8": a["mean_auc_int8"], "meanAucCost": a["mean_auc_cost"]} for a in q.get("also") or []],
        # onnxruntime's probabilities on models/training/reference_input.py, for the parity test
        "reference": q["reference"],
    }
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
    refresh_card(entry)
    return entry


def refresh_card(entry: Dict[str, Any], ensemble_row: Optional[Dict[str, Any]] = None) -> None:
    """The model's card from its evaluation; the ensemble's section from the ensemble's evaluation,
    or from ``ensemble_row``'s recorded metrics where the manifest keeps that row."""
    model_id = entry["id"]
    ensemble = None
    if model_id in ENSEMBLE_MEMBERS and ensemble_row is None:
        ensemble = _read_eval(ENSEMBLE_ID)
    elif model_id in ENSEMBLE_MEMBERS and (recorded := ensemble_row.get("metrics")):
        ensemble = {"per_label": recorded["perLabel"], "overall": recorded["overall"], "command": recorded["command"]}
    write_card(MODELS_DIR / model_id / "CARD.md", entry, _read_eval(model_id), ensemble, _output_std(model_id),
               ensemble_note() if model_id in ENSEMBLE_MEMBERS else None)


def main(argv: Optional[List[str]] = None) -> None:
    from .ranking import NETWORKS, ranking_record

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models() + [ENSEMBLE_ID, "all"])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--allow-untrained", action="store_true", help="export random weights when no checkpoint")
    ap.add_argument("--metrics-only", action="store_true",
                    help="keep the model's files; refresh its thresholds, metrics and card from evaluation.json")
    ap.add_argument("--adopt-int8", action="store_true",
                    help="ship the int8 file quantize.py measured as the CPU file (see the module's text)")
    ap.add_argument("--drop-float", action="store_true", help="with --adopt-int8: ship the int8 file alone")
    args = ap.parse_args(argv)
    doc = read_manifest()
    models = {m["id"]: m for m in doc.get("models", [])}
    ids = list_models() if args.model == "all" else ([] if args.model == ENSEMBLE_ID else [args.model])
    for model_id in ids:
        if (args.adopt_int8 or args.metrics_only) and _read_eval(model_id) is None:
            # The card is written from the evaluation: without one it would lose its figures.
            recorded = ((models.get(model_id) or {}).get("metrics") or {}).get("command")
            raise SystemExit(f"no {run_dir(model_id) / 'evaluation.json'}: the card is written from it; evaluate the "
                             f"shipped file first" + (f" ({recorded})" if recorded else ""))
        if args.adopt_int8:
            models[model_id] = adopt_int8(models[model_id], args.drop_float)
            refresh_card(models[model_id], next((e for e in doc.get("ensembles", []) if e.get("id") == ENSEMBLE_ID), {}))
            print(f"adopted {models[model_id]['int8']['file']} for {', '.join(models[model_id]['int8']['providers'])}")
            continue
        if args.metrics_only:
            models[model_id] = refresh_metrics(models[model_id])
            print(f"refreshed the metrics of {model_id}")
            continue
        models[model_id] = export_model(model_id, args.checkpoint, args.allow_untrained)
        print(f"exported {model_id}: " + ", ".join(f"{f['path']} ({f['bytes']} B)" for f in models[model_id]["files"]))
    if args.adopt_int8:
        # An int8 file changes the file the CPU runs, not what the evaluations measured (they run the
        # weights in PyTorch): the ensemble row and the ranking, flag thresholds included, stay as recorded.
        write_manifest(list(models.values()), list(doc.get("ensembles", [])), doc.get("ranking"))
        print(f"wrote {MANIFEST} (ensemble row and ranking unchanged)")
        return
    stale = [why for m in NETWORKS if (why := stale_evaluation(m, models.get(m), _read_eval(m))) is not None]
    ensembles = []
    if stale:  # keep the recorded ensemble row and ranking rather than compute them from candidates
        for why in stale:
            print(f"ensemble row and ranking family unchanged: {why}")
        ensembles, ranking = list(doc.get("ensembles", [])), doc.get("ranking")
    else:
        if all(m in models for m in ENSEMBLE_MEMBERS) and _read_eval(ENSEMBLE_ID) is None:
            # A checkout without run folders (a fresh clone) has nothing to recompute the row from.
            print(f"ensemble row unchanged: no {run_dir(ENSEMBLE_ID) / 'evaluation.json'}")
            ensembles = [e for e in doc.get("ensembles", []) if e.get("id") == ENSEMBLE_ID]
        elif all(m in models for m in ENSEMBLE_MEMBERS):
            ensembles.append(ensemble_entry())
        missing = [m for m in NETWORKS if _read_eval(m) is None]
        try:
            if missing:  # a family left out would not be weighed against the choice
                raise SystemExit(f"no evaluation of {', '.join(missing)} in runs/")
            ranking = ranking_record()
        except SystemExit as err:  # not every family evaluated on one set: keep the last measured choice
            print(f"ranking family unchanged: {err}")
            ranking = doc.get("ranking")
    write_manifest(list(models.values()), ensembles, ranking)
    print(f"wrote {MANIFEST}")


if __name__ == "__main__":
    main()
