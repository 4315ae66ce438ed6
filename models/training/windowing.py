"""In-graph preprocessing, written once and used by every model (the model contract).

A window (centre C, width W) clips Hounsfield units to [C - W/2, C + W/2] and normalises to
[0, 1] (../../shared/SEEDS.md, "Common ground"). These modules run inside the exported ONNX graph,
so training and the app cannot disagree about preprocessing. The constants come from
``contract.py`` (src/shared/model-contract.json).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .contract import ENSEMBLE_STACK_WINDOWS, SYSTEMATIC_WINDOWS

# (ours) A slice whose DICOM carries a zero or negative width would divide by zero; the graph
# floors the *dynamic* (per-slice) width at 1 HU. Fixed windows are taken as written.
MIN_DYNAMIC_WIDTH = 1.0


def apply_window(hu: torch.Tensor, center: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """Clip ``hu`` to [center - width/2, center + width/2] and map it to [0, 1].

    ``center`` and ``width`` broadcast against ``hu`` (scalars or [N, 1, 1, 1] tensors).
    Written as (hu - low) / width then clamp, the same arithmetic as src/shared/windows.ts.
    """
    low = center - width * 0.5
    return torch.clamp((hu - low) / width, 0.0, 1.0)


def _fixed_windows(windows: Sequence[Tuple[float, float]]) -> Tuple[torch.Tensor, torch.Tensor]:
    centers = torch.tensor([c for c, _ in windows], dtype=torch.float32).view(1, -1, 1, 1)
    widths = torch.tensor([w for _, w in windows], dtype=torch.float32).view(1, -1, 1, 1)
    return centers, widths


def dynamic_window(hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Window ``hu`` [N, 1, H, W] with each slice's own ``window`` [N, 2] (centre, width)."""
    center = window[:, 0].reshape(-1, 1, 1, 1)
    width = torch.clamp(window[:, 1], min=MIN_DYNAMIC_WIDTH).reshape(-1, 1, 1, 1)
    return apply_window(hu, center, width)


class SystematicWindows(nn.Module):
    """Rajagopal et al. 2023's ten views: [N, 1, H, W] HU -> [N, 10, H, W] in [0, 1].

    View 0 uses the slice's own default window (the ``window`` input); views 1..9 use the fixed
    windows of the contract, in sequence order.
    """

    def __init__(self) -> None:
        super().__init__()
        if SYSTEMATIC_WINDOWS[0] is not None or any(w is None for w in SYSTEMATIC_WINDOWS[1:]):
            raise ValueError("contract: the first systematic window must be the slice's default, the rest fixed")
        centers, widths = _fixed_windows([w for w in SYSTEMATIC_WINDOWS[1:] if w is not None])
        # Buffers, not parameters: exported as constants, never trained, never saved as weights.
        self.register_buffer("centers", centers, persistent=False)
        self.register_buffer("widths", widths, persistent=False)

    @property
    def num_views(self) -> int:
        return 1 + int(self.centers.shape[1])

    def forward(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        first = dynamic_window(hu, window)
        rest = apply_window(hu, self.centers, self.widths)
        return torch.cat([first, rest], dim=1)


class StackWindows(nn.Module):
    """Barin et al. 2021's input: three windows as three channels, resized (bilinear).

    [N, 1, 512, 512] HU -> [N, 3, size, size] in [0, 1]. The ``window`` input is not used by this
    family (the contract still passes it).
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        centers, widths = _fixed_windows(ENSEMBLE_STACK_WINDOWS)
        self.register_buffer("centers", centers, persistent=False)
        self.register_buffer("widths", widths, persistent=False)
        self.size = int(size)

    def forward(self, hu: torch.Tensor) -> torch.Tensor:
        x = apply_window(hu, self.centers, self.widths)
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
