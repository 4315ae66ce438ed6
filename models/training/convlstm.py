"""Conv-LSTM with systematic windowing.

Paper: Rajagopal et al., Brain Sciences 2023, 13, 400 (as summarised in ../../shared/SEEDS.md,
"Model A").

The slice is looked at under ten windows in turn (the first is the slice's own default window, the
other nine fixed; all computed inside the graph by ``windowing.SystematicWindows``). One CNN, with
its weights shared across the ten views (Keras ``TimeDistributed``: the N x 10 views are reshaped
into the batch), turns each 512 x 512 view into 128 features; one LSTM reads the ten feature
vectors in window order; its last hidden state feeds a 6-unit sigmoid layer.

CNN (SEEDS.md's table): five units, every convolution followed by ReLU then batch normalisation,
each unit closed by 2 x 2 max-pooling with stride 2; units 1-3 'same' padding, units 4-5 'valid'
(ours: the paper's 28 x 28 x 8 output after unit 4 implies it); flatten 10 x 10 x 8 = 800 ->
dense 1024 -> 512 -> 256 -> 128 (ReLU).

Interpretations marked (ours): LSTM hidden size 128 (the paper gives none); Keras-like
initialisation (Glorot-uniform kernels, orthogonal recurrent kernels, zero biases, forget-gate bias
1); L2 regularisation as Adam weight decay 1e-5 (coupled L2, as Keras kernel regularisers are).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
from torch import nn

from .contract import NUM_LABELS
from .calibration import LabelCalibration
from .registry import ModelConfig, register_model
from .windowing import SystematicWindows

# (filters, kernel) per convolution, padding, per unit: SEEDS.md, Model A table.
CNN_UNITS: Tuple[Tuple[Tuple[Tuple[int, int], ...], str], ...] = (
    (((4, 3), (8, 3), (16, 3)), "same"),
    (((4, 3), (8, 3), (16, 5)), "same"),
    (((4, 5), (8, 5), (16, 5)), "same"),
    (((4, 5), (8, 5)), "valid"),
    (((8, 5), (8, 5)), "valid"),
)
DENSE_SIZES = (1024, 512, 256, 128)
LSTM_HIDDEN = 128  # (ours)
VIEW_SIZE = 512

DEFAULT_CFG = ModelConfig(
    id="convlstm",
    architecture="Conv-LSTM over ten systematic windows (Rajagopal et al. 2023)",
    paper="Rajagopal et al., Brain Sci. 2023, 13, 400",
    input_size=VIEW_SIZE,
    preprocessing=(
        "ten windows of the 512x512 HU slice inside the graph: the slice's own default window "
        "(input `window`), then brain, subdural min/mid/max, tissue min/mid/max, bone, "
        "grey-white (src/shared/model-contract.json systematicWindows); each clipped and "
        "normalised to [0,1]"
    ),
    batch_size=2,
    lr=1e-4,
    weight_decay=1e-5,
    flips=False,
    notes=[
        "unit 4 padding 'valid' (ours: implied by the paper's 28x28x8 output)",
        "LSTM hidden size 128 (ours: the paper gives none)",
        "L2 regularisation as Adam weight decay 1e-5 (ours: the paper gives no factor)",
        "no window tags -> brain window 40/80 for the default view (ours; the app supplies it)",
    ],
)


class ConvUnit(nn.Module):
    """Convolutions (each conv -> ReLU -> BatchNorm), then 2x2 max-pool, stride 2."""

    def __init__(self, in_ch: int, convs: Sequence[Tuple[int, int]], padding: str) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        ch = in_ch
        for filters, kernel in convs:
            pad = kernel // 2 if padding == "same" else 0
            layers += [nn.Conv2d(ch, filters, kernel, padding=pad), nn.ReLU(inplace=True), nn.BatchNorm2d(filters)]
            ch = filters
        layers.append(nn.MaxPool2d(2, 2))
        self.body = nn.Sequential(*layers)
        self.out_channels = ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ViewCNN(nn.Module):
    """The per-view CNN: [B, 1, 512, 512] -> [B, 128]."""

    def __init__(self) -> None:
        super().__init__()
        units: List[nn.Module] = []
        ch = 1
        for convs, padding in CNN_UNITS:
            unit = ConvUnit(ch, convs, padding)
            units.append(unit)
            ch = unit.out_channels
        self.features = nn.Sequential(*units)
        self.flat_features = self.feature_shape()[0] * self.feature_shape()[1] * self.feature_shape()[2]
        dense: List[nn.Module] = []
        n = self.flat_features
        for m in DENSE_SIZES:
            dense += [nn.Linear(n, m), nn.ReLU(inplace=True)]
            n = m
        self.dense = nn.Sequential(*dense)
        self.out_features = n

    def feature_shape(self) -> Tuple[int, int, int]:
        """(channels, height, width) after unit 5, computed from the table (no forward pass)."""
        size, ch = VIEW_SIZE, 1
        for convs, padding in CNN_UNITS:
            for filters, kernel in convs:
                if padding == "valid":
                    size -= kernel - 1
                ch = filters
            size //= 2
        return ch, size, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.dense(torch.flatten(x, 1))


class ConvLSTM(nn.Module):
    def __init__(self, num_classes: int = NUM_LABELS, lstm_hidden: int = LSTM_HIDDEN) -> None:
        super().__init__()
        self.windows = SystematicWindows()
        self.cnn = ViewCNN()
        self.lstm = nn.LSTM(self.cnn.out_features, lstm_hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(lstm_hidden, num_classes)
        self.calibration = LabelCalibration(num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        h = self.lstm.hidden_size
        for name, p in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                for g in range(4):  # Glorot per gate block, as Keras initialises the kernel
                    nn.init.xavier_uniform_(p.data[g * h:(g + 1) * h])
            elif name.startswith("weight_hh"):
                for g in range(4):
                    nn.init.orthogonal_(p.data[g * h:(g + 1) * h])
            elif name.startswith("bias"):
                nn.init.zeros_(p)
                if name.startswith("bias_ih"):
                    p.data[h:2 * h] = 1.0  # forget gate (PyTorch gate order i, f, g, o)

    def logits(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        views = self.windows(hu, window)                      # [N, 10, H, W]
        n, t, h, w = views.shape
        feats = self.cnn(views.reshape(n * t, 1, h, w))       # TimeDistributed: views into the batch
        seq = feats.reshape(n, t, -1)                         # [N, 10, 128], window order
        out, _ = self.lstm(seq)
        return self.head(out[:, -1])

    def forward(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.calibration(self.logits(hu, window)))


@register_model(DEFAULT_CFG)
def convlstm(**kwargs: object) -> ConvLSTM:
    return ConvLSTM(**kwargs)  # type: ignore[arg-type]
