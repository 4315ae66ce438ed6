"""How fast the training loop is fed: slices/s from a phantom pool against phantoms made on the fly.

    /usr/bin/python3 -m models.training.loader_speed /data/pools/train-s1 --seconds 20 --workers 2

Three figures with the same number of loader processes, each measured for ``--seconds``: the pool
loader alone (memory maps, int16 to the device), the pool loader plus the augmentation run on this
CPU (on a GPU it runs on the device), and ``data.PhantomSlices`` generating studies in the loader
(what training did before the pool). The ratio of the first to the last is the loader's gain.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from typing import Dict, List, Optional

import torch
from torch.utils.data import DataLoader

from . import data as D
from .augment import augment_batch, pool_loader


def measure_loader_speed(pool: os.PathLike, seconds: float = 30.0, workers: Optional[int] = None,
                         batch_size: int = 16) -> Dict[str, object]:
    workers = workers or os.cpu_count() or 1

    def rate(it, aug: bool) -> float:
        g = torch.Generator().manual_seed(0)
        n, t0 = 0, time.perf_counter()
        for hu, _w, _l in it:
            if aug:
                augment_batch(hu.float(), g)
            n += hu.shape[0]
            if time.perf_counter() - t0 > seconds:
                break
        return n / (time.perf_counter() - t0)

    loader = pool_loader(pool, batch_size, workers, seed=0)
    next(iter(loader))  # start the workers before timing
    pool_rate = rate(iter(loader), False)
    pool_aug_rate = rate(iter(loader), True)
    del loader
    fly = DataLoader(D.PhantomSlices(seed=77, n_studies=10_000, balanced=True, passes=None), batch_size=batch_size,
                     num_workers=workers, drop_last=True)
    fly_rate = rate(iter(fly), False)
    return {"workers": workers, "batch_size": batch_size, "seconds_each": seconds, "cpu_count": os.cpu_count(),
            "pool_slices_per_s": round(pool_rate, 1), "pool_with_cpu_augmentation_slices_per_s": round(pool_aug_rate, 1),
            "on_the_fly_slices_per_s": round(fly_rate, 1), "speedup": round(pool_rate / max(fly_rate, 1e-9), 1),
            "note": "the first pass reads from disk; later passes from the OS page cache"}


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pool")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args(argv)
    print(json.dumps(measure_loader_speed(args.pool, args.seconds, args.workers, args.batch_size), indent=1))


if __name__ == "__main__":
    main()
