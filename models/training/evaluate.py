"""Measure a model (or the ensemble) on held-out data; choose the operating thresholds.

    /usr/bin/python3 -m models.training.evaluate --model convlstm --seed 9001 --studies 20
    /usr/bin/python3 -m models.training.evaluate --model ensemble --seed 9001 --studies 20

Thresholds per label are chosen on a validation set (phantoms of ``--val-seed``, or the RSNA
validation split) by Youden's J; the metrics are measured on a test set from a different seed
(or the RSNA test split). The weights evaluated are the shipped ones: the checkpoint rounded
through fp16 (identical to the ONNX file's), or the ONNX file itself with ``--weights onnx``.
Writes ``runs/<model>/evaluation.json`` (read by onnx_export.py for the manifest and the card) and
the predictions (``predictions.npz``, used for the ensemble).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from . import data as D
from .contract import LABELS, MODELS_DIR, REPO_ROOT
from .engine import load_trained, predict, round_to_fp16_, run_dir, select_device, prepare_cpu, now_iso
from .metrics import (expected_calibration_error, per_label_report, roc_auc, subtype_separation, threshold_metrics,
                      weighted_log_loss, youden_threshold)
from .pool import pool_arrays
from .registry import create_model, list_models

ENSEMBLE_ID = "ensemble"
ENSEMBLE_MEMBERS = ("efficientnet_b3", "inception_resnet_v2")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models() + [ENSEMBLE_ID])
    ap.add_argument("--weights", choices=["checkpoint", "onnx", "runtime"], default="checkpoint",
                    help="runtime: the manifest's CPU file run by onnxruntime (an int8 file too; needs the "
                         "quantisation venv, see README)")
    ap.add_argument("--checkpoint", default=None, help="default runs/<model>/best.pt")
    ap.add_argument("--data", choices=["phantom", "rsna"], default="phantom")
    ap.add_argument("--rsna-dir")
    ap.add_argument("--rsna-csv")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--test-fraction", type=float, default=0.1)
    ap.add_argument("--max-slices", type=int, default=None, help="RSNA: cap each split (random, seeded)")
    ap.add_argument("--seed", type=int, default=9001, help="phantom seed of the test studies")
    ap.add_argument("--studies", type=int, default=20)
    ap.add_argument("--slices-per-study", type=int, default=8, help="0: every slice")
    ap.add_argument("--val-seed", type=int, default=8001, help="phantom seed of the threshold-choosing studies")
    ap.add_argument("--val-studies", type=int, default=48)
    ap.add_argument("--pool", help="read the test studies from this phantom pool (faster than generating them)")
    ap.add_argument("--val-pool", help="read the threshold-choosing studies from this phantom pool")
    ap.add_argument("--balanced", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None, help="run folder (default models/training/runs/<model>)")
    ap.add_argument("--runs-root", default=None, help="ensemble: the folder holding the members' run folders")
    args = ap.parse_args(argv)
    if args.slices_per_study == 0:
        args.slices_per_study = None
    return args


def _sets(args: argparse.Namespace) -> Dict[str, Dict[str, np.ndarray]]:
    if args.data == "phantom":
        return {
            "val": pool_arrays(args.val_pool, args.val_studies, args.slices_per_study) if args.val_pool else
            D.phantom_arrays(args.val_seed, args.val_studies, args.balanced, args.slices_per_study),
            "test": pool_arrays(args.pool, args.studies, args.slices_per_study) if args.pool else
            D.phantom_arrays(args.seed, args.studies, args.balanced, args.slices_per_study),
        }
    out = {}
    for split in ("val", "test"):
        ds = D.RsnaFolder(args.rsna_dir, split=split, val_fraction=args.val_fraction,
                          test_fraction=args.test_fraction, csv_path=args.rsna_csv)
        idx = np.random.default_rng(0).permutation(len(ds))[: args.max_slices]
        hu, win, lab = D.stack_samples([ds[int(i)] for i in idx])
        out[split] = {"hu": hu.numpy(), "window": win.numpy(), "labels": lab.numpy().astype(np.uint8),
                      "study": np.array([ds.study_uids[int(i)] for i in idx])}
    return out


def describe(args: argparse.Namespace, split: str, s: Dict[str, np.ndarray]) -> Dict[str, object]:
    d: Dict[str, object] = {"slices": int(len(s["labels"])), "studies": int(len(np.unique(s["study"]))),
                            "positives": {l: int(s["labels"][:, j].sum()) for j, l in enumerate(LABELS)}}
    if args.data == "phantom":
        pool = args.val_pool if split == "val" else args.pool
        seed = json.loads((Path(pool) / "pool.json").read_text())["seed"] if pool else \
            (args.val_seed if split == "val" else args.seed)
        d.update({"source": "synthetic phantoms (models/phantom)", "balanced": bool(args.balanced),
                  "seed": seed, "slices_per_study": args.slices_per_study})
    else:
        d.update({"source": f"RSNA folder {args.rsna_dir}, {split} split by StudyInstanceUID"})
    return d


def report(labels_val: np.ndarray, prob_val: np.ndarray, labels: np.ndarray, prob: np.ndarray) -> Dict[str, object]:
    thresholds = [youden_threshold(labels_val[:, j], prob_val[:, j]) for j in range(len(LABELS))]
    per = per_label_report(LABELS, labels, prob, thresholds)
    for j, l in enumerate(LABELS):
        per[l]["ece"] = expected_calibration_error(labels[:, j], prob[:, j])
    for j, split in subtype_separation(labels, prob).items():
        per[LABELS[j]].update(split)
    micro = threshold_metrics(
        (labels >= 1).ravel(), (prob >= np.asarray(thresholds)[None]).astype(np.float64).ravel(), 0.5)
    aucs = [v["auc"] for v in per.values() if v["auc"] is not None]
    return {
        "thresholds": {l: float(t) for l, t in zip(LABELS, thresholds)},
        "per_label": per,
        "overall": {"mean_auc": float(np.mean(aucs)) if aucs else None,
                    "micro_auc": roc_auc(labels.ravel(), prob.ravel()),
                    "weighted_log_loss": weighted_log_loss(labels, prob),
                    **{f"micro_{k}": v for k, v in micro.items()}},
    }


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    args = parse_args(argv)
    prepare_cpu(args.threads)
    argv_used = sys.argv[1:] if argv is None else argv
    command = "/usr/bin/python3 -m models.training.evaluate " + " ".join(shlex.quote(a) for a in argv_used)
    out_dir = run_dir(args.model, args.out)
    t0 = time.time()
    if args.model == ENSEMBLE_ID:
        member_dir = {m: (Path(args.runs_root) / m if args.runs_root else run_dir(m)) for m in ENSEMBLE_MEMBERS}
        preds = [np.load(member_dir[m] / "predictions.npz") for m in ENSEMBLE_MEMBERS]
        for p in preds[1:]:
            for key in ("val_labels", "test_labels", "val_study", "test_study"):
                if not np.array_equal(p[key], preds[0][key]):
                    raise SystemExit("the members were evaluated on different sets: rerun both with the same options")
        sets = {s: {"labels": preds[0][f"{s}_labels"], "study": preds[0][f"{s}_study"]} for s in ("val", "test")}
        prob = {s: np.mean([p[f"{s}_prob"] for p in preds], axis=0) for s in ("val", "test")}
        weights_desc = "mean of the members' evaluated probabilities (" + ", ".join(ENSEMBLE_MEMBERS) + ")"
        checkpoint_step = None
        member_cmds = [json.loads((member_dir[m] / "evaluation.json").read_text())["command"] for m in ENSEMBLE_MEMBERS]
    elif args.weights == "runtime":
        # The file the app runs on a CPU, run by onnxruntime: the only way to evaluate a network
        # shipped in int8 alone, whose float weights are not kept.
        from .onnx_utils import cpu_graph, read_manifest
        from .quantize import cpu_session, run_batches

        entry = next(m for m in read_manifest()["models"] if m["id"] == args.model)
        cpu = cpu_graph(entry)
        sess = cpu_session(MODELS_DIR / cpu["path"], threads=args.threads or 1)
        sets = _sets(args)
        prob = {s: run_batches(sess, {"hu": sets[s]["hu"].astype(np.float32), "window": sets[s]["window"].astype(np.float32)},
                               args.batch_size) for s in ("val", "test")}
        weights_desc = f"models/{cpu['path']} run by onnxruntime ({cpu.get('precision', 'float')})"
        checkpoint_step = None
        member_cmds = []
    else:
        device = select_device(args.device)
        if args.weights == "onnx":
            from .onnx_utils import state_dict_from_onnx

            model = create_model(args.model)
            model.load_state_dict(state_dict_from_onnx(MODELS_DIR / args.model / f"{args.model}.onnx", model))
            weights_desc = f"models/{args.model}/{args.model}.onnx"
            checkpoint_step = None
        else:
            model, ck = load_trained(args.model, args.checkpoint, args.out)
            round_to_fp16_(model)
            shown = str(Path(ck["path"]).resolve()).replace(str(REPO_ROOT) + "/", "")
            checkpoint_step = int(ck["state"]["step"])
            weights_desc = (f"{shown} rounded through fp16 (step {checkpoint_step}"
                            + (", with its calibration" if ck.get("calibration") else ", uncalibrated") + ")")
        model.to(device)
        sets = _sets(args)
        prob = {s: predict(model, sets[s]["hu"], sets[s]["window"], args.batch_size, device) for s in ("val", "test")}
        member_cmds = []
    result = report(sets["val"]["labels"], prob["val"], sets["test"]["labels"], prob["test"])
    rule = ("per label, Youden's J (max sensitivity + specificity - 1) on the validation set; 0.5 where the "
            "validation set lacks a class")
    evaluation = {"model": args.model, "command": command, "time": now_iso(), "seconds": round(time.time() - t0, 1),
                  "weights": weights_desc, "checkpoint_step": checkpoint_step, "threshold_rule": rule,
                  "member_commands": member_cmds,
                  "test_set": describe(args, "test", sets["test"]), "validation_set": describe(args, "val", sets["val"]),
                  **result}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2, sort_keys=True) + "\n")
    np.savez_compressed(out_dir / "predictions.npz", val_prob=prob["val"], test_prob=prob["test"],
                        val_labels=sets["val"]["labels"], test_labels=sets["test"]["labels"],
                        val_study=np.asarray(sets["val"]["study"]), test_study=np.asarray(sets["test"]["study"]))
    print(json.dumps({"model": args.model, "overall": result["overall"], "thresholds": result["thresholds"],
                      "auc": {l: v["auc"] for l, v in result["per_label"].items()}}, indent=2))  # type: ignore[union-attr]
    return evaluation


if __name__ == "__main__":
    main()
