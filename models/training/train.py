"""Train one registered model on a phantom pool (default), phantoms made on the fly, or an RSNA folder.

    /usr/bin/python3 -m models.training.pool build --seed 1 --studies 800 --out /data/pool-s1
    /usr/bin/python3 -m models.training.pool build --seed 2 --studies 24 --out /data/pool-s2
    /usr/bin/python3 -m models.training.train --model efficientnet_b3 --pool /data/pool-s1 --val-pool /data/pool-s2 \\
        --init onnx --max-minutes 240
    /usr/bin/python3 -m models.training.train --model efficientnet_b3 --data rsna --rsna-dir /data/rsna/stage_2_train

The recipe: AdamW, linear warm-up then cosine decay over the run's budget (``--max-steps`` and/or
``--max-minutes``, whichever is used up first), gradient-norm clipping, an exponential moving
average of the weights (evaluated, checkpointed as the model, exported), augmentation of each batch
on the device (``augment.py``), bf16 autocast and channels_last on CUDA, and on a CPU with ``--bf16``
(AVX-512 BF16: an Inception-ResNet-V2 step about 1.7x faster on a 2-core EPYC, the Conv-LSTM's
1.5-2x, EfficientNet-B3's no faster; models/training/README.md, bench/torch_bench.py train-step).
One DataLoader serves the whole run.

Runs add up: ``--init onnx`` starts from the committed weights in models/<id>/ (or ``--init PATH``
from a checkpoint), so training done on different days and machines accumulates; every checkpoint
carries the history of runs (hardware, minutes, slices) that the card prints. An interrupted run
resumes from ``runs/<model>/last.pt`` with its schedule where it stopped (``--fresh`` ignores it).
Writes one JSON line per evaluation to ``runs/<model>/log.jsonl`` and keeps ``last.pt`` and
``best.pt`` (best validation mean ROC-AUC).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import data as D
from .augment import AugmentConfig, augment_batch, parse_pool, pool_loader
from .contract import LABELS, MODELS_DIR
from .engine import (ModelEma, WeightedBCE, append_jsonl, command_line, hardware, load_checkpoint, now_iso, predict,
                     prepare_cpu, run_dir, save_checkpoint, select_device, train_step, warmup_cosine)
from .metrics import roc_auc, weighted_log_loss
from .pool import PoolIndex, pool_arrays
from .registry import ModelConfig, create_model, get_config, list_models


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models())
    ap.add_argument("--data", choices=["pool", "phantom", "rsna"], default=None,
                    help="default: pool when --pool is given, else phantoms made on the fly")
    ap.add_argument("--pool", action="append", default=None, metavar="PATH[:SHARE]",
                    help="a pool folder (models.training.pool build or build-inserted); repeat to mix pools, "
                         "each drawn with its SHARE of the slices (default 1)")
    ap.add_argument("--rsna-dir", help="folder of ID_*.dcm with stage_2_train.csv (the RSNA download)")
    ap.add_argument("--rsna-csv", help="label CSV when not <rsna-dir>/stage_2_train.csv")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="RSNA: share of studies for validation")
    ap.add_argument("--test-fraction", type=float, default=0.1, help="RSNA: share of studies kept for evaluate.py")
    ap.add_argument("--val-max", type=int, default=2000, help="RSNA: validation slices, at most")
    ap.add_argument("--seed", type=int, default=1, help="on-the-fly phantoms: seed of the training studies")
    ap.add_argument("--studies", type=int, default=400, help="on-the-fly phantoms: training studies")
    ap.add_argument("--balanced", action=argparse.BooleanOptionalAction, default=True, help="phantom balanced mode")
    ap.add_argument("--slices-per-study", type=int, default=None, help="on-the-fly phantoms: slices per study per pass")
    ap.add_argument("--val-pool", action="append", default=None,
                    help="a pool of validation studies (another seed); repeat to validate on several, "
                         "--val-studies and --val-slices-per-study from each")
    ap.add_argument("--val-seed", type=int, default=2, help="on-the-fly validation: phantom seed")
    ap.add_argument("--val-studies", type=int, default=16)
    ap.add_argument("--val-slices-per-study", type=int, default=12)
    ap.add_argument("--init", default="none", help="'none' (from scratch), 'onnx' (the committed models/<id>/ "
                                                    "weights) or a checkpoint path")
    ap.add_argument("--batch-size", type=int, default=None, help="default: the model's config")
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the model's config)")
    ap.add_argument("--weight-decay", type=float, default=None, help="AdamW decoupled weight decay")
    ap.add_argument("--warmup-steps", type=int, default=None, help="default: 5 %% of --max-steps, else 50")
    ap.add_argument("--min-lr-ratio", type=float, default=0.02, help="the cosine ends at this share of the peak")
    ap.add_argument("--clip", type=float, default=2.0, help="gradient-norm clip (0: off)")
    ap.add_argument("--other-bleed-weight", type=float, default=1.0,
                    help="loss weight of a subtype's negatives on slices that bleed (another subtype): "
                         "above 1 teaches one subtype's blood from another's (engine.WeightedBCE)")
    ap.add_argument("--ema-decay", type=float, default=0.998)
    ap.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--train-size", type=int, default=None,
                    help="ensemble members: the network's input size while training (progressive resizing); "
                         "the native size is used from --native-from on, and always for evaluation")
    ap.add_argument("--native-from", type=float, default=0.7, help="share of the run after which --train-size ends")
    ap.add_argument("--eval-every", type=int, default=200, help="optimiser steps between evaluations")
    ap.add_argument("--max-minutes", type=float, default=None, help="the run's wall-time budget")
    ap.add_argument("--max-steps", type=int, default=None, help="the run's optimiser-step budget")
    ap.add_argument("--workers", type=int, default=1, help="data-loading processes")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--device", default=None, help="default: cuda when present, else cpu")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                    help="autocast the forward pass to bfloat16, channels_last (default: on with CUDA; on a CPU "
                         "with AVX-512 BF16 it nearly halves Inception-ResNet-V2's step)")
    ap.add_argument("--out", default=None, help="run folder (default models/training/runs/<model>)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing last.pt")
    ap.add_argument("--torch-seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.data is None:
        args.data = "pool" if args.pool else "phantom"
    if args.data == "pool" and not args.pool:
        ap.error("--data pool needs --pool")
    if args.data == "rsna" and not args.rsna_dir:
        ap.error("--data rsna needs --rsna-dir")
    if args.max_steps is None and args.max_minutes is None:
        ap.error("give the run a budget: --max-steps and/or --max-minutes (--max-steps 0: checkpoint the --init weights)")
    return args


# ----------------------------------------------------------------------------- data

def _batches(args: argparse.Namespace, batch_size: int, seed: int, pin: bool) -> Iterator[D.Sample]:
    """One endless stream of batches for the whole run."""
    if args.data == "pool":
        yield from pool_loader(args.pool, batch_size, args.workers, seed, pin=pin)
        return
    if args.data == "phantom":
        ds = D.PhantomSlices(args.seed, args.studies, balanced=args.balanced, slices_per_study=args.slices_per_study,
                             passes=None, shuffle_seed=seed)
        yield from DataLoader(ds, batch_size=batch_size, num_workers=args.workers, drop_last=True, pin_memory=pin)
        return
    ds = D.RsnaFolder(args.rsna_dir, split="train", val_fraction=args.val_fraction,
                      test_fraction=args.test_fraction, csv_path=args.rsna_csv)
    from .augment import EndlessSampler

    keys = list(range(len(ds)))
    yield from DataLoader(ds, batch_size=batch_size, sampler=EndlessSampler(lambda: keys, seed), num_workers=args.workers,
                          drop_last=True, pin_memory=pin, persistent_workers=args.workers > 0)


def _validation_set(args: argparse.Namespace) -> Dict[str, np.ndarray]:
    if args.val_pool:
        parts = [pool_arrays(p, args.val_studies, args.val_slices_per_study) for p in args.val_pool]
        return {k: np.concatenate([p[k] for p in parts]) for k in ("hu", "window", "labels")}
    if args.data == "rsna":
        ds = D.RsnaFolder(args.rsna_dir, split="val", val_fraction=args.val_fraction,
                          test_fraction=args.test_fraction, csv_path=args.rsna_csv)
        idx = np.random.default_rng(0).permutation(len(ds))[: args.val_max]
        hu, win, lab = D.stack_samples([ds[int(i)] for i in idx])
        return {"hu": hu.numpy(), "window": win.numpy(), "labels": lab.numpy()}
    return D.phantom_arrays(args.val_seed, args.val_studies, balanced=args.balanced,
                            slices_per_study=args.val_slices_per_study)


def _training_labels(args: argparse.Namespace) -> np.ndarray:
    if args.data == "pool":
        # weighted by share, as the loader draws them
        parsed = [parse_pool(p) for p in args.pool]
        labels = [PoolIndex.open(p).labels for p, _ in parsed]
        total = sum(sh for _, sh in parsed)
        n = max(len(l) for l in labels)
        return np.concatenate([l[np.random.default_rng(0).integers(len(l), size=max(1, int(n * sh / total)))]
                               for l, (_, sh) in zip(labels, parsed) if sh > 0])
    if args.data == "phantom":
        return np.concatenate([D.phantom_study(args.seed, k, args.balanced)[2] for k in range(min(8, args.studies))])
    return D.RsnaFolder(args.rsna_dir, split="train", val_fraction=args.val_fraction,
                        test_fraction=args.test_fraction, csv_path=args.rsna_csv).labels


# ----------------------------------------------------------------------------- evaluation

def evaluate_validation(model: torch.nn.Module, val: Dict[str, np.ndarray], loss_fn: torch.nn.Module,
                        device: torch.device, batch_size: int = 8) -> Dict[str, object]:
    prob = predict(model, val["hu"], val["window"], batch_size=batch_size, device=device)
    y = val["labels"].astype(np.float32)
    p = np.clip(prob.astype(np.float64), 1e-7, 1 - 1e-7)
    logits = torch.from_numpy(np.log(p / (1 - p))).float().to(device)
    loss = float(loss_fn(logits, torch.from_numpy(y).to(device)))
    aucs = {label: roc_auc(y[:, j], prob[:, j]) for j, label in enumerate(LABELS)}
    defined = [a for a in aucs.values() if a is not None]
    return {"val_loss": loss, "val_weighted_log_loss": weighted_log_loss(y, prob), "val_auc": aucs,
            "val_mean_auc": float(np.mean(defined)) if defined else None, "val_slices": int(len(y)),
            "val_prob_std": float(prob.std(axis=0).mean())}


# ----------------------------------------------------------------------------- runs

def _initial_weights(args: argparse.Namespace, model: torch.nn.Module) -> Dict[str, Any]:
    """Load ``--init`` weights into ``model``; returns what was loaded and the history it carries."""
    if args.init == "none":
        return {"init": "from scratch", "history": []}
    if args.init == "onnx":
        from .onnx_utils import read_manifest, state_dict_from_int8_onnx, state_dict_from_onnx

        path = MODELS_DIR / args.model / f"{args.model}.onnx"
        entry = next((m for m in read_manifest().get("models", []) if m["id"] == args.model), {})
        int8_file = entry.get("int8", {}).get("file")  # the manifest's record of the CPU int8 file
        int8_path = MODELS_DIR / int8_file if int8_file else None
        folded: List[str] = []
        if path.exists():
            model.load_state_dict(state_dict_from_onnx(path, model))
        elif int8_path is not None and int8_path.exists():
            # A network shipped in int8 only: its dequantised weights, the batch norms folded into
            # them measured again on the first training batches (_TrainingRun), so training adds up.
            weights, folded = state_dict_from_int8_onnx(int8_path, model)
            model.load_state_dict(weights)
            path = int8_path
            print(f"{args.model}: starting from the int8 file {int8_path.name}, dequantised "
                  f"({len(folded)} folded batch norms to measure again)", flush=True)
        else:  # e.g. left behind where the working tree must stay small (gpu_run.py)
            print(f"warning: {path} (or its external data) is not here: training {args.model} from scratch", flush=True)
            return {"init": f"from scratch ({path.name} absent)", "history": []}
        history = list(entry.get("training", {}).get("runs", []))
        if not history and entry.get("training"):
            t = entry["training"]  # weights exported before runs were recorded one by one
            history = [{"hardware": t.get("hardware"), "minutes": round(float(t.get("wallSeconds", 0)) / 60, 1),
                        "slices": t.get("slicesSeen"), "steps": t.get("steps"), "command": t.get("command"),
                        "data": t.get("data")}]
        return {"init": f"models/{args.model}/{path.name}" + (" (int8, dequantised)" if folded else ""),
                "history": history, "restat": folded}
    ck = load_checkpoint(Path(args.init))
    model.load_state_dict(ck["model"])
    st = ck.get("state", {})
    history = list(st.get("runs", []))
    cur = st.get("run")
    if cur and not cur.get("finished") and cur.get("steps"):
        # A run stopped before its budget still trained these weights: it counts.
        history.append({**{k: cur.get(k) for k in ("started", "command", "hardware", "data", "init", "batch_size", "lr",
                                                   "steps", "slices")},
                        "minutes": round(float(cur.get("seconds", 0)) / 60, 1), "note": "stopped before its budget"})
    return {"init": str(args.init), "history": history}


@dataclass
class _Recipe:
    """The run's batch, optimiser settings and precision: the command line's, else the model's config."""

    batch_size: int
    lr: float
    wd: float
    warmup: int
    cuda: bool
    bf16: bool

    @property
    def channels_last(self) -> bool:
        """The layout oneDNN's and cuDNN's bf16 convolutions want; fp32 on a CPU gains little from it."""
        return self.cuda or self.bf16


