"""Training from a network shipped in int8 only: its weights read back through the quantiser's
folds, and the folded batch norms given statistics again without changing what the network computes."""
import tempfile
import unittest
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper
from torch import nn

from models.training import pool, train
from models.training.contract import MODELS_DIR
from models.training.engine import load_checkpoint
from models.training.onnx_utils import (check_contract, float_graph_from_qdq, read_manifest, restat_batchnorm,
                                        state_dict_from_int8_onnx)
from models.training.reference_input import reference_input
from models.training.registry import create_model
from models.training.tests.helpers import phantom_available, qdq_conv

IRV2 = "inception_resnet_v2"


def _shipped_int8(model_id: str) -> "tuple[Path, dict]":
    entry = next(m for m in read_manifest()["models"] if m["id"] == model_id)
    return MODELS_DIR / entry["file"], entry


@unittest.skipUnless(".int8." in _shipped_int8(IRV2)[1]["file"] and _shipped_int8(IRV2)[0].exists(),
                     "Inception-ResNet-V2 is not shipped as an int8 file")
class Int8FileReadBackTest(unittest.TestCase):
    def test_the_dequantised_network_gives_what_the_int8_file_gave(self) -> None:
        path, entry = _shipped_int8(IRV2)
        model = create_model(IRV2).eval()
        weights, folded = state_dict_from_int8_onnx(path, model)
        model.load_state_dict(weights)
        self.assertGreater(len(folded), 200)  # every ConvBN of the network
        hu, win = reference_input()
        with torch.no_grad():
            got = model(torch.from_numpy(hu), torch.from_numpy(win)).numpy()
        ref = entry["int8"]["reference"]
        # onnxruntime ran the same weights with uint8 activations; here they stay float
        np.testing.assert_allclose(got, np.asarray(ref["int8"], np.float32), atol=0.03)
        self.assertLess(float(np.abs(got - np.asarray(ref["float"], np.float32)).max()), 0.03)

    def test_another_networks_file_is_refused(self) -> None:
        path, _ = _shipped_int8(IRV2)
        with self.assertRaises(KeyError):
            state_dict_from_int8_onnx(path, create_model("efficientnet_b3"))


@unittest.skipUnless(".int8." in _shipped_int8(IRV2)[1]["file"] and _shipped_int8(IRV2)[0].exists(),
                     "Inception-ResNet-V2 is not shipped as an int8 file")
class FloatGraphFromInt8Test(unittest.TestCase):
    def test_the_float_graph_holds_the_int8_files_weights_and_no_quantisation(self) -> None:
        path, _ = _shipped_int8(IRV2)
        proto = onnx.load(str(path))
        counts = float_graph_from_qdq(proto)
        self.assertEqual(counts["qdq_nodes_left"], 0)
        self.assertGreater(counts["dequantize_folded"], 240)  # every quantised convolution's weights
        self.assertGreater(counts["qdq_pairs_removed"], 240)
        check_contract(proto)
        self.assertFalse([t.name for t in proto.graph.initializer if t.data_type in (TensorProto.INT8, TensorProto.UINT8)])
        with tempfile.TemporaryDirectory() as d:
            float_path = Path(d) / "float.onnx"
            onnx.save_model(proto, str(float_path))
            from_int8, _ = state_dict_from_int8_onnx(path, create_model(IRV2))
            from_float, _ = state_dict_from_int8_onnx(float_path, create_model(IRV2))
        self.assertEqual(from_int8.keys(), from_float.keys())
        for k in from_int8:
            torch.testing.assert_close(from_float[k], from_int8[k], rtol=0, atol=0, msg=k)


