"""Fit each label's calibration (``calibration.LabelCalibration``) on a phantom seed used for nothing else.

    /usr/bin/python3 -m models.training.pool build --seed 7001 --studies 16 --out /data/pool-s7001
    /usr/bin/python3 -m models.training.calibrate --model efficientnet_b3 --pool /data/pool-s7001

Reads the weights to be shipped (``runs/<model>/best.pt`` rounded through fp16), computes the raw
logits of every slice of the calibration set, fits ``sigmoid(scale * logit + bias)`` per label by
maximum likelihood (Platt 1999; with bias 0 it is the temperature scaling of Guo et al., ICML
2017), and reports the expected calibration error (ECE, 15 equal-width bins) before and after on
that set. Writes ``runs/<model>/calibration.json``; evaluation and export apply it.

Seeds: training 1, validation during training 2, calibration 7001, thresholds 8001, test 9001.
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
import torch

from .contract import LABELS
from .metrics import ECE_BINS, expected_calibration_error
from .engine import load_checkpoint, now_iso, prepare_cpu, round_to_fp16_, run_dir, select_device
from .pool import pool_arrays
from .registry import create_model, list_models

def fit_platt(logit: np.ndarray, y: np.ndarray, max_scale: float = 10.0) -> Dict[str, float]:
    """Scale and bias minimising the binary cross-entropy of ``sigmoid(scale * logit + bias)``.

    A label without both classes in the set keeps the identity (nothing to fit). The scale stays
    positive (a calibration must never reverse the ranking) and bounded.
    """
    y = np.asarray(y, np.float64)
    if y.min() == y.max():
        return {"scale": 1.0, "bias": 0.0, "fitted": False}
    z = torch.from_numpy(np.asarray(logit, np.float64))
    t = torch.from_numpy(y)
    log_s = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_s, b], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z * log_s.exp() + b, t)
        loss.backward()
        return loss

    opt.step(closure)
    scale = float(np.clip(np.exp(float(log_s)), 1.0 / max_scale, max_scale))
    return {"scale": scale, "bias": float(b), "fitted": True}


@torch.no_grad()
def raw_logits(model: torch.nn.Module, hu: np.ndarray, window: np.ndarray, batch_size: int,
               device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(hu), batch_size):
        h = torch.from_numpy(np.ascontiguousarray(hu[i:i + batch_size], np.float32)).to(device)
        w = torch.from_numpy(np.ascontiguousarray(window[i:i + batch_size], np.float32)).to(device)
        out.append(model.logits(h, w).float().cpu().numpy())  # type: ignore[operator]
    return np.concatenate(out)


def read_calibration(model_id: str, out: Optional[str] = None) -> Optional[Dict[str, object]]:
    p = run_dir(model_id, out) / "calibration.json"
    return json.loads(p.read_text()) if p.exists() else None


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_models())
    ap.add_argument("--pool", required=True, help="a pool of a seed used for nothing else (7001)")
    ap.add_argument("--studies", type=int, default=16)
    ap.add_argument("--slices-per-study", type=int, default=None, help="default: every slice")
    ap.add_argument("--checkpoint", default=None, help="default runs/<model>/best.pt")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    prepare_cpu(args.threads)
    t0 = time.time()
    device = select_device(args.device)
    d = run_dir(args.model, args.out)
    path = Path(args.checkpoint) if args.checkpoint else d / "best.pt"
    model = create_model(args.model)
    ck = load_checkpoint(path)
    model.load_state_dict(ck["model"])
    round_to_fp16_(model)
    model.to(device)
    s = pool_arrays(args.pool, args.studies, args.slices_per_study)
    z = raw_logits(model, s["hu"], s["window"], args.batch_size, device)
    y = s["labels"].astype(np.float64)
    fits = [fit_platt(z[:, j], y[:, j]) for j in range(len(LABELS))]
    scale = np.array([f["scale"] for f in fits])
    bias = np.array([f["bias"] for f in fits])
    # fp16 is how the numbers travel in the graph; measure what will ship
    scale16, bias16 = scale.astype(np.float16).astype(np.float64), bias.astype(np.float16).astype(np.float64)
    before = 1 / (1 + np.exp(-z))
    after = 1 / (1 + np.exp(-(z * scale16 + bias16)))
    result = {
        "model": args.model, "time": now_iso(), "seconds": round(time.time() - t0, 1),
        "command": "/usr/bin/python3 -m models.training.calibrate " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "method": "Platt scaling per label (scale and bias on the logit, maximum likelihood); scale kept in [0.1, 10]",
        "set": {"pool": str(args.pool), "seed": int(json.loads((Path(args.pool) / "pool.json").read_text())["seed"]),
                "studies": int(len(np.unique(s["study"]))), "slices": int(len(y)),
                "positives": {l: int(y[:, j].sum()) for j, l in enumerate(LABELS)}},
        "checkpoint": {"path": str(path), "step": int(ck["state"]["step"])},
        "scale": [float(v) for v in scale16], "bias": [float(v) for v in bias16],
        "fitted": {l: bool(f["fitted"]) for l, f in zip(LABELS, fits)},
        "ece_bins": ECE_BINS,
        "ece_before": {l: expected_calibration_error(y[:, j], before[:, j]) for j, l in enumerate(LABELS)},
        "ece_after": {l: expected_calibration_error(y[:, j], after[:, j]) for j, l in enumerate(LABELS)},
    }
    d.mkdir(parents=True, exist_ok=True)
    (d / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("model", "scale", "bias", "ece_before", "ece_after")}, indent=1))
    return result


if __name__ == "__main__":
    main()