def _recipe(args: argparse.Namespace, cfg: ModelConfig, device: torch.device) -> _Recipe:
    cuda = device.type == "cuda"
    return _Recipe(batch_size=args.batch_size or cfg.batch_size, lr=args.lr or cfg.lr,
                   wd=cfg.weight_decay if args.weight_decay is None else args.weight_decay,
                   warmup=args.warmup_steps if args.warmup_steps is not None else
                   (max(1, int(0.05 * args.max_steps)) if args.max_steps else 50),
                   cuda=cuda, bf16=cuda if args.bf16 is None else bool(args.bf16))


def _start_or_resume(args: argparse.Namespace, model: torch.nn.Module,
                     out: Path) -> tuple[Optional[Dict[str, Any]], Dict[str, Any], np.ndarray]:
    """(checkpoint resumed from or None, the run's state, the loss's positive weights): an interrupted run
    resumes from last.pt (unless --fresh), else the state starts from the --init weights."""
    if (out / "last.pt").exists() and not args.fresh:
        ck = load_checkpoint(out / "last.pt")
        model.load_state_dict(ck.get("train_model", ck["model"]))
        return ck, ck["state"], np.asarray(ck["pos_weight"], np.float32)
    init = _initial_weights(args, model)
    state = {"step": 0, "slices_seen": 0, "best_mean_auc": None, "evaluations": 0,
             "runs": init["history"], "init": init["init"]}
    if init.get("restat"):
        state["batchnorm_to_measure"] = init["restat"]
    return None, state, D.positive_weights(_training_labels(args))


