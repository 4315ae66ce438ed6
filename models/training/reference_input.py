"""A fixed synthetic head, defined by integer arithmetic so that Python and TypeScript build it
bit for bit alike: the input on which ``quantize.py`` records what onnxruntime gave for an int8
file, and on which test/models/onnx-parity.test.ts checks that onnxruntime-node gives the same.
(An int8 file has no PyTorch twin to compare with, and a shipped int8-only network has no float
file beside it.) Not anatomy: a skull ring, brain, and on the second slice a 70 HU blob.

The same definition is written in test/models/reference-input.ts; change both or neither.
"""
from __future__ import annotations

import numpy as np

SIZE = 512
SLICES = 2
NAME = "synthetic-head-v1"


def reference_input() -> "tuple[np.ndarray, np.ndarray]":
    """(hu float32 [2,1,512,512], window float32 [2,2])."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.int64)
    dx, dy = x - 256, y - 256

    def inside(a: int, b: int, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
        return cx * cx * b * b + cy * cy * a * a <= a * a * b * b

    head = inside(190, 230, dx, dy)
    brain = inside(180, 220, dx, dy)
    white = inside(70, 95, dx, dy)
    hu = np.full((SLICES, SIZE, SIZE), -1000, np.int64)
    for k in range(SLICES):
        hu[k][head] = 1000
        hu[k][brain] = 38
        hu[k][white] = 27
    blob = inside(25, 25, x - 330, y - 220)
    hu[1][blob] = 70
    window = np.array([[40, 80]] * SLICES, np.float32)
    return hu.astype(np.float32)[:, None], window
