"""Per-label probability calibration, inside every model's graph.

Why in the graph: the probability the app shows, stores, ranks and flags by is then calibrated by
construction, with no second copy of the calibration in TypeScript. The training loss uses the raw
``logits``; only ``forward`` (what is exported) applies ``sigmoid(scale * logit + bias)``.

Why a scale and a bias per label (Platt scaling; temperature scaling is the case bias = 0): the
loss weights positives by up to 10x (``data.positive_weights``) and the training pool is enriched
with bleeds, both of which shift every logit; a temperature alone cannot undo a shift. The two
numbers per label are fitted on a phantom seed used for nothing else (``calibrate.py``) and
recorded in the manifest.
"""
from __future__ import annotations

import torch
from torch import nn

from .contract import NUM_LABELS


class LabelCalibration(nn.Module):
    """``logits * scale + bias`` per label; identity until ``calibrate.py`` fits it."""

    def __init__(self, num_labels: int = NUM_LABELS) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(num_labels))
        self.register_buffer("bias", torch.zeros(num_labels))

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return logits * self.scale + self.bias

    @property
    def is_identity(self) -> bool:
        return bool(torch.all(self.scale == 1) and torch.all(self.bias == 0))
