"""Train one registered model on phantoms (default) or on an RSNA-format folder.

    /usr/bin/python3 -m models.training.train --model convlstm --studies 400 --seed 1 --max-minutes 15
    /usr/bin/python3 -m models.training.train --model efficientnet_b3 --data rsna --rsna-dir /data/rsna/stage_2_train

Resumes from ``runs/<model>/last.pt`` when it exists (``--fresh`` starts over); writes one JSON
line per epoch to ``runs/<model>/log.jsonl``, keeps ``last.pt`` and ``best.pt`` (best validation
mean ROC-AUC). Uses CUDA when present, else the CPU: the same command either way.
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import shlex
import sys
import time
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import data as D
from .contract import LABELS
from .engine import (WeightedBCE, append_jsonl, load_checkpoint, now_iso, predict, run_dir, save_checkpoint,
                     select_device, set_threads, train_step)
from .metrics import roc_auc, weighted_log_loss
from .registry import create_model, get_config, list_models


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models())
    ap.add_argument("--data", choices=["phantom", "rsna"], default="phantom")
    ap.add_argument("--rsna-dir", help="folder of ID_*.dcm with stage_2_train.csv (the RSNA download)")
    ap.add_argument("--rsna-csv", help="label CSV when not <rsna-dir>/stage_2_train.csv")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="RSNA: share of studies for validation")
    ap.add_argument("--test-fraction", type=float, default=0.1, help="RSNA: share of studies kept for evaluate.py")
    ap.add_argument("--val-max", type=int, default=2000, help="RSNA: validation slices per epoch, at most")
    ap.add_argument("--seed", type=int, default=1, help="phantom seed of the training studies")
    ap.add_argument("--studies", type=int, default=400, help="phantom training studies")
    ap.add_argument("--balanced", action=argparse.BooleanOptionalAction, default=True, help="phantom balanced mode")
    ap.add_argument("--slices-per-study", type=int, default=None, help="phantom: slices drawn per study per pass")
    ap.add_argument("--val-seed", type=int, default=2, help="phantom seed of the validation studies")
    ap.add_argument("--val-studies", type=int, default=4)
    ap.add_argument("--val-slices-per-study", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=None, help="default: the model's config")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--weight-decay", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=500, help="total epochs (resuming counts the done ones)")
    ap.add_argument("--steps-per-epoch", type=int, default=50)
    ap.add_argument("--max-minutes", type=float, default=None, help="stop this invocation after this wall time")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps in total")
    ap.add_argument("--workers", type=int, default=1, help="data-loading processes")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--device", default=None, help="default: cuda when present, else cpu")
    ap.add_argument("--out", default=None, help="run folder (default models/training/runs/<model>)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    ap.add_argument("--torch-seed", type=int, default=0)
    return ap.parse_args(argv)


def _stream(args: argparse.Namespace, batch_size: int, epoch: int) -> Iterator[D.Sample]:
    if args.data == "phantom":
        ds = D.PhantomSlices(args.seed, args.studies, balanced=args.balanced, slices_per_study=args.slices_per_study,
                             passes=None, shuffle_seed=epoch)
        loader = DataLoader(ds, batch_size=batch_size, num_workers=args.workers, drop_last=True)
    else:
        ds = D.RsnaFolder(args.rsna_dir, split="train", val_fraction=args.val_fraction,
                          test_fraction=args.test_fraction, csv_path=args.rsna_csv)
        g = torch.Generator().manual_seed(args.torch_seed + epoch)
        loader = DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g, num_workers=args.workers,
                            drop_last=True)
    while True:  # RSNA: go round again if an "epoch" of steps outlasts the folder
        yield from loader
        if args.data == "phantom":
            return


def _validation_set(args: argparse.Namespace) -> Dict[str, np.ndarray]:
    if args.data == "phantom":
        return D.phantom_arrays(args.val_seed, args.val_studies, balanced=args.balanced,
                                slices_per_study=args.val_slices_per_study)
    ds = D.RsnaFolder(args.rsna_dir, split="val", val_fraction=args.val_fraction,
                       test_fraction=args.test_fraction, csv_path=args.rsna_csv)
    idx = np.random.default_rng(0).permutation(len(ds))[: args.val_max]
    hu, win, lab = D.stack_samples([ds[int(i)] for i in idx])
    return {"hu": hu.numpy(), "window": win.numpy(), "labels": lab.numpy()}


def _class_weights(args: argparse.Namespace) -> np.ndarray:
    if args.data == "phantom":
        labs = [D.phantom_study(args.seed, k, args.balanced)[2] for k in range(min(8, args.studies))]
        return D.positive_weights(np.concatenate(labs))
    ds = D.RsnaFolder(args.rsna_dir, split="train", val_fraction=args.val_fraction,
                          test_fraction=args.test_fraction, csv_path=args.rsna_csv)
    return D.positive_weights(ds.labels)


def evaluate_validation(model: torch.nn.Module, val: Dict[str, np.ndarray], loss_fn: torch.nn.Module,
                        device: torch.device) -> Dict[str, object]:
    prob = predict(model, val["hu"], val["window"], batch_size=4, device=device)
    y = val["labels"].astype(np.float32)
    p = np.clip(prob.astype(np.float64), 1e-7, 1 - 1e-7)
    logits = torch.from_numpy(np.log(p / (1 - p))).float().to(device)
    loss = float(loss_fn(logits, torch.from_numpy(y).to(device)))
    aucs = {label: roc_auc(y[:, j], prob[:, j]) for j, label in enumerate(LABELS)}
    defined = [a for a in aucs.values() if a is not None]
    return {"val_loss": loss, "val_weighted_log_loss": weighted_log_loss(y, prob), "val_auc": aucs,
            "val_mean_auc": float(np.mean(defined)) if defined else None, "val_slices": int(len(y))}


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    args = parse_args(argv)
    set_threads(args.threads)
    torch.manual_seed(args.torch_seed)
    if args.data == "rsna" and not args.rsna_dir:
        raise SystemExit("--data rsna needs --rsna-dir")
    cfg = get_config(args.model)
    device = select_device(args.device)
    batch_size = args.batch_size or cfg.batch_size
    out = run_dir(args.model, args.out)
    model = create_model(args.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr or cfg.lr,
                                 weight_decay=cfg.weight_decay if args.weight_decay is None else args.weight_decay)
    state = {"epoch": 0, "step": 0, "slices_seen": 0, "train_seconds": 0.0, "wall_seconds": 0.0,
             "best_mean_auc": None, "invocations": 0}
    pos_weight: Optional[np.ndarray] = None
    if (out / "last.pt").exists() and not args.fresh:
        ck = load_checkpoint(out / "last.pt")
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        state.update(ck["state"])
        pos_weight = np.asarray(ck["pos_weight"], np.float32)
        print(f"resumed from {out / 'last.pt'} at epoch {state['epoch']}, step {state['step']}", flush=True)
    if pos_weight is None:
        pos_weight = _class_weights(args)
    state["invocations"] = int(state.get("invocations", 0)) + 1
    loss_fn = WeightedBCE(torch.from_numpy(pos_weight)).to(device)
    val = _validation_set(args)
    flip_gen = torch.Generator().manual_seed(args.torch_seed + int(state["step"]))
    t_start = time.time()
    hardware = f"{platform.machine()} CPU, {torch.get_num_threads()} threads" if device.type == "cpu" else \
        torch.cuda.get_device_name(device)
    argv_used = sys.argv[1:] if argv is None else list(argv)
    run_info = {"command": "/usr/bin/python3 -m models.training.train " + " ".join(shlex.quote(a) for a in argv_used),
                "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(), "model": args.model, "args": vars(args), "pos_weight": pos_weight.tolist(), "device": str(device),
                "hardware": hardware, "batch_size": batch_size}

    def out_of_time() -> bool:
        if args.max_minutes is not None and time.time() - t_start > args.max_minutes * 60:
            return True
        return args.max_steps is not None and state["step"] >= args.max_steps

    last: Dict[str, object] = {}
    while state["epoch"] < args.epochs and not out_of_time():
        t0 = time.time()
        losses: List[float] = []
        for hu, win, lab in itertools.islice(_stream(args, batch_size, int(state["epoch"])), args.steps_per_epoch):
            if cfg.flips:
                hu = D.flip_batch(hu, flip_gen)
            losses.append(train_step(model, optimizer, loss_fn, hu.to(device), win.to(device), lab.to(device)))
            state["step"] += 1
            state["slices_seen"] += int(hu.shape[0])
            if out_of_time():
                break
        state["epoch"] += 1
        state["train_seconds"] += time.time() - t0
        v = evaluate_validation(model, val, loss_fn, device)
        state["wall_seconds"] += time.time() - t0
        improved = v["val_mean_auc"] is not None and (state["best_mean_auc"] is None or
                                                      v["val_mean_auc"] > state["best_mean_auc"])  # type: ignore[operator]
        if improved:
            state["best_mean_auc"] = v["val_mean_auc"]
        last = {"time": now_iso(), "epoch": state["epoch"], "step": state["step"], "slices_seen": state["slices_seen"],
                "train_loss": float(np.mean(losses)) if losses else None, "steps_this_epoch": len(losses),
                "epoch_seconds": round(time.time() - t0, 2), "train_seconds": round(state["train_seconds"], 1),
                "wall_seconds": round(state["wall_seconds"], 1),
                "device": str(device), "best": bool(improved), **v}
        append_jsonl(out / "log.jsonl", last)
        print(f"epoch {state['epoch']} step {state['step']} loss {last['train_loss']:.4f} "
              f"val_loss {v['val_loss']:.4f} val_mean_auc {v['val_mean_auc']}", flush=True)
        ck = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": dict(state),
              "pos_weight": pos_weight.tolist(), "run": run_info, "last_epoch": last}
        save_checkpoint(out / "last.pt", **ck)
        if improved or not (out / "best.pt").exists():
            save_checkpoint(out / "best.pt", **ck)
    return {"state": state, "last": last, "out": str(out)}


if __name__ == "__main__":
    main()
