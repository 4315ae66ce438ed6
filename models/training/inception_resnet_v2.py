"""Inception-ResNet-V2, member of the hybrid ensemble.

Paper: C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi, "Inception-v4, Inception-ResNet and the Impact
of Residual Connections on Learning", AAAI 2017; used for intracranial hemorrhage by Barin et al.,
BRAIN 12(4), 2021 (../../shared/SEEDS.md, "Model B").

Layout (paper, Fig. 15): stem -> Inception-ResNet-A blocks -> Reduction-A -> Inception-ResNet-B
blocks -> Reduction-B -> Inception-ResNet-C blocks -> average pooling -> dropout (keep 0.8) ->
6-unit sigmoid head. Input 299 x 299: the graph builds the three-window stack (brain, subdural,
soft tissue) and resizes it bilinearly (``windowing.StackWindows``).

The paper's figures are not self-consistent for the V2 channel counts (Fig. 17 outputs 1154
channels where Reduction-A gives 1152; Fig. 19 outputs 2048 where Reduction-B gives 2146), and
Fig. 15's "5 x A, 10 x B, 5 x C" gives about 33 M parameters, not the ~55 M (164 layers) the
ensemble paper cites. That figure belongs to the network the authors released (TF-slim, also
Keras' ``InceptionResNetV2``, which Barin et al. used): stem ending in a 320-channel mixed block,
**10 x A (320 ch), 20 x B (1088 ch), 10 x C (2080 ch)**, residual scales 0.17 / 0.10 / 0.20, a
final linear C block and a 1536-channel 1x1 convolution. We follow the released network (ours) so
the parameter count matches (~54.3 M with a 6-unit head); the block counts are a builder argument
(``blocks=(5, 10, 5)`` gives Fig. 15's depth). Every convolution outside the residual "up"
projections is conv (no bias) -> BatchNorm (eps 1e-3) -> ReLU, as in the released network.

(ours): trained from scratch (no ImageNet weights offline); no ImageNet normalisation.
"""
from __future__ import annotations

from typing import Sequence, Tuple, Union

import torch
from torch import nn

from .contract import NUM_LABELS
from .calibration import LabelCalibration
from .registry import ModelConfig, register_model
from .windowing import StackWindows

INPUT_SIZE = 299
RELEASED_BLOCKS = (10, 20, 10)
PAPER_FIG15_BLOCKS = (5, 10, 5)

DEFAULT_CFG = ModelConfig(
    id="inception_resnet_v2",
    architecture="Inception-ResNet-V2 (Szegedy et al. 2017, released 10/20/10 layout), 6-unit sigmoid head",
    paper="Barin et al., BRAIN 12(4), 2021 (ensemble member)",
    input_size=INPUT_SIZE,
    preprocessing=(
        "three windows of the 512x512 HU slice stacked as channels inside the graph (brain 40/80, "
        "subdural 80/200, soft tissue 40/380; src/shared/model-contract.json ensembleStackWindows), "
        "each clipped and normalised to [0,1], then bilinear resize to 299x299"
    ),
    batch_size=2,
    lr=1e-4,
    flips=True,
    notes=[
        "block counts 10/20/10 as released by the authors (TF-slim/Keras; ~55 M parameters); "
        "the paper's Fig. 15 says 5/10/5 (ours: see inception_resnet_v2.py)",
        "trained from scratch: no ImageNet weights available offline (the paper fine-tuned them)",
        "no ImageNet mean/std normalisation (ours)",
        "the `window` input is accepted and unused (the stack uses fixed windows)",
    ],
)

Size = Union[int, Tuple[int, int]]


class ConvBN(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: Size, stride: int = 1, padding: Size = 0) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(cout, eps=1e-3),
            nn.ReLU(inplace=True),
        )


