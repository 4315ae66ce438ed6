"""Floating-point operations per slice of each registered network, counted with forward hooks.

    /usr/bin/python3 bench/flops.py [--model convlstm ...]

Prints one JSON object: per model, FLOPs per slice (one multiply-add = 2 FLOPs) split by layer
type. Counted: Conv2d (grouped and depthwise included), Linear and LSTM layers, which carry the
arithmetic of all three networks; element-wise work (windowing, BatchNorm, activations, pooling,
the in-graph resize, squeeze-excitation's scaling) is left out, so the count is a slight
underestimate and "fraction of peak" a slight overestimate of what the runtime achieves.

The count is taken at batch 1 on the registered architecture (models/training/registry.py); it
depends only on shapes, never on weights, so no checkpoint is needed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from models.training.registry import create_network, list_networks  # noqa: E402


def _conv_flops(m: nn.Conv2d, out: torch.Tensor) -> int:
    kh, kw = m.kernel_size
    return 2 * out.numel() * (m.in_channels // m.groups) * kh * kw


def _linear_flops(m: nn.Linear, out: torch.Tensor) -> int:
    return 2 * out.numel() * m.in_features


def _lstm_flops(m: nn.LSTM, inp: torch.Tensor) -> int:
    # Per time step and layer: the four gates' input and recurrent products, 4h x (in + h) MACs.
    if m.batch_first:
        n, t = inp.shape[0], inp.shape[1]
    else:
        t, n = inp.shape[0], inp.shape[1]
    dirs = 2 if m.bidirectional else 1
    total = 0
    size_in = m.input_size
    for _ in range(m.num_layers):
        total += dirs * 2 * 4 * m.hidden_size * (size_in + m.hidden_size) * n * t
        size_in = m.hidden_size * dirs
    return total


def count_flops(model: nn.Module, batch: int = 1) -> Dict[str, int]:
    """FLOPs of one forward pass over `batch` slices, by layer type, plus 'total'."""
    counts: Dict[str, int] = {"conv": 0, "linear": 0, "lstm": 0}
    handles: List[torch.utils.hooks.RemovableHandle] = []

    def hook(mod: nn.Module, inputs: tuple, output: object) -> None:
        if isinstance(mod, nn.Conv2d):
            counts["conv"] += _conv_flops(mod, output)  # type: ignore[arg-type]
        elif isinstance(mod, nn.Linear):
            counts["linear"] += _linear_flops(mod, output)  # type: ignore[arg-type]
        elif isinstance(mod, nn.LSTM):
            counts["lstm"] += _lstm_flops(mod, inputs[0])

    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear, nn.LSTM)):
            handles.append(mod.register_forward_hook(hook))
    hu = torch.zeros(batch, 1, 512, 512)
    window = torch.tensor([[40.0, 80.0]] * batch)
    try:
        with torch.no_grad():
            model.eval()(hu, window)
    finally:
        for h in handles:
            h.remove()
    counts["total"] = sum(counts.values())
    return counts


def flops_per_slice(model_id: str) -> Dict[str, int]:
    return count_flops(create_network(model_id), batch=1)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", choices=list_networks(), help="default: every network the app may ship")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    ids = args.model or list_networks()
    print(json.dumps({m: flops_per_slice(m) for m in ids}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
