"""A learning-rate range test (L. N. Smith, "Cyclical Learning Rates for Training Neural Networks",
WACV 2017): train a few steps while the learning rate grows geometrically, record the loss, and
suggest the peak learning rate of the real run.

    /usr/bin/python3 -m models.training.lr_sweep --model efficientnet_b3 --pool /data/pool-s1 --steps 60

The suggestion is half the largest rate at which the smoothed loss is still within 10 % of its
minimum: beyond it the loss rises (the edge of divergence); half of it is a safe peak for a run
with warm-up and cosine decay. Writes ``runs/<model>/lr_sweep.json``, which the card quotes.
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch

from . import data as D
from .augment import AugmentConfig, augment_batch, pool_loader
from .engine import WeightedBCE, now_iso, prepare_cpu, run_dir, select_device, train_step
from .registry import create_model, get_config, list_models


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models())
    ap.add_argument("--pool", required=True)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--lr-min", type=float, default=1e-5)
    ap.add_argument("--lr-max", type=float, default=3e-2)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--weight-decay", type=float, default=None)
    ap.add_argument("--train-size", type=int, default=None, help="ensemble members: input size, as train.py")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    prepare_cpu(args.threads)
    torch.manual_seed(0)
    cfg = get_config(args.model)
    device = select_device(args.device)
    bs = args.batch_size or cfg.batch_size
    wd = cfg.weight_decay if args.weight_decay is None else args.weight_decay
    model = create_model(args.model).to(device)
    if args.train_size and hasattr(model, "stack"):
        model.stack.size = args.train_size
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr_min, weight_decay=wd)
    loader = iter(pool_loader(args.pool, bs, args.workers, seed=0))
    from .pool import PoolIndex

    loss_fn = WeightedBCE(torch.from_numpy(D.positive_weights(PoolIndex.open(args.pool).labels))).to(device)
    gen = torch.Generator().manual_seed(0)
    ratio = (args.lr_max / args.lr_min) ** (1 / max(args.steps - 1, 1))
    rows, smooth, best = [], None, math.inf
    t0 = time.time()
    for i in range(args.steps):
        lr = args.lr_min * ratio ** i
        for g in opt.param_groups:
            g["lr"] = lr
        hu, win, lab = next(loader)
        hu = augment_batch(hu.to(device).float(), gen, AugmentConfig(flip=0.5 if cfg.flips else 0.0))
        loss = train_step(model, opt, loss_fn, hu, win.to(device), lab.to(device), clip=2.0)
        smooth = loss if smooth is None else 0.9 * smooth + 0.1 * loss
        debiased = smooth / (1 - 0.9 ** (i + 1)) if smooth is not None else loss
        rows.append({"step": i, "lr": lr, "loss": loss, "smoothed": debiased})
        print(f"{i:4d} lr {lr:.2e} loss {loss:.4f} smoothed {debiased:.4f}", flush=True)
        best = min(best, debiased)
        if i > 5 and (not math.isfinite(loss) or debiased > 4 * best):
            break  # diverged: the rest of the range says nothing more
    k = int(np.argmin([r["smoothed"] for r in rows]))
    # Smith's reading: the largest rate at which the loss has not yet risen (here: within 10 % of
    # its minimum), halved for a run with warm-up and a cosine decay. The smoothed loss of the
    # first steps is dominated by the initial loss, so only rates after the minimum count.
    flat = [r["lr"] for r in rows[k:] if r["smoothed"] <= 1.1 * rows[k]["smoothed"]]
    result = {"model": args.model, "time": now_iso(), "seconds": round(time.time() - t0, 1),
              "command": "/usr/bin/python3 -m models.training.lr_sweep " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
              "batch_size": bs, "weight_decay": wd, "train_size": args.train_size, "lowest_loss_lr": rows[k]["lr"],
              "largest_flat_lr": max(flat), "suggested_lr": max(flat) / 2,
              "rule": "half the largest rate whose smoothed loss is within 10 % of the minimum (Smith 2017)",
              "rows": rows}
    out = run_dir(args.model, args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lr_sweep.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k2: result[k2] for k2 in ("model", "lowest_loss_lr", "suggested_lr", "seconds")}))
    return result


if __name__ == "__main__":
    main()