class Stem(nn.Module):
    """299x299x3 -> 35x35x320 (released stem: Fig. 3's first layers, then the 'mixed 5b' block)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvBN(3, 32, 3, stride=2), ConvBN(32, 32, 3), ConvBN(32, 64, 3, padding=1),
            nn.MaxPool2d(3, stride=2), ConvBN(64, 80, 1), ConvBN(80, 192, 3), nn.MaxPool2d(3, stride=2),
        )
        self.b0 = ConvBN(192, 96, 1)
        self.b1 = nn.Sequential(ConvBN(192, 48, 1), ConvBN(48, 64, 5, padding=2))
        self.b2 = nn.Sequential(ConvBN(192, 64, 1), ConvBN(64, 96, 3, padding=1), ConvBN(96, 96, 3, padding=1))
        self.b3 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), ConvBN(192, 64, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], 1)


class BlockA(nn.Module):
    """Inception-ResNet-A (Fig. 16), 35x35, residual scale 0.17."""

    def __init__(self, ch: int = 320, scale: float = 0.17) -> None:
        super().__init__()
        self.scale = scale
        self.b0 = ConvBN(ch, 32, 1)
        self.b1 = nn.Sequential(ConvBN(ch, 32, 1), ConvBN(32, 32, 3, padding=1))
        self.b2 = nn.Sequential(ConvBN(ch, 32, 1), ConvBN(32, 48, 3, padding=1), ConvBN(48, 64, 3, padding=1))
        self.up = nn.Conv2d(128, ch, 1)  # linear 1x1 projection, no activation (Fig. 16)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.up(torch.cat([self.b0(x), self.b1(x), self.b2(x)], 1))
        return self.relu(x + self.scale * r)


class ReductionA(nn.Module):
    """Reduction-A (Fig. 7, k=256, l=256, m=384, n=384): 35x35x320 -> 17x17x1088."""

    def __init__(self, cin: int = 320) -> None:
        super().__init__()
        self.b0 = ConvBN(cin, 384, 3, stride=2)
        self.b1 = nn.Sequential(ConvBN(cin, 256, 1), ConvBN(256, 256, 3, padding=1), ConvBN(256, 384, 3, stride=2))
        self.pool = nn.MaxPool2d(3, stride=2)
        self.out_channels = 384 + 384 + cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1(x), self.pool(x)], 1)


class BlockB(nn.Module):
    """Inception-ResNet-B (Fig. 17), 17x17, residual scale 0.10."""

    def __init__(self, ch: int = 1088, scale: float = 0.10) -> None:
        super().__init__()
        self.scale = scale
        self.b0 = ConvBN(ch, 192, 1)
        self.b1 = nn.Sequential(ConvBN(ch, 128, 1), ConvBN(128, 160, (1, 7), padding=(0, 3)),
                                ConvBN(160, 192, (7, 1), padding=(3, 0)))
        self.up = nn.Conv2d(384, ch, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.up(torch.cat([self.b0(x), self.b1(x)], 1))
        return self.relu(x + self.scale * r)


class ReductionB(nn.Module):
    """Reduction-B (Fig. 18): 17x17x1088 -> 8x8x2080."""

    def __init__(self, cin: int = 1088) -> None:
        super().__init__()
        self.b0 = nn.Sequential(ConvBN(cin, 256, 1), ConvBN(256, 384, 3, stride=2))
        self.b1 = nn.Sequential(ConvBN(cin, 256, 1), ConvBN(256, 288, 3, stride=2))
        self.b2 = nn.Sequential(ConvBN(cin, 256, 1), ConvBN(256, 288, 3, padding=1), ConvBN(288, 320, 3, stride=2))
        self.pool = nn.MaxPool2d(3, stride=2)
        self.out_channels = 384 + 288 + 320 + cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.pool(x)], 1)


class BlockC(nn.Module):
    """Inception-ResNet-C (Fig. 19), 8x8, residual scale 0.20; the last one is linear."""

    def __init__(self, ch: int = 2080, scale: float = 0.20, activation: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.b0 = ConvBN(ch, 192, 1)
        self.b1 = nn.Sequential(ConvBN(ch, 192, 1), ConvBN(192, 224, (1, 3), padding=(0, 1)),
                                ConvBN(224, 256, (3, 1), padding=(1, 0)))
        self.up = nn.Conv2d(448, ch, 1)
        self.relu: nn.Module = nn.ReLU(inplace=True) if activation else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.up(torch.cat([self.b0(x), self.b1(x)], 1))
        return self.relu(x + self.scale * r)


class InceptionResNetV2(nn.Module):
    def __init__(self, num_classes: int = NUM_LABELS, blocks: Sequence[int] = RELEASED_BLOCKS,
                 dropout: float = 0.2) -> None:
        super().__init__()
        n_a, n_b, n_c = blocks
        self.stack = StackWindows(INPUT_SIZE)
        self.calibration = LabelCalibration()
        self.stem = Stem()
        self.blocks_a = nn.Sequential(*[BlockA(320) for _ in range(n_a)])
        self.reduction_a = ReductionA(320)
        self.blocks_b = nn.Sequential(*[BlockB(1088) for _ in range(n_b)])
        self.reduction_b = ReductionB(1088)
        self.blocks_c = nn.Sequential(*[BlockC(2080) for _ in range(n_c - 1)], BlockC(2080, scale=1.0, activation=False))
        self.conv_final = ConvBN(2080, 1536, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)  # paper: dropout, keep 0.8
        self.head = nn.Linear(1536, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks_a(self.stem(x))
        x = self.blocks_b(self.reduction_a(x))
        x = self.blocks_c(self.reduction_b(x))
        return self.conv_final(x)

    def logits(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        del window  # part of the contract; this family windows with fixed settings
        x = self.features(self.stack(hu))
        return self.head(self.dropout(torch.flatten(self.pool(x), 1)))

    def forward(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.calibration(self.logits(hu, window)))


@register_model(DEFAULT_CFG)
def inception_resnet_v2(**kwargs: object) -> InceptionResNetV2:
    return InceptionResNetV2(**kwargs)  # type: ignore[arg-type]