class FloatGraphFromQdqTest(unittest.TestCase):
    def test_weights_become_float_and_activations_skip_their_pairs(self) -> None:
        proto = qdq_conv()
        counts = float_graph_from_qdq(proto)
        self.assertEqual((counts["dequantize_folded"], counts["qdq_pairs_removed"], counts["qdq_nodes_left"]), (1, 2, 0))
        nodes = [(n.op_type, list(n.input), list(n.output)) for n in proto.graph.node]
        self.assertEqual(nodes, [("Conv", ["x", "w"], ["c"]), ("Relu", ["c"], ["r"]), ("Identity", ["r"], ["y"])])
        inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
        self.assertEqual(set(inits), {"w"})
        np.testing.assert_array_equal(inits["w"], np.array([[[[1.0, -1.5], [0.5, 0.0]]]], np.float32))
        onnx.checker.check_model(proto)

    def test_a_quantised_tensor_read_as_integers_is_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "not a QDQ pair"):
            float_graph_from_qdq(qdq_conv(output_through_pair=False))


class _Folded(nn.Module):
    """A convolution and a batch norm that passes its input through plus a bias, as a folded file
    loads: the evaluation output is the convolution's plus the bias."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, bias=False)
        self.bn = nn.BatchNorm2d(4, eps=1e-3)
        with torch.no_grad():
            self.bn.weight.fill_(1.0)
            self.bn.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 0.0]))
            self.bn.running_mean.zero_()
            self.bn.running_var.fill_(1.0 - 1e-3)

    def forward(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(hu))


class RestatTest(unittest.TestCase):
    def test_evaluation_is_unchanged_and_training_normalises_by_alike_statistics(self) -> None:
        torch.manual_seed(0)
        m = _Folded()
        batch = (torch.randn(8, 1, 16, 16) * 30 + 40, torch.zeros(8, 2))
        with torch.no_grad():
            before = m.eval()(*batch)
        restat_batchnorm(m, ["bn"], [batch])
        with torch.no_grad():
            after = m.eval()(*batch)
            trained = m.train()(*batch)  # normalised by this batch's own statistics
        torch.testing.assert_close(after, before, atol=1e-3, rtol=1e-4)
        torch.testing.assert_close(trained, before, atol=2e-2, rtol=1e-3)
        self.assertGreater(float(m.bn.weight.min()), 1.0)  # the convolution's spread, not 1

    def test_a_layer_that_saw_nothing_is_an_error(self) -> None:
        with self.assertRaises(RuntimeError):
            restat_batchnorm(_Folded(), ["bn"], [])


@unittest.skipUnless(phantom_available() and ".int8." in _shipped_int8(IRV2)[1]["file"],
                     "models.phantom and an int8-only Inception-ResNet-V2 are needed")
class TrainFromInt8Test(unittest.TestCase):
    def test_init_onnx_starts_from_the_int8_file_and_keeps_what_it_computes(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            pool.build(t / "train", seed=5, studies=1, workers=1, progress=False)
            out = t / "run"
            r = train.main(["--model", IRV2, "--init", "onnx", "--pool", str(t / "train"), "--val-pool", str(t / "train"),
                            "--out", str(out), "--max-steps", "0", "--train-size", "128", "--val-studies", "1",
                            "--val-slices-per-study", "2", "--batch-size", "2", "--workers", "0", "--threads", "1"])
            self.assertIn("int8", r["state"]["init"])
            self.assertNotIn("batchnorm_to_measure", r["state"])
            path, _ = _shipped_int8(IRV2)
            direct = create_model(IRV2).eval()
            direct.load_state_dict(state_dict_from_int8_onnx(path, direct)[0])
            trained = create_model(IRV2).eval()
            trained.load_state_dict(load_checkpoint(out / "last.pt")["model"])
            self.assertFalse(torch.equal(trained.stem.body[0][1].running_var, direct.stem.body[0][1].running_var))
            hu, win = reference_input()
            with torch.no_grad():
                a = direct(torch.from_numpy(hu), torch.from_numpy(win))
                b = trained(torch.from_numpy(hu), torch.from_numpy(win))
            torch.testing.assert_close(b, a, atol=2e-3, rtol=1e-3)


if __name__ == "__main__":
    unittest.main()
