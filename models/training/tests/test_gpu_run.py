"""The GPU script's way back: weights packed into pieces that fit the machine's copy-back limits,
fetched part by part, and unpacked here into run folders the export reads."""
import json
import tempfile
import unittest
from pathlib import Path

import torch

from models.training import gpu_run
from models.training.engine import load_checkpoint, save_checkpoint
from models.training.registry import create_model


class CompactInt8Test(unittest.TestCase):
    def test_restores_each_channel_within_half_a_step(self) -> None:
        g = torch.Generator().manual_seed(0)
        w = torch.randn(32, 16, 3, 3, generator=g) * torch.linspace(1e-3, 2.0, 32)[:, None, None, None]
        w[5] = 0.0  # a dead channel must not divide by zero
        packed = gpu_run.compact_int8(w)
        self.assertEqual(packed["int8"].dtype, torch.int8)
        back = gpu_run.expand_int8(packed)
        step = packed["scale"][:, None, None, None]
        self.assertTrue(bool(((back - w).abs() <= step / 2 + 1e-7).all()))
        self.assertTrue(bool((back[5] == 0).all()))


class PackUnpackTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        self.runs = self.root / "runs"
        model = create_model("convlstm")
        self.weights = model.state_dict()
        state = {"step": 7, "runs": [{"hardware": "test", "steps": 7}]}
        for name in ("best.pt", "last.pt"):
            save_checkpoint(self.runs / "convlstm" / name, model=self.weights, state=state, pos_weight=[1.0] * 6,
                            run={"steps": 7}, last_epoch={"step": 7})
        (self.runs / "convlstm" / "calibration.json").write_text(json.dumps({"checkpoint": {"step": 7}}))

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def _round_trip(self, compact, piece_bytes, part_bytes):
        summary = gpu_run.pack(["convlstm"], self.runs, self.root / "pack", minutes=0.1, compact=compact,
                               piece_bytes=piece_bytes, part_bytes=part_bytes)
        back = self.root / "back"
        for part in range(1, summary["parts"] + 1):
            gpu_run.fetch(self.root, part, back)
        gpu_run.unpack(back, self.root / "unpacked")
        return summary, load_checkpoint(self.root / "unpacked" / "convlstm" / "best.pt")

    def test_fp16_pieces_across_parts_come_back_whole(self) -> None:
        summary, ck = self._round_trip(compact=(), piece_bytes=1 << 20, part_bytes=2 << 20)
        self.assertGreater(summary["parts"], 1)
        for p in summary["pieces"]:
            self.assertLessEqual(p["bytes"], 1 << 20)
        per_part = {}
        for p in summary["pieces"]:
            per_part[p["part"]] = per_part.get(p["part"], 0) + p["bytes"]
        self.assertLessEqual(max(per_part.values()), 2 << 20)
        for k, v in self.weights.items():
            got = ck["model"][k]
            if v.is_floating_point():
                torch.testing.assert_close(got, v.half().float())
            else:
                self.assertTrue(torch.equal(got, v))
        self.assertEqual(ck["state"]["step"], 7)
        calibration = json.loads((self.root / "unpacked" / "convlstm" / "calibration.json").read_text())
        self.assertEqual(calibration["checkpoint"]["step"], 7)

    def test_compact_network_comes_back_within_int8_rounding(self) -> None:
        _, ck = self._round_trip(compact=("convlstm",), piece_bytes=1 << 20, part_bytes=8 << 20)
        for k, v in self.weights.items():
            if v.is_floating_point() and v.dim() >= 2 and v.numel() >= 4096:
                step = v.abs().reshape(v.shape[0], -1).amax(dim=1).max() / 127
                self.assertLessEqual(float((ck["model"][k] - v).abs().max()), float(step) / 2 + 1e-6, k)

    def test_a_network_with_a_piece_missing_is_named_and_left(self) -> None:
        summary = gpu_run.pack(["convlstm"], self.runs, self.root / "pack", minutes=0.1, compact=(),
                               piece_bytes=1 << 20, part_bytes=2 << 20)
        back = self.root / "back"
        gpu_run.fetch(self.root, 1, back)  # the later parts never fetched
        self.assertGreater(summary["parts"], 1)
        gpu_run.unpack(back, self.root / "unpacked")
        self.assertFalse((self.root / "unpacked" / "convlstm" / "best.pt").exists())


