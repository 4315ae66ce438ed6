"""The training/evaluation machinery the thin scripts share: device, loss, steps, prediction,
checkpoints, fp16 rounding. CUDA when present, else CPU; the same command either way."""
from __future__ import annotations

import json
import math
import os
import platform
import shlex
import time
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..memory import reuse_freed_memory
from .contract import RUNS_DIR


def select_device(requested: Optional[str] = None) -> torch.device:
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def prepare_cpu(threads: Optional[int]) -> None:
    """The CPU setup every training and evaluation script makes: its thread count, and freed
    memory kept for reuse (``reuse_freed_memory``)."""
    if threads:
        torch.set_num_threads(threads)
    reuse_freed_memory()


def run_dir(model_id: str, out: Optional[str] = None) -> Path:
    return Path(out) if out else RUNS_DIR / model_id


class WeightedBCE(nn.Module):
    """Binary cross-entropy per label on logits, class-weighted, averaged over the six labels.

    ``other_bleed_weight`` scales the term of each subtype that is absent from a slice that bleeds
    (``any`` set, column 0): the negatives that teach one subtype's blood from another's, which a
    network can otherwise leave to "blood here, so every subtype a little" at almost no cost, as
    most of a pool's subtype negatives have no blood at all. 1 is the plain loss."""

    def __init__(self, pos_weight: Optional[torch.Tensor] = None, other_bleed_weight: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("pos_weight", pos_weight if pos_weight is not None else torch.ones(0), persistent=False)
        self.other_bleed_weight = float(other_bleed_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pw = self.pos_weight if self.pos_weight.numel() else None
        if self.other_bleed_weight == 1.0:
            return nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pw)
        per = nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pw, reduction="none")
        other = (target[:, :1] >= 0.5) & (target < 0.5)
        other[:, 0] = False
        w = torch.where(other, torch.full_like(per, self.other_bleed_weight), torch.ones_like(per))
        return (per * w).mean()


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: nn.Module, hu: torch.Tensor,
               window: torch.Tensor, labels: torch.Tensor, clip: Optional[float] = None,
               bf16: bool = False) -> float:
    """One optimiser step; ``clip`` bounds the gradient norm, ``bf16`` autocasts the forward pass (CUDA)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=hu.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model.logits(hu, window)  # type: ignore[operator]
    loss = loss_fn(logits.float(), labels)
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return float(loss.detach())


class ModelEma:
    """An exponential moving average of the weights (and BatchNorm statistics), used for evaluation.

    Why: from-scratch training at the small batches a CPU affords is noisy step to step; the
    average of the last few hundred steps ranks better than any single one (Polyak averaging, as
    timm's ModelEmaV2). The decay ramps up as ``(1 + n) / (10 + n)`` so the early average is not
    dominated by the random initialisation.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        import copy

        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        src = model.state_dict()
        for k, v in self.module.state_dict().items():
            if v.is_floating_point():
                v.mul_(d).add_(src[k].detach(), alpha=1 - d)
            else:
                v.copy_(src[k])

    def state_dict(self) -> Dict[str, Any]:
        return {"module": self.module.state_dict(), "decay": self.decay, "updates": self.updates}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.decay, self.updates = float(state["decay"]), int(state["updates"])


def warmup_cosine(progress: float, step: int, warmup_steps: int, min_ratio: float = 0.02) -> float:
    """Learning-rate factor: linear warm-up over ``warmup_steps``, then cosine from 1 to ``min_ratio``
    as ``progress`` (the share of the run's budget, in steps or minutes, already used) goes 0 -> 1."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    p = min(max(progress, 0.0), 1.0)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))


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
    # our own files, holding run records (plain Python values) beside the tensors; newer PyTorch
    # loads tensors only unless told otherwise
    return torch.load(path, map_location="cpu", weights_only=False)


def load_trained(model_id: str, checkpoint: Optional[str] = None, out: Optional[str] = None) -> "tuple[nn.Module, Dict[str, Any]]":
    """The model with weights from ``checkpoint`` (default runs/<id>/best.pt, else last.pt)."""
    from .registry import create_model

    model = create_model(model_id)
    d = run_dir(model_id, out)
    path = Path(checkpoint) if checkpoint else (d / "best.pt" if (d / "best.pt").exists() else d / "last.pt")
    ck = load_checkpoint(path)
    model.load_state_dict(ck["model"])
    ck["path"] = str(path)
    cal_path = path.parent / "calibration.json"
    ck["calibration"] = None
    if cal_path.exists() and hasattr(model, "calibration"):
        cal = json.loads(cal_path.read_text())
        # a calibration belongs to the weights it was fitted on; a newer checkpoint needs a new fit
        if int(cal.get("checkpoint", {}).get("step", -1)) == int(ck.get("state", {}).get("step", -2)):
            with torch.no_grad():
                model.calibration.scale.copy_(torch.tensor(cal["scale"], dtype=torch.float32))  # type: ignore[union-attr]
                model.calibration.bias.copy_(torch.tensor(cal["bias"], dtype=torch.float32))  # type: ignore[union-attr]
            ck["calibration"] = cal
        else:
            print(f"note: {cal_path} was fitted on another checkpoint; not applied", flush=True)
    return model, ck


def append_jsonl(path: Path, record: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def hardware(device: torch.device) -> str:
    """What a training run records of the machine that ran it (the cards' table of runs)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.machine()} CPU ({os.cpu_count()} cores), {torch.get_num_threads()} torch threads"


def command_line(module: str, argv: Sequence[str]) -> str:
    """The command that ran ``module`` with ``argv``, as a card prints it and a shell reruns it."""
    return f"/usr/bin/python3 -m {module} " + " ".join(shlex.quote(a) for a in argv)
