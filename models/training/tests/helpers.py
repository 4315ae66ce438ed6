"""Shared test helpers: tiny inputs, and a stand-in phantom used only when models.phantom is absent."""
from __future__ import annotations

import types
from contextlib import contextmanager
from typing import Iterator
from unittest import mock

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from models.training.contract import LABELS

torch.set_num_threads(1)


def phantom_available() -> bool:
    try:
        import models.phantom as p

        return hasattr(p, "generate_study")
    except Exception:  # noqa: BLE001 - any import failure means "not there yet"
        return False


def _standin_study(seed: int, index: int, balanced: bool = False, n_slices: int | None = None):
    """Random HU noise with a bright blob on labelled slices; a stand-in for tests only."""
    rng = np.random.default_rng([seed, index])
    z = n_slices or 4
    hu = rng.normal(30, 10, size=(z, 512, 512)).astype(np.float32)
    labels = np.zeros((z, len(LABELS)), np.uint8)
    for i in range(z):
        if rng.random() < 0.5:
            sub = 1 + int(rng.integers(len(LABELS) - 1))
            labels[i, [0, sub]] = 1
            hu[i, 200:260, 200:260] += 40
    window = np.tile(np.array([40, 80], np.float32), (z, 1))
    return types.SimpleNamespace(hu=hu, labels=labels, window=window, study_labels=labels.max(0))


@contextmanager
def phantom_or_standin() -> Iterator[None]:
    if phantom_available():
        yield
        return
    fake = types.SimpleNamespace(generate_study=_standin_study, LABELS=LABELS)
    with mock.patch("models.training.data._phantom", return_value=fake):
        yield


def tiny_batch(n: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    hu = torch.randn(n, 1, 512, 512, generator=g) * 40 + 30
    hu[:, :, 200:280, 200:280] += 50  # something to learn
    window = torch.tensor([[40.0, 80.0], [35.0, 120.0]])[:n]
    labels = torch.zeros(n, len(LABELS))
    labels[0, [0, 5]] = 1
    return hu, window, labels


def qdq_conv(output_through_pair: bool = True) -> onnx.ModelProto:
    """x -> Q/DQ -> Conv (int8 weights behind a DequantizeLinear) -> Relu -> Q/DQ -> y."""
    w = np.array([[[[2, -3], [1, 0]]]], np.int8)
    inits = [numpy_helper.from_array(w, "w_q"), numpy_helper.from_array(np.array([0.5], np.float32), "w_s"),
             numpy_helper.from_array(np.array([0], np.int8), "w_z"),
             numpy_helper.from_array(np.array(0.1, np.float32), "a_s"), numpy_helper.from_array(np.array(128, np.uint8), "a_z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "a_s", "a_z"], ["x_q"]),
             helper.make_node("DequantizeLinear", ["x_q", "a_s", "a_z"], ["x_dq"]),
             helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w"], axis=0),
             helper.make_node("Conv", ["x_dq", "w"], ["c"]),
             helper.make_node("Relu", ["c"], ["r"])]
    if output_through_pair:
        nodes += [helper.make_node("QuantizeLinear", ["r", "a_s", "a_z"], ["r_q"]),
                  helper.make_node("DequantizeLinear", ["r_q", "a_s", "a_z"], ["y"])]
    else:
        nodes += [helper.make_node("QuantizeLinear", ["r", "a_s", "a_z"], ["r_q"]),
                  helper.make_node("Identity", ["r_q"], ["y"])]
    g = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 3, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 2, 2])], inits)
    return helper.make_model(g)