class LesionPackTest(unittest.TestCase):
    def test_the_lesion_network_travels_in_fp16_with_its_run_records(self) -> None:
        from models.training.lesion_unet import LesionUNet

        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            weights = LesionUNet().state_dict()
            state = {"step": 9, "best": 0.5, "minutes": 1.0, "slices": 72, "runs": [{"hardware": "test"}]}
            save_checkpoint(root / "runs" / "lesion_unet" / "best.pt", model=weights, state=state)
            (root / "runs" / "lesion_unet" / "evaluation.json").write_text(json.dumps(
                {"pools": [{"pointing_game": {"any": {"hit_rate": 0.9}}}]}))
            summary = gpu_run.pack(["lesion_unet"], root / "runs", root / "pack", minutes=0.1)
            self.assertEqual(summary["models"], ["lesion_unet"])
            self.assertEqual(summary["evaluation"]["lesion_unet"], {"pointing_game_any": 0.9})
            gpu_run.fetch(root, 1, root / "back")
            gpu_run.unpack(root / "back", root / "unpacked")
            ck = load_checkpoint(root / "unpacked" / "lesion_unet" / "best.pt")
            self.assertEqual(ck["state"]["step"], 9)
            for k, v in weights.items():
                if v.is_floating_point():
                    torch.testing.assert_close(ck["model"][k], v.half().float())
                else:
                    self.assertTrue(torch.equal(ck["model"][k], v))
            LesionUNet().load_state_dict(ck["model"])  # what `lesion_unet ship --checkpoint` loads

    def test_a_stride_two_lesion_network_comes_back_as_stride_two(self) -> None:
        from models.training.lesion_unet import LesionUNet, load_lesion_model

        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            weights = LesionUNet(map_stride=2).state_dict()
            state = {"step": 9, "best": 0.5, "minutes": 1.0, "slices": 72, "map_stride": 2, "runs": [{"hardware": "test"}]}
            save_checkpoint(root / "runs" / "lesion_unet" / "best.pt", model=weights, state=state)
            gpu_run.pack(["lesion_unet"], root / "runs", root / "pack", minutes=0.1)
            gpu_run.fetch(root, 1, root / "back")
            gpu_run.unpack(root / "back", root / "unpacked")
            net = load_lesion_model(str(root / "unpacked" / "lesion_unet" / "best.pt"))  # what `ship` and `evaluate` load
            self.assertEqual(net.map_stride, 2)
            torch.testing.assert_close(net.head.weight, weights["head.weight"].half().float())

    def test_the_trainers_budget_ends_before_the_command_stops_them(self) -> None:
        # 6.6 minutes left before calibration: 7 asked would be cut off mid-cosine, without a last evaluation
        self.assertEqual(gpu_run.training_minutes(7.0, 6.6 * 60), round(6.6 - gpu_run.TRAINER_MARGIN_S / 60, 2))
        self.assertEqual(gpu_run.training_minutes(5.0, 9 * 60), 5.0)  # time enough: as asked
        self.assertEqual(gpu_run.training_minutes(5.0, 10.0), 0.1)  # nothing left: a token run, never negative

    def test_the_lesion_network_can_start_from_an_earlier_runs_checkpoint(self) -> None:
        small = {"val": 2}
        plain = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none", "--init", "none"])
        cmd = gpu_run._train_command(plain, "lesion_unet", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
        self.assertEqual(cmd[cmd.index("--init") + 1], "none")
        args = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none", "--lesion-init", "/tmp/s2/best.pt"])
        cmd = gpu_run._train_command(args, "lesion_unet", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
        self.assertEqual(cmd[cmd.index("--init") + 1], "/tmp/s2/best.pt")
        self.assertEqual(cmd[cmd.index("--faint-blood-weight") + 1], "1.0")   # the plain loss unless asked
        faint = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none", "--lesion-faint-blood-weight", "3"])
        cmd = gpu_run._train_command(faint, "lesion_unet", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
        self.assertEqual(cmd[cmd.index("--faint-blood-weight") + 1], "3.0")
        b3 = gpu_run._train_command(args, "efficientnet_b3", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
        self.assertEqual(b3[b3.index("--init") + 1], "onnx")  # the classifiers keep --init

    def test_the_training_pool_alone_holds_more_single_subtype_bleeds(self) -> None:
        args = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none"])
        cmd = gpu_run._train_pool_command(args, Path("/tmp/pools"), 3)
        self.assertEqual(cmd[cmd.index("--single-subtype-share") + 1], "0.5")
        self.assertEqual(cmd[cmd.index("--out") + 1], "/tmp/pools/train")
        mix = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none", "--single-subtype-share", "0"])
        cmd = gpu_run._train_pool_command(mix, Path("/tmp/pools"), 3)
        self.assertEqual(cmd[cmd.index("--single-subtype-share") + 1], "0.0")

    def test_the_lesion_network_trains_at_the_chosen_stride_two_by_default(self) -> None:
        args = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none"])
        self.assertEqual(args.lesion_map_stride, 2)
        small = {"val": 2}

        def command(a):
            return gpu_run._train_command(a, "lesion_unet", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])

        cmd = command(args)
        self.assertEqual(cmd[cmd.index("--map-stride") + 1], "2")
        self.assertEqual(cmd[cmd.index("--init") + 1], "onnx")
        four = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none", "--lesion-map-stride", "4"])
        cmd = command(four)
        self.assertEqual(cmd[cmd.index("--map-stride") + 1], "4")
        classifier = gpu_run._train_command(args, "efficientnet_b3", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
        self.assertNotIn("--map-stride", classifier)
        self.assertEqual(classifier[classifier.index("--other-bleed-weight") + 1], "1.0")
        weighted = gpu_run.parser().parse_args(["train", "--toy", "--out", "/tmp/none", "--other-bleed-weight", "4"])
        classifier = gpu_run._train_command(weighted, "efficientnet_b3", small, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
        self.assertEqual(classifier[classifier.index("--other-bleed-weight") + 1], "4.0")
        self.assertNotIn("--other-bleed-weight", command(weighted))  # the lesion network has its own loss


class CarriedWeightsTest(unittest.TestCase):
    """A network's shipped files carried to the machine apart from the checkout (the 64 MiB limit)."""

    def _models_dir(self, root: Path) -> Path:
        models = root / "models"
        (models / "net").mkdir(parents=True)
        (models / "manifest.json").write_text(json.dumps({"models": [{"id": "net", "files": [
            {"path": "net/net.int8.onnx", "bytes": 3}, {"path": "net/net.int8.onnx.data-000", "bytes": 5}]}]}))
        return models

    def test_the_carried_files_are_placed_where_init_onnx_reads_them(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            models = self._models_dir(root)
            first, second = root / "call-1", root / "call-2"
            first.mkdir(); second.mkdir()
            (first / "net.int8.onnx.data-000").write_bytes(b"12345")
            (second / "net.int8.onnx").write_bytes(b"abc")
            self.assertFalse(gpu_run.shipped_weights_present("net", models))
            placed = gpu_run.place_weights([str(first), str(second)], models)
            self.assertEqual(sorted(placed), ["net/net.int8.onnx", "net/net.int8.onnx.data-000"])
            self.assertTrue(gpu_run.shipped_weights_present("net", models))
            self.assertEqual((models / "net" / "net.int8.onnx.data-000").read_bytes(), b"12345")

    def test_a_stray_or_truncated_file_is_refused_by_name(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            models = self._models_dir(root)
            carried = root / "carried"
            carried.mkdir()
            (carried / "other.onnx").write_bytes(b"x")
            with self.assertRaisesRegex(SystemExit, "other.onnx: not a file of models/manifest.json"):
                gpu_run.place_weights([str(carried)], models)
            (carried / "other.onnx").unlink()
            (carried / "net.int8.onnx").write_bytes(b"ab")
            with self.assertRaisesRegex(SystemExit, "2 bytes where the manifest records 3"):
                gpu_run.place_weights([str(carried)], models)
            self.assertFalse((models / "net" / "net.int8.onnx").exists())

    @unittest.skipUnless(gpu_run.shipped_weights_present("inception_resnet_v2"), "Inception-ResNet-V2's files are not here")
    def test_inception_resnet_v2_from_its_shipped_weights_trains_at_its_lower_rate(self) -> None:
        def rate(init: str) -> float:
            args = gpu_run.parser().parse_args(["train", "--out", "/tmp/none", "--init", init])
            cmd = gpu_run._train_command(args, "inception_resnet_v2", {"val": 2}, Path("/tmp/runs"), ["/tmp/p"], ["/tmp/v"])
            return float(cmd[cmd.index("--lr") + 1])

        recipe = gpu_run.GPU_RECIPE["inception_resnet_v2"]
        self.assertEqual(rate("onnx"), recipe["lr_from_weights"])
        self.assertEqual(rate("none"), recipe["lr"])


if __name__ == "__main__":
    unittest.main()
