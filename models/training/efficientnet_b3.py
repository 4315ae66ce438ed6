"""EfficientNet-B3, member of the hybrid ensemble.

Papers: M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", ICML 2019 (the architecture: MBConv blocks with squeeze-excitation, compound scaling;
B3 = width 1.2, depth 1.4, 300 x 300 input); used for intracranial hemorrhage by Barin et al.,
BRAIN 12(4), 2021 (../../shared/SEEDS.md, "Model B").

The network is torchvision's ``efficientnet_b3(weights=None)`` with a 6-unit head. In front of it
the graph builds the three-window stack (brain, subdural, soft tissue; src/shared/model-contract.json
ensembleStackWindows) and resizes it bilinearly to 300 x 300 (``windowing.StackWindows``).

Interpretations marked (ours): no ImageNet weights can be had offline, so the network is trained
from scratch (the paper fine-tuned ImageNet weights); the stacked windows in [0, 1] are fed without
ImageNet mean/std normalisation (nothing pretrained expects it).
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models import efficientnet_b3 as tv_efficientnet_b3

from .contract import NUM_LABELS
from .calibration import LabelCalibration
from .registry import ModelConfig, register_model
from .windowing import StackWindows

INPUT_SIZE = 300

DEFAULT_CFG = ModelConfig(
    id="efficientnet_b3",
    architecture="EfficientNet-B3 (Tan & Le 2019; torchvision), 6-unit sigmoid head",
    paper="Barin et al., BRAIN 12(4), 2021 (ensemble member)",
    input_size=INPUT_SIZE,
    preprocessing=(
        "three windows of the 512x512 HU slice stacked as channels inside the graph (brain 40/80, "
        "subdural 80/200, soft tissue 40/380; src/shared/model-contract.json ensembleStackWindows), "
        "each clipped and normalised to [0,1], then bilinear resize to 300x300"
    ),
    batch_size=4,
    lr=1e-4,
    flips=True,
    notes=[
        "trained from scratch: no ImageNet weights available offline (the paper fine-tuned them)",
        "no ImageNet mean/std normalisation (ours)",
        "the `window` input is accepted and unused (the stack uses fixed windows)",
    ],
)


class EfficientNetB3(nn.Module):
    def __init__(self, num_classes: int = NUM_LABELS) -> None:
        super().__init__()
        self.stack = StackWindows(INPUT_SIZE)
        self.calibration = LabelCalibration()
        self.net = tv_efficientnet_b3(weights=None, num_classes=num_classes)

    def logits(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        del window  # part of the contract; this family windows with fixed settings
        return self.net(self.stack(hu))

    def forward(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.calibration(self.logits(hu, window)))


@register_model(DEFAULT_CFG)
def efficientnet_b3(**kwargs: object) -> EfficientNetB3:
    return EfficientNetB3(**kwargs)  # type: ignore[arg-type]
