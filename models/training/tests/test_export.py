"""ONNX export under the contract: fp16 storage, sharding, contract inputs, weights read back."""
import tempfile
import unittest
from pathlib import Path

import onnx
import torch
from onnx import TensorProto

from models.training.engine import round_to_fp16_
from models.training.onnx_utils import (check_contract, ensure_contract_inputs, export_onnx, save_sharded,
                                        state_dict_from_onnx, to_fp16_storage)
from models.training.registry import create_model
from models.training.tests import helpers  # noqa: F401 - sets torch threads


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        torch.manual_seed(0)
        cls.model = round_to_fp16_(create_model("convlstm").eval())
        cls.proto = export_onnx(cls.model, Path(cls.tmp.name) / "raw.onnx")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_contract_io_and_dynamic_batch(self) -> None:
        check_contract(self.proto)
        self.assertEqual([i.name for i in self.proto.graph.input], ["hu", "window"])
        self.assertEqual(self.proto.opset_import[0].version, 17)
        dim0 = self.proto.graph.input[0].type.tensor_type.shape.dim[0]
        self.assertTrue(dim0.dim_param, "batch axis must be dynamic")

    def test_missing_window_input_is_restored(self) -> None:
        p = onnx.ModelProto()
        p.CopyFrom(self.proto)
        del p.graph.input[1]
        self.assertEqual([i.name for i in ensure_contract_inputs(p).graph.input], ["hu", "window"])

    def test_fp16_storage_sharding_and_readback(self) -> None:
        p = onnx.ModelProto()
        p.CopyFrom(self.proto)
        counts = to_fp16_storage(p)
        self.assertEqual(counts["fp32_initializers_kept"], 0)
        big = [t for t in p.graph.initializer if len(t.raw_data) > 1024]
        self.assertTrue(all(t.data_type == TensorProto.FLOAT16 for t in big))
        path = Path(self.tmp.name) / "m" / "m.onnx"
        files = save_sharded(p, path, shard_bytes=2 << 20, inline_below=0)
        self.assertGreater(len(files), 2)
        for f in files[1:]:
            self.assertLessEqual(f.stat().st_size, 2 << 20)
        onnx.checker.check_model(str(path))
        fresh = create_model("convlstm")
        sd = state_dict_from_onnx(path, fresh)
        for k, v in self.model.state_dict().items():
            torch.testing.assert_close(sd[k], v, rtol=0, atol=0, msg=k)


class CalibrationExportTest(unittest.TestCase):
    def test_the_calibration_travels_in_the_graph(self) -> None:
        torch.manual_seed(1)
        model = create_model("efficientnet_b3").eval()
        with torch.no_grad():
            model.calibration.scale.copy_(torch.tensor([0.5, 1.5, 2.0, 0.75, 1.25, 0.9]))
            model.calibration.bias.copy_(torch.tensor([-1.0, 0.5, 0.0, -0.25, 2.0, -3.0]))
        round_to_fp16_(model)
        with tempfile.TemporaryDirectory() as tmp:
            proto = export_onnx(model, Path(tmp) / "m.onnx")
            to_fp16_storage(proto)
            path = Path(tmp) / "out" / "m.onnx"
            save_sharded(proto, path)
            sd = state_dict_from_onnx(path, create_model("efficientnet_b3"))
        torch.testing.assert_close(sd["calibration.scale"], model.calibration.scale, rtol=0, atol=0)
        torch.testing.assert_close(sd["calibration.bias"], model.calibration.bias, rtol=0, atol=0)


if __name__ == "__main__":
    unittest.main()


class Int8PreparationTest(unittest.TestCase):
    """What quantize.py feeds onnxruntime's quantiser: the shipped float16 storage folded back into
    float32 constants, value for value (the quantisation itself needs onnxruntime, never in CI)."""

    def test_fp16_casts_fold_back_to_the_same_float32_weights(self) -> None:
        from models.training.quantize import fold_fp16_casts

        torch.manual_seed(0)
        model = round_to_fp16_(create_model("convlstm").eval())
        with tempfile.TemporaryDirectory() as tmp:
            proto = export_onnx(model, Path(tmp) / "raw.onnx")
            before = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer
                      if t.data_type == TensorProto.FLOAT}
            stored = onnx.ModelProto()
            stored.CopyFrom(proto)
            counts = to_fp16_storage(stored)
            folded = fold_fp16_casts(stored)
            self.assertEqual(folded, counts["fp16_initializers"])
            self.assertFalse([n for n in stored.graph.node if n.op_type == "Cast" and n.name.endswith("__to_fp32")])
            after = {t.name: onnx.numpy_helper.to_array(t) for t in stored.graph.initializer}
            for name, arr in before.items():
                self.assertIn(name, after)
                self.assertEqual(after[name].dtype, arr.dtype)
                self.assertTrue((after[name] == arr).all(), name)
            onnx.checker.check_model(stored)

    def test_the_reference_head_is_fixed(self) -> None:
        from models.training.reference_input import reference_input

        hu, window = reference_input()
        self.assertEqual(hu.shape, (2, 1, 512, 512))
        self.assertEqual(float(hu[0, 0, 256, 256]), 27.0)   # white matter at the centre
        self.assertEqual(float(hu[1, 0, 220, 330]), 70.0)   # the blob, second slice only
        self.assertEqual(float(hu[0, 0, 220, 330]), 38.0)
        self.assertEqual(float(hu[0, 0, 0, 0]), -1000.0)
        self.assertEqual(window.tolist(), [[40.0, 80.0], [40.0, 80.0]])


class StaleEvaluationTest(unittest.TestCase):
    """The ensemble row and the ranking are computed from run folders: only the shipped weights' count."""

    def test_only_the_shipped_weights_feed_the_ensemble_and_the_ranking(self) -> None:
        from models.training.onnx_export import stale_evaluation

        row = {"id": "efficientnet_b3", "training": {"exportedCheckpoint": {"step": 1024}}}
        shipped_file = {"weights": "models/efficientnet_b3/efficientnet_b3.onnx"}
        exported = {"weights": "models/training/runs/efficientnet_b3/best.pt rounded through fp16 (step 1024, with its calibration)",
                    "checkpoint_step": 1024}
        candidate = {"weights": "models/training/runs/efficientnet_b3/best.pt rounded through fp16 (step 518, with its calibration)",
                     "checkpoint_step": 518}
        self.assertIsNone(stale_evaluation("efficientnet_b3", row, shipped_file))
        self.assertIsNone(stale_evaluation("efficientnet_b3", row, exported))
        self.assertIsNone(stale_evaluation("efficientnet_b3", row, None))  # no run folder: feeds nothing
        why = stale_evaluation("efficientnet_b3", row, candidate)
        self.assertIn("step 518", why or "")
        self.assertIn("not the shipped weights (step 1024)", why or "")
        self.assertIsNotNone(stale_evaluation("efficientnet_b3", None, shipped_file))
