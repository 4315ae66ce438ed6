"""The training/evaluation machinery the thin scripts share: device, loss, steps, prediction,
checkpoints, fp16 rounding. CUDA when present, else CPU; the same command either way."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from .contract import RUNS_DIR


def select_device(requested: Optional[str] = None) -> torch.device:
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads(n: Optional[int]) -> None:
    if n:
        torch.set_num_threads(n)


def run_dir(model_id: str, out: Optional[str] = None) -> Path:
    return Path(out) if out else RUNS_DIR / model_id


class WeightedBCE(nn.Module):
    """Binary cross-entropy per label on logits, class-weighted, averaged over the six labels."""

    def __init__(self, pos_weight: Optional[torch.Tensor] = None) -> None:
        super().__init__()
        self.register_buffer("pos_weight", pos_weight if pos_weight is not None else torch.ones(0), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pw = self.pos_weight if self.pos_weight.numel() else None
        return nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pw)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: nn.Module, hu: torch.Tensor,
               window: torch.Tensor, labels: torch.Tensor) -> float:
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model.logits(hu, window), labels)  # type: ignore[operator]
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@torch.no_grad()
def predict(model: nn.Module, hu: np.ndarray, window: np.ndarray, batch_size: int = 4,
            device: Optional[torch.device] = None) -> np.ndarray:
    """Sigmoid probabilities [M, 6] for hu [M,1,512,512] and window [M,2] (eval mode)."""
    device = device or next(model.parameters()).device
    model.eval()
    out = []
    for i in range(0, len(hu), batch_size):
        h = torch.from_numpy(np.ascontiguousarray(hu[i:i + batch_size], np.float32)).to(device)
        w = torch.from_numpy(np.ascontiguousarray(window[i:i + batch_size], np.float32)).to(device)
        out.append(model(h, w).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 6), np.float32)


@torch.no_grad()
def round_to_fp16_(model: nn.Module) -> nn.Module:
    """Round every float parameter and buffer through float16, in place.

    The weights kept in git are fp16 on disk; exporting (and evaluating) the rounded model makes
    the fp16 initializers exact, so PyTorch and the ONNX graph compute with the same numbers.
    """
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            r = t.half()
            if not torch.isfinite(r).all():
                raise OverflowError("a weight does not fit in float16")
            t.copy_(r.to(t.dtype))
    return model


def save_checkpoint(path: Path, **state: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a killed run never leaves half a checkpoint


def load_checkpoint(path: Path) -> Dict[str, Any]:
    return torch.load(path, map_location="cpu")


def load_trained(model_id: str, checkpoint: Optional[str] = None, out: Optional[str] = None) -> "tuple[nn.Module, Dict[str, Any]]":
    """The model with weights from ``checkpoint`` (default runs/<id>/best.pt, else last.pt)."""
    from .registry import create_model

    model = create_model(model_id)
    d = run_dir(model_id, out)
    path = Path(checkpoint) if checkpoint else (d / "best.pt" if (d / "best.pt").exists() else d / "last.pt")
    ck = load_checkpoint(path)
    model.load_state_dict(ck["model"])
    ck["path"] = str(path)
    return model, ck


def append_jsonl(path: Path, record: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
