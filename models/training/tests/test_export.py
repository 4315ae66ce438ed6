"""ONNX export under the contract: fp16 storage, sharding, contract inputs, weights read back."""
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np
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

    def test_calibration_passes_cover_every_slice_once_in_small_equal_ranges(self) -> None:
        # onnxruntime runs one pass per range of the reader (the range size must divide the slices);
        # the histogram calibrators hold a pass's activations in memory, so the ranges stay small.
        from models.training.quantize import _chunk, _Reader

        self.assertEqual([_chunk(n) for n in (96, 25, 48, 7, 1)], [2, 1, 2, 1, 1])
        self.assertEqual(_chunk(96, target=5), 4)
        data = {"hu": np.arange(6, dtype=np.float32).reshape(6, 1, 1, 1), "window": np.zeros((6, 2), np.float32)}
        reader, seen = _Reader(data), []
        self.assertEqual(len(reader), 6)
        for start in range(0, len(reader), _chunk(len(reader))):
            reader.set_range(start_index=start, end_index=start + _chunk(len(reader)))
            pass_slices = []
            while (item := reader.get_next()) is not None:
                self.assertEqual(item["hu"].shape, (1, 1, 1, 1))
                pass_slices.append(int(item["hu"][0, 0, 0, 0]))
            self.assertEqual(len(pass_slices), 2)
            seen += pass_slices
        self.assertEqual(seen, list(range(6)))

    def test_batch_norm_after_relu_folds_into_the_convolution_exactly(self) -> None:
        # The Conv-LSTM's units (convolution -> ReLU -> batch norm, padded convolutions after them):
        # the scale moves into the convolution, the shift stays as an addition, the answers do not move.
        import io

        import torch.nn.functional as F
        from onnx import numpy_helper

        from models.training.quantize import fold_batchnorm_after_relu

        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.BatchNorm2d(4),
                                  torch.nn.Conv2d(4, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.BatchNorm2d(3),
                                  torch.nn.MaxPool2d(2, 2))
        for bn in (net[2], net[5]):
            bn.weight.data.uniform_(0.5, 2.0)
            bn.bias.data.normal_()
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
        net.eval()
        x = torch.randn(2, 2, 12, 12)
        buf = io.BytesIO()
        torch.onnx.export(net, x, buf, input_names=["x"], output_names=["y"], opset_version=17, do_constant_folding=False)
        proto = onnx.load_from_string(buf.getvalue())
        self.assertEqual(sum(n.op_type == "BatchNormalization" for n in proto.graph.node), 2)
        self.assertEqual(fold_batchnorm_after_relu(proto), 2)
        self.assertEqual(sorted({n.op_type for n in proto.graph.node}), ["Add", "Conv", "MaxPool", "Relu"])
        onnx.checker.check_model(proto)

        def attr(node: onnx.NodeProto, name: str, default: list) -> list:
            return next((list(a.ints) for a in node.attribute if a.name == name), default)

        values = {"x": x}
        values.update({i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in proto.graph.initializer})
        for node in proto.graph.node:  # the four operators left, as onnxruntime would run them
            ins = [values[i] for i in node.input if i]
            if node.op_type == "Conv":
                out = F.conv2d(ins[0], ins[1], ins[2] if len(ins) > 2 else None, padding=attr(node, "pads", [0] * 4)[:2])
            elif node.op_type == "Relu":
                out = F.relu(ins[0])
            elif node.op_type == "Add":
                out = ins[0] + ins[1]
            else:
                out = F.max_pool2d(ins[0], attr(node, "kernel_shape", [2, 2]), attr(node, "strides", [2, 2]))
            values[node.output[0]] = out
        with torch.no_grad():
            expected = net(x)
        self.assertLess(float((values["y"] - expected).abs().max()), 1e-5)

    def test_a_batch_norm_with_a_negative_scale_is_left_alone(self) -> None:
        # a * relu(z) = relu(a * z) only for a > 0.
        import io

        from models.training.quantize import fold_batchnorm_after_relu

        net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.BatchNorm2d(2)).eval()
        net[2].weight.data = torch.tensor([1.0, -1.0])
        buf = io.BytesIO()
        torch.onnx.export(net, torch.randn(1, 1, 6, 6), buf, opset_version=17, do_constant_folding=False)
        proto = onnx.load_from_string(buf.getvalue())
        self.assertEqual(fold_batchnorm_after_relu(proto), 0)
        self.assertIn("BatchNormalization", {n.op_type for n in proto.graph.node})

    def test_the_layers_kept_float_are_named_by_their_ends_or_by_a_block_path(self) -> None:
        # B3's late stages lose the most in int8 on real anatomy: a block path keeps every node under it float.
        from models.training.quantize import kept_float_nodes

        torch.manual_seed(0)
        with tempfile.TemporaryDirectory() as tmp:
            proto = export_onnx(create_model("efficientnet_b3").eval(), Path(tmp) / "b3.onnx")
        names = [n.name for n in proto.graph.node]
        convs = [n.name for n in proto.graph.node if n.op_type == "Conv"]
        self.assertEqual(kept_float_nodes(proto, ["first"]), convs[:1])
        self.assertEqual(kept_float_nodes(proto, ["last"]), [n.name for n in proto.graph.node if n.op_type == "Gemm"][-1:])
        tail = kept_float_nodes(proto, ["/net/features/features.7", "/net/features/features.8"])
        self.assertEqual(tail, [n for n in names if n.startswith(("/net/features/features.7", "/net/features/features.8"))])
        self.assertIn("Conv", {n.op_type for n in proto.graph.node if n.name in tail})
        self.assertFalse([n for n in tail if n.startswith("/net/features/features.6")])
        # each node once, even when two entries name it
        self.assertEqual(len(kept_float_nodes(proto, ["/net/features/features.8", "/net/features/features.8/"])),
                         len([n for n in names if n.startswith("/net/features/features.8")]))
        # what --sqnr-pool reports per block is a path --keep-float takes
        from models.training.quantize import block_of

        tensor = next(o for n in proto.graph.node if n.name.startswith("/net/features/features.6/") for o in n.output)
        self.assertEqual(block_of(tensor), "/net/features/features.6")
        self.assertEqual(kept_float_nodes(proto, [block_of(tensor)]),
                         [n for n in names if n.startswith("/net/features/features.6")])
        self.assertEqual(kept_float_nodes(proto, ["/net/features/features.8"]),
                         [n for n in names if n.startswith("/net/features/features.8/")])
        with self.assertRaises(SystemExit) as refused:  # a path, not a string prefix
            kept_float_nodes(proto, ["/net/features/features.6/features.6.1/blo"])
        with self.assertRaises(SystemExit) as refused:
            kept_float_nodes(proto, ["/net/features/features.99"])
        self.assertIn("features.99", str(refused.exception))

    def test_an_int8_files_float_layers_are_stored_in_float16_and_its_scales_are_not(self) -> None:
        # One quantised convolution (int8 weight, float scale read by a DequantizeLinear) and one kept float.
        from onnx import helper, numpy_helper

        from models.training.onnx_utils import float_weights_outside_qdq

        rng = np.random.default_rng(0)
        w_float = rng.normal(0, 0.1, (32, 8, 3, 3)).astype(np.float32)  # not exact in float16
        scale = np.full(2048, 0.0078125, np.float32)  # exact in float16, but a quantiser's scale
        inits = [numpy_helper.from_array(w_float, "w_float"), numpy_helper.from_array(np.zeros(32, np.float32), "b_float"),
                 numpy_helper.from_array(rng.integers(-127, 127, (2048, 32, 1, 1)).astype(np.int8), "w_q"),
                 numpy_helper.from_array(scale, "w_scale"), numpy_helper.from_array(np.zeros(2048, np.int8), "w_zero")]
        nodes = [helper.make_node("Conv", ["x", "w_float", "b_float"], ["y"], pads=[1, 1, 1, 1]),
                 helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero"], ["w_deq"], axis=0),
                 helper.make_node("Conv", ["y", "w_deq"], ["z"])]
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 4, 4])],
                                  [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2048, 4, 4])], inits)
        proto = helper.make_model(graph)
        self.assertEqual(float_weights_outside_qdq(proto), ["w_float"])  # the bias is below the size floor
        counts = to_fp16_storage(proto, float_weights_outside_qdq(proto))
        self.assertEqual(counts["fp16_initializers"], 1)
        stored = {t.name: t for t in proto.graph.initializer}
        self.assertIn("w_float__fp16", stored)
        self.assertEqual(stored["w_float__fp16"].data_type, TensorProto.FLOAT16)
        self.assertEqual(stored["w_scale"].data_type, TensorProto.FLOAT)
        self.assertNotIn("w_scale__fp16", stored)
        back = numpy_helper.to_array(stored["w_float__fp16"]).astype(np.float32)
        self.assertLess(float(np.abs(back - w_float).max()), 1e-3 * float(np.abs(w_float).max()))
        self.assertGreater(float(np.abs(back - w_float).max()), 0.0)  # rounded, not only the exact ones
        self.assertEqual([n.op_type for n in proto.graph.node][0], "Cast")
        onnx.checker.check_model(proto)

    def test_an_int8_file_is_adopted_only_within_the_limit_on_every_held_out_pool(self) -> None:
        # Ranges calibrated on phantoms may clip real anatomy: a cost on the real-anatomy pool alone refuses.
        from unittest import mock

        from models.training import onnx_export
        from models.training.quantize import worst_cost

        record = {"mean_auc_cost": -0.0006, "speedup": 2.3, "results": {"int8": {"sha256": None}},
                  "also": [{"pool": "inserted-held-s2", "mean_auc_cost": 0.0189}]}
        self.assertAlmostEqual(worst_cost(record), 0.0189)
        self.assertAlmostEqual(worst_cost({"mean_auc_cost": 0.001}), 0.001)
        with tempfile.TemporaryDirectory() as tmp:
            run, models = Path(tmp) / "run", Path(tmp) / "models"
            run.mkdir()
            (models / "m").mkdir(parents=True)
            (models / "m" / "m.int8.onnx").write_bytes(b"int8 graph")
            (run / "quantization.json").write_text(json.dumps(record))
            entry = {"id": "m", "files": [{"path": "m/m.onnx", "precision": "float16", "providers": ["cuda", "cpu"]}]}
            with mock.patch.object(onnx_export, "run_dir", return_value=run), \
                    mock.patch.object(onnx_export, "MODELS_DIR", models), self.assertRaises(SystemExit) as refused:
                onnx_export.adopt_int8(entry, drop_float=False)
            self.assertIn("0.0189 on inserted-held-s2", str(refused.exception))
            self.assertIn("not adopted", str(refused.exception))

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

    def test_a_checkout_without_evaluations_refreshes_no_card_and_keeps_the_manifest(self) -> None:
        # A fresh clone has no run folders: adopting an int8 file or refreshing metrics there would
        # write the card without its figures (and the ensemble row without its thresholds).
        from unittest import mock

        from models.training import onnx_export

        manifest = onnx_export.MANIFEST
        before = manifest.read_bytes() if manifest.exists() else None
        for flag in ("--adopt-int8", "--metrics-only"):
            with mock.patch.object(onnx_export, "_read_eval", return_value=None), \
                    self.assertRaises(SystemExit) as refused:
                onnx_export.main(["--model", "efficientnet_b3", flag])
            self.assertIn("evaluation.json", str(refused.exception))
            self.assertIn("evaluate the shipped file first", str(refused.exception))
        self.assertEqual(manifest.read_bytes() if manifest.exists() else None, before)