def _run_record(args: argparse.Namespace, command: str, device: torch.device, state: Dict[str, Any],
                recipe: _Recipe) -> Dict[str, Any]:
    """What a new run records of itself (the card's table of runs is made of these)."""
    return {"started": now_iso(), "command": command, "hardware": hardware(device), "device": str(device),
            "data": (f"pool {', '.join(args.pool)}" if args.data == "pool" else args.data),
            "init": state.get("init"), "batch_size": recipe.batch_size, "lr": recipe.lr, "weight_decay": recipe.wd,
            "warmup_steps": recipe.warmup, "bf16": recipe.bf16, "augment": bool(args.augment),
            "other_bleed_weight": args.other_bleed_weight,
            "train_size": args.train_size, "native_from": args.native_from if args.train_size else None,
            "steps": 0, "slices": 0, "seconds": 0.0, "finished": False}


class _TrainingRun:
    """One run of the loop until its budget is used: the model and its moving average, the optimiser,
    the data, and the evaluations and checkpoints along the way."""

    def __init__(self, args: argparse.Namespace, cfg: ModelConfig, device: torch.device, recipe: _Recipe, out: Path,
                 model: torch.nn.Module, state: Dict[str, Any], pos_weight: np.ndarray,
                 ck: Optional[Dict[str, Any]]) -> None:
        self.args, self.device, self.recipe, self.out = args, device, recipe, out
        self.state, self.run, self.pos_weight = state, state["run"], pos_weight
        model.to(device)
        if recipe.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.wd)
        self.ema = ModelEma(model, args.ema_decay)
        if ck is not None:
            if ck.get("optimizer") and self.run["steps"] > 0:
                self.optimizer.load_state_dict(ck["optimizer"])
            if ck.get("ema"):
                self.ema.load_state_dict(ck["ema"])
            print(f"resumed from {out / 'last.pt'} at step {state['step']} (run step {self.run['steps']})", flush=True)
        self.loss_fn = WeightedBCE(torch.from_numpy(pos_weight), args.other_bleed_weight).to(device)
        self.val = _validation_set(args)
        self.aug_gen = torch.Generator().manual_seed(args.torch_seed * 1_000_003 + int(state["step"]))
        self.aug_cfg = AugmentConfig(flip=0.5 if cfg.flips else 0.0)
        self.batches = _batches(args, recipe.batch_size, seed=args.torch_seed + int(state["step"]), pin=recipe.cuda)
        if state.get("batchnorm_to_measure"):
            self._measure_folded_batchnorm(state.pop("batchnorm_to_measure"))
        self.t_start, self.run_seconds0 = time.time(), float(self.run["seconds"])

    def _measure_folded_batchnorm(self, folded: List[str], n_batches: int = 8) -> None:
        """Statistics for the batch norms an int8 start folded away, from the run's first training
        batches at the size training runs at (evaluation output unchanged; ``restat_batchnorm``)."""
        from .onnx_utils import restat_batchnorm

        t0 = time.time()
        model, stack = self.model, getattr(self.model, "stack", None)
        size0 = stack.size if stack is not None else None
        if stack is not None and self.args.train_size:
            stack.size = self.args.train_size
        batches = []
        for _ in range(n_batches):
            hu, win, _lab = next(self.batches)
            batches.append((hu.to(self.device).float(), win.to(self.device)))
        restat_batchnorm(model, folded, batches)
        if stack is not None:
            stack.size = size0
        self.ema = ModelEma(model, self.args.ema_decay)  # the average starts from the measured layers
        print(f"measured {len(folded)} folded batch norms on {sum(int(h.shape[0]) for h, _ in batches)} training slices "
              f"in {time.time() - t0:.0f} s", flush=True)

    def progress(self) -> float:
        """Share of the budget used: steps or minutes, whichever runs out first."""
        args, run = self.args, self.run
        if args.max_steps == 0:
            return 1.0  # no training: evaluate and checkpoint the initial weights (e.g. to calibrate them)
        p = 0.0
        if args.max_steps:
            p = max(p, run["steps"] / args.max_steps)
        if args.max_minutes:
            p = max(p, (self.run_seconds0 + time.time() - self.t_start) / (60 * args.max_minutes))
        return p

    def checkpoint(self, improved: bool, last: Dict[str, object]) -> None:
        self.run["seconds"] = round(self.run_seconds0 + time.time() - self.t_start, 1)
        body = {"model": self.ema.module.state_dict(), "train_model": self.model.state_dict(), "ema": self.ema.state_dict(),
                "optimizer": self.optimizer.state_dict(), "state": self.state, "pos_weight": self.pos_weight.tolist(),
                "run": self.run, "last_epoch": last}
        save_checkpoint(self.out / "last.pt", **body)
        if improved or not (self.out / "best.pt").exists():
            save_checkpoint(self.out / "best.pt", **body)

    def evaluate_now(self, losses: List[float], t_eval: float) -> Dict[str, object]:
        """Validate the moving average, log it, and checkpoint (best.pt too when the mean ROC-AUC improved)."""
        state, run = self.state, self.run
        v = evaluate_validation(self.ema.module, self.val, self.loss_fn, self.device)
        state["evaluations"] += 1
        improved = v["val_mean_auc"] is not None and (state["best_mean_auc"] is None or
                                                      v["val_mean_auc"] > state["best_mean_auc"])  # type: ignore[operator]
        if improved:
            state["best_mean_auc"] = v["val_mean_auc"]
        last = {"time": now_iso(), "epoch": state["evaluations"], "step": state["step"], "run_step": run["steps"],
                "slices_seen": state["slices_seen"], "train_loss": float(np.mean(losses)) if losses else None,
                "lr": self.optimizer.param_groups[0]["lr"], "progress": round(self.progress(), 4),
                "seconds_since_last": round(time.time() - t_eval, 1),
                "wall_seconds": round(self.run_seconds0 + time.time() - self.t_start, 1), "device": str(self.device),
                "best": bool(improved), **v}
        append_jsonl(self.out / "log.jsonl", last)
        print(f"step {state['step']} (run {run['steps']}, {100 * self.progress():.0f} %) lr {last['lr']:.2e} "
              f"loss {last['train_loss']} val_loss {v['val_loss']:.4f} val_mean_auc {v['val_mean_auc']}", flush=True)
        self.checkpoint(improved, last)
        return last

    def step(self, native_size: Optional[int]) -> float:
        """One optimiser step on the next batch (augmented on the device); returns its loss."""
        args, model, run = self.args, self.model, self.run
        hu, win, lab = next(self.batches)
        hu, win, lab = hu.to(self.device, non_blocking=True).float(), win.to(self.device), lab.to(self.device)
        if args.augment:
            hu = augment_batch(hu, self.aug_gen, self.aug_cfg)
        if self.recipe.channels_last:
            hu = hu.contiguous(memory_format=torch.channels_last)
        for g in self.optimizer.param_groups:
            g["lr"] = self.recipe.lr * warmup_cosine(self.progress(), run["steps"], self.recipe.warmup, args.min_lr_ratio)
        if args.train_size and hasattr(model, "stack"):
            # Progressive resizing (Howard's "progressive resizing"; Touvron et al., FixRes, NeurIPS 2019):
            # most steps at a smaller input cost (size ratio)^2 of the compute; the last share of
            # the run at the native size lets the network settle to what it will see in the app.
            model.stack.size = args.train_size if self.progress() < args.native_from else native_size
        loss = train_step(model, self.optimizer, self.loss_fn, hu, win, lab, clip=args.clip or None, bf16=self.recipe.bf16)
        self.ema.update(model)
        self.state["step"] += 1
        run["steps"] += 1
        self.state["slices_seen"] += int(hu.shape[0])
        run["slices"] += int(hu.shape[0])
        return loss

    def until_budget(self) -> Dict[str, object]:
        """Train until the budget is used, evaluating every --eval-every steps; then record the finished
        run and evaluate its final weights. Returns the last evaluation."""
        state, run = self.state, self.run
        native_size = int(self.model.stack.size) if hasattr(self.model, "stack") else None
        losses: List[float] = []
        last: Dict[str, object] = {}
        t_eval = time.time()
        while self.progress() < 1.0:
            losses.append(self.step(native_size))
            if run["steps"] % 25 == 0:
                el = self.run_seconds0 + time.time() - self.t_start
                print(f"  step {state['step']} (run {run['steps']}, {100 * self.progress():.0f} %), {run['slices'] / max(el, 1e-9):.2f} "
                      f"slices/s, loss {np.mean(losses[-25:]):.4f}", flush=True)
            if run["steps"] % self.args.eval_every == 0:
                last = self.evaluate_now(losses, t_eval)
                losses, t_eval = [], time.time()
        run["finished"] = True
        run["minutes"] = round((self.run_seconds0 + time.time() - self.t_start) / 60, 1)
        if run["steps"]:  # a checkpoint of the initial weights (--max-steps 0) trained nothing
            state["runs"] = list(state.get("runs", [])) + [{k: run[k] for k in (
                "started", "command", "hardware", "data", "init", "batch_size", "lr", "steps", "slices", "minutes")}]
        if losses or not last:  # the run's final weights, unless the last step was just evaluated
            last = self.evaluate_now(losses, t_eval)
        else:
            self.checkpoint(False, last)  # record the finished run
        return last


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    args = parse_args(argv)
    prepare_cpu(args.threads)
    torch.manual_seed(args.torch_seed)
    cfg = get_config(args.model)
    device = select_device(args.device)
    recipe = _recipe(args, cfg, device)
    out = run_dir(args.model, args.out)
    model = create_model(args.model)
    command = command_line("models.training.train", sys.argv[1:] if argv is None else list(argv))
    ck, state, pos_weight = _start_or_resume(args, model, out)
    if ck is None or state.get("run") is None or state["run"].get("finished"):
        state["run"] = _run_record(args, command, device, state, recipe)
    last = _TrainingRun(args, cfg, device, recipe, out, model, state, pos_weight, ck).until_budget()
    return {"state": state, "last": last, "out": str(out)}


if __name__ == "__main__":
    main()
