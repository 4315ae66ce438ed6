"""The lesion map network: the contract's outputs plus its map, coverage targets that keep partial
volume, augmentation that moves the targets with the slice, volumes from maps and masks, a pool
loader that yields each slice's lesion bits, and a training run of a few steps that writes a
checkpoint the evaluation reads back."""
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

from models.training import lesion_unet as lu
from models.training import pool
from models.training.augment import AugmentConfig, augment_batch, augment_with_targets
from models.training.contract import LABELS
from models.training.tests.helpers import phantom_available


class LesionMapTest(unittest.TestCase):
    def test_outputs_follow_the_contract_and_the_maps_maxima_are_the_labels(self) -> None:
        torch.manual_seed(0)
        model = lu.LesionUNet().eval()
        hu = torch.randn(2, 1, 512, 512) * 40 + 30
        with torch.no_grad():
            probs, maps = model(hu, torch.zeros(2, 2))
            logits = model.map_logits(hu)
        self.assertEqual(tuple(probs.shape), (2, len(LABELS)))
        self.assertEqual(tuple(maps.shape), (2, len(LABELS) - 1, lu.MAP_SIZE, lu.MAP_SIZE))
        sub = logits.flatten(2).amax(2)
        torch.testing.assert_close(probs[:, 1:], torch.sigmoid(sub))
        torch.testing.assert_close(probs[:, 0], torch.sigmoid(sub.amax(1)))

    def test_the_registry_builds_it_beside_the_classifiers_for_validation_and_benchmarks(self) -> None:
        from models.training.registry import create_network, list_models, list_networks

        self.assertEqual(list_networks(), list_models() + [lu.MODEL_ID])
        self.assertIsInstance(create_network(lu.MODEL_ID), lu.LesionUNet)
        self.assertNotIsInstance(create_network("efficientnet_b3"), lu.LesionUNet)

    def test_coverage_targets_keep_partial_volume_per_subtype(self) -> None:
        bits = torch.zeros(1, 512, 512, dtype=torch.uint8)
        sdh = 1 << (LABELS.index("subdural") - 1)
        bits[0, 0:4, 0:4] = sdh          # one whole map pixel
        bits[0, 8:10, 0:4] = sdh | 1     # half a map pixel, subdural and epidural
        t = lu.coverage_targets(bits)
        self.assertEqual(tuple(t.shape), (1, 5, 128, 128))
        s = LABELS.index("subdural") - 1
        self.assertAlmostEqual(float(t[0, s, 0, 0]), 1.0)
        self.assertAlmostEqual(float(t[0, s, 2, 0]), 0.5)
        self.assertAlmostEqual(float(t[0, 0, 2, 0]), 0.5)
        self.assertAlmostEqual(float(t.sum()), 2.0)

    def test_augmentation_moves_targets_with_the_slice_and_keeps_the_hu_draws(self) -> None:
        hu = torch.zeros(2, 1, 512, 512)
        hu[:, :, 40:80, 300:360] = 70.0
        bits = torch.zeros(2, 512, 512, dtype=torch.uint8)
        bits[:, 40:80, 300:360] = 1
        targets = lu.coverage_targets(bits)
        flip = AugmentConfig(flip=1.0, rotate_deg=0.0, scale=(1.0, 1.0), shift=0.0, truncate_p=0.0, motion_p=0.0,
                             hu_scale=0.0, hu_offset=0.0, noise_p=0.0, blur_p=0.0)
        out, moved = augment_with_targets(hu, targets, torch.Generator().manual_seed(0), flip)
        torch.testing.assert_close(moved, targets.flip(-1).flip(-2), atol=1e-4, rtol=0)
        torch.testing.assert_close(out, hu.flip(-1).flip(-2), atol=1e-3, rtol=0)
        # the default recipe: the same HU with or without targets, and the lesion still under the blood
        a, t = augment_with_targets(hu, targets, torch.Generator().manual_seed(4))
        torch.testing.assert_close(a, augment_batch(hu, torch.Generator().manual_seed(4)))
        up = torch.nn.functional.interpolate(t, size=(512, 512), mode="bilinear", align_corners=False)
        inside = up[:, 0] > 0.9
        self.assertTrue(bool(inside.any()))
        self.assertGreater(float(a[:, 0][inside].mean()), 60.0)

    def test_volumes_from_maps_and_masks_agree_on_the_same_lesion(self) -> None:
        bits = np.zeros((3, 512, 512), np.uint8)
        bits[:, 100:140, 100:160] = 4
        maps = lu.coverage_targets(torch.from_numpy(bits)).numpy()
        truth = lu.mask_volume_ml(bits, 0.45, 5.0)
        self.assertAlmostEqual(truth, 3 * 40 * 60 * 0.45 ** 2 * 5.0 / 1000)
        self.assertAlmostEqual(lu.volume_ml(maps, 0.45, 5.0), truth, places=6)
        self.assertTrue(lu.volume_within(truth * 1.2, truth))
        self.assertFalse(lu.volume_within(truth * 2 + 3, truth))
        self.assertTrue(lu.volume_within(1.5, 0.1))   # small bleeds: within 2 mL
        self.assertAlmostEqual(lu.slice_spacing(np.array([10.0, 5.0, 0.0])), 5.0)

    def test_each_drawn_subtype_reports_its_volume_and_the_share_the_volume_counts(self) -> None:
        bits = np.zeros((2, 512, 512), np.uint8)
        bits[:, 100:140, 100:160] = 1 << 4          # a subdural collection
        bits[:, 300:320, 300:340] |= 1 << 3         # subarachnoid blood the map leaves out
        maps = np.zeros((2, 5, 128, 128), np.float32)
        maps[:, 4, 25:35, 25:33] = 0.9              # the subdural's left 32 of 60 columns, every row
        got = lu.subtype_coverage(maps, bits, 0.45, 5.0, threshold=0.5)
        self.assertEqual(sorted(got), ["subarachnoid", "subdural"])
        self.assertAlmostEqual(got["subdural"]["drawn_ml"], round(2 * 40 * 60 * 0.45 ** 2 * 5.0 / 1000, 2))
        self.assertAlmostEqual(got["subdural"]["counted"], round(32 / 60, 2))
        self.assertEqual(got["subarachnoid"]["counted"], 0.0)
        # counted pixels are any subtype's: a map drawn as epidural still counts the subdural's pixels
        maps[:, 0], maps[:, 4] = maps[:, 4], 0.0
        self.assertAlmostEqual(lu.subtype_coverage(maps, bits, 0.45, 5.0, 0.5)["subdural"]["counted"], round(32 / 60, 2))

    def test_the_overlap_term_is_the_soft_dice_at_half_and_weighs_misses_above_it(self) -> None:
        torch.manual_seed(0)
        target = (torch.rand(2, 5, 16, 16) > 0.8).float()
        logits = torch.randn(2, 5, 16, 16)
        labels = torch.zeros(2, 6)
        p = torch.sigmoid(logits)
        inter = (p * target).sum(dim=(0, 2, 3))
        denom = p.sum(dim=(0, 2, 3)) + target.sum(dim=(0, 2, 3))
        dice = (1 - (2 * inter + 1) / (denom + 1)).mean()
        self.assertAlmostEqual(float(lu.lesion_loss(logits, target, labels)["dice"]), float(dice), places=5)
        # a map that draws half the lesion against one that draws all of it and half as much again:
        # weighing misses at 0.7 widens the gap between them against the Dice's
        lesion = torch.zeros(1, 5, 32, 32)
        lesion[:, :, 8:24, 8:24] = 1
        small = torch.full_like(lesion, -6.0); small[:, :, 8:24, 8:16] = 6.0
        large = torch.full_like(lesion, -6.0); large[:, :, 4:28, 8:24] = 6.0
        at = lambda m, w: float(lu.lesion_loss(m, lesion, torch.zeros(1, 6), fn_weight=w)["dice"])
        self.assertGreater(at(small, 0.7) - at(large, 0.7), 1.5 * (at(small, 0.5) - at(large, 0.5)))
        self.assertLess(at(large, 0.7), at(large, 0.5))

    def test_faint_blood_weighs_only_dark_lesion_pixels_and_a_map_missing_it_costs_more(self) -> None:
        # a slice of brain (35 HU) with one collection: its left half acute (70 HU), its right half
        # chronic (20 HU); the subdural plane (bit 4) covers both halves
        hu = torch.full((1, 1, 512, 512), 35.0)
        hu[..., 100:200, 100:150] = 70.0
        hu[..., 100:200, 150:200] = 20.0
        bits = torch.zeros(1, 512, 512, dtype=torch.uint8)
        bits[:, 100:200, 100:200] = 1 << 4
        target = lu.coverage_targets(bits)
        self.assertIsNone(lu.faint_blood_weights(hu, target, 1.0))   # weight 1: the plain loss
        w = lu.faint_blood_weights(hu, target, 3.0)
        self.assertEqual(tuple(w.shape), tuple(target.shape))
        sdh = w[0, 4]
        self.assertEqual(float(sdh[25:50, 38:50].min()), 3.0)    # the chronic half
        self.assertEqual(float(sdh[25:50, 25:37].max()), 1.0)    # the acute half
        self.assertEqual(float(sdh[:20].max()), 1.0)             # dark brain outside the lesion
        self.assertEqual(float(w[0, :4].max()), 1.0)             # other subtypes' planes: no lesion
        # a map that draws only the acute half now costs more than one that draws only the chronic
        # half; the plain loss counts the two halves alike
        acute = torch.full_like(target, -6.0); acute[0, 4, 25:50, 25:37] = 6.0
        chronic = torch.full_like(target, -6.0); chronic[0, 4, 25:50, 38:50] = 6.0
        labels = torch.zeros(1, 6); labels[0, 0] = labels[0, 5] = 1
        loss = lambda m, pw: float(lu.lesion_loss(m, target, labels, pixel_weight=pw)["loss"])
        self.assertAlmostEqual(loss(acute, None), loss(chronic, None), places=2)
        self.assertGreater(loss(acute, w), loss(chronic, w) + 0.1)


class StrideTwoTest(unittest.TestCase):
    """The stride-2 option: maps of 256 x 256 (one decoder level further), and everything that reads
    a map taking its stride from the map, the network, its checkpoint or its ONNX file."""

    def test_stride_two_decodes_to_level_zero_and_stride_four_is_the_shipped_layout(self) -> None:
        torch.manual_seed(0)
        m4, m2 = lu.LesionUNet().eval(), lu.LesionUNet(map_stride=2).eval()
        self.assertEqual((m4.map_stride, m4.map_size, m2.map_stride, m2.map_size), (4, 128, 2, 256))
        hu = torch.randn(2, 1, 512, 512) * 40 + 30
        with torch.no_grad():
            probs, maps = m2(hu, torch.zeros(2, 2))
            logits = m2.map_logits(hu)
        self.assertEqual(tuple(maps.shape), (2, 5, 256, 256))
        self.assertEqual(tuple(probs.shape), (2, len(LABELS)))
        torch.testing.assert_close(probs[:, 1:], torch.sigmoid(logits.flatten(2).amax(2)))
        # one more decoder block (w[1] + w[0] -> w[0], with level 0's skip), the head on w[0] channels
        w = lu.WIDTHS
        self.assertEqual(len(m2.up), len(m4.up) + 1)
        self.assertEqual(tuple(m2.up[-1][0].weight.shape), (w[0], w[1] + w[0], 3, 3))
        self.assertEqual(tuple(m2.head.weight.shape), (5, w[0], 1, 1))
        self.assertEqual(tuple(m4.head.weight.shape), (5, w[1], 1, 1))
        # the stride-4 network is the shipped one: its tensors are a subset of the stride-2 one's names
        s4, s2 = m4.state_dict(), m2.state_dict()
        self.assertEqual(set(s2) - set(s4), {k for k in s2 if k.startswith("up.3.")})
        with self.assertRaises(ValueError):
            lu.LesionUNet(map_stride=8)

    def test_coverage_targets_at_stride_two_keep_partial_volume(self) -> None:
        bits = torch.zeros(1, 512, 512, dtype=torch.uint8)
        s = LABELS.index("subdural") - 1
        bits[0, 0:2, 0:2] = 1 << s        # one whole stride-2 map pixel
        bits[0, 4:5, 0:2] = (1 << s) | 1  # half a stride-2 map pixel, subdural and epidural
        t = lu.coverage_targets(bits, 2)
        self.assertEqual(tuple(t.shape), (1, 5, 256, 256))
        self.assertAlmostEqual(float(t[0, s, 0, 0]), 1.0)
        self.assertAlmostEqual(float(t[0, s, 2, 0]), 0.5)
        self.assertAlmostEqual(float(t[0, 0, 2, 0]), 0.5)
        self.assertAlmostEqual(float(t.sum()), 2.0)
        # the same lesion at stride 4: one map pixel holds all of it, a quarter and an eighth covered
        t4 = lu.coverage_targets(bits, 4)
        self.assertEqual(tuple(t4.shape), (1, 5, 128, 128))
        self.assertAlmostEqual(float(t4[0, s, 0, 0]), 0.25)
        self.assertAlmostEqual(float(t4[0, s, 1, 0]), 0.125)

    def test_volume_at_stride_two_on_a_hand_made_map(self) -> None:
        maps = np.zeros((3, 5, 256, 256), np.float32)
        maps[0:2, 4, 10:20, 10:20] = 0.9     # 10 x 10 map pixels on two slices
        maps[0, 1, 10:15, 10:15] = 0.8      # shared with another subtype: counted once
        maps[2, 2, 50:60, 50:60] = 0.45     # below the threshold
        # a map pixel of 2 x 2 slice pixels at 0.5 mm: 1 mm2; 5 mm apart: 5 mm3
        self.assertAlmostEqual(lu.volume_ml(maps, 0.5, 5.0, 0.5), 2 * 100 * 1.0 * 5.0 / 1000, places=9)
        # the same count read as a 128 x 128 map would be four times the area: the stride is the map's
        self.assertAlmostEqual(lu.volume_ml(maps[:, :, :128, :128], 0.5, 5.0, 0.5), 2 * 100 * 4.0 * 5.0 / 1000, places=9)
        # a drawn lesion's coverage at stride 2 gives the masks' volume
        bits = np.zeros((2, 512, 512), np.uint8)
        bits[:, 100:140, 100:160] = 16
        cov = lu.coverage_targets(torch.from_numpy(bits), 2).numpy()
        self.assertAlmostEqual(lu.volume_ml(cov, 0.45, 5.0), lu.mask_volume_ml(bits, 0.45, 5.0), places=9)
        with self.assertRaises(ValueError):
            lu.volume_ml(np.zeros((1, 5, 100, 100), np.float32), 0.5, 5.0)

    def test_a_checkpoint_records_its_stride_and_an_old_one_is_stride_four(self) -> None:
        from models.training.engine import save_checkpoint

        torch.manual_seed(1)
        m2 = lu.LesionUNet(map_stride=2)
        with tempfile.TemporaryDirectory() as tmp:
            new, old = Path(tmp) / "new.pt", Path(tmp) / "old.pt"
            save_checkpoint(new, model=m2.state_dict(), state={"step": 3, "map_stride": 2})
            save_checkpoint(old, model=lu.LesionUNet().state_dict(), state={"step": 3})
            back = lu.load_lesion_model(str(new))
            self.assertEqual(back.map_stride, 2)
            torch.testing.assert_close(back.head.weight, m2.head.weight)
            self.assertEqual(lu.load_lesion_model(str(old)).map_stride, 4)

    def test_stride_four_weights_start_a_stride_two_network_where_names_and_shapes_match(self) -> None:
        torch.manual_seed(2)
        m4 = lu.LesionUNet()
        with torch.no_grad():
            for v in m4.state_dict().values():
                if v.is_floating_point():
                    v.add_(1.0)   # unlike any fresh initialisation
        m2 = lu.LesionUNet(map_stride=2)
        before = {k: v.clone() for k, v in m2.state_dict().items()}
        info = lu.init_from(m2, m4)
        after, src = m2.state_dict(), m4.state_dict()
        self.assertEqual(info["fresh"], ["head", "up.3"])
        self.assertEqual(info["loaded"], len(src) - 2)     # all but the stride-4 head's weight and bias
        self.assertEqual(info["tensors"], len(after))
        for k, v in after.items():
            if k.startswith(("head.", "up.3.")):
                torch.testing.assert_close(v, before[k])    # fresh
            else:
                torch.testing.assert_close(v, src[k])       # carried over
        self.assertIn("stride-4 weights into a stride-2 network", lu.init_note(info))
        self.assertIn("fresh: head, up.3", lu.init_note(info))
        # between networks of one stride everything loads, the head included
        same = lu.LesionUNet()
        self.assertEqual(lu.init_from(same, m4)["fresh"], [])
        torch.testing.assert_close(same.head.weight, m4.head.weight)

    def test_onnx_export_of_a_stride_two_network_declares_its_map_and_reads_back(self) -> None:
        import onnx

        from models.training.engine import round_to_fp16_, save_checkpoint

        torch.manual_seed(3)
        m2 = lu.LesionUNet(map_stride=2).eval()
        decl = lu.lesion_map_output(2)
        self.assertEqual((decl["shape"], decl["stride"]), (["N", 5, 256, 256], 2))
        self.assertEqual((lu.lesion_map_output()["shape"], lu.lesion_map_output()["stride"]), (["N", 5, 128, 128], 4))
        with tempfile.TemporaryDirectory() as tmp:
            ck = Path(tmp) / "best.pt"
            save_checkpoint(ck, model=m2.state_dict(), state={"step": 1, "map_stride": 2})
            done = lu.export(str(ck), Path(tmp) / "onnx" / "lesion_unet.onnx")
            self.assertEqual(done["map_stride"], 2)
            self.assertEqual(done["outputs"]["lesion_map"], ["N", 5, 256, 256])
            graph = onnx.load(done["path"]).graph
            out = {o.name: [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim] for o in graph.output}
            self.assertEqual(out["lesion_map"], ["N", 5, 256, 256])
            self.assertEqual(lu.onnx_map_stride(Path(done["path"])), 2)
            back = lu.load_weights(None, done["path"])
            self.assertEqual(back.map_stride, 2)
            hu = (np.random.default_rng(0).normal(30, 40, (1, 512, 512))).astype(np.float32)
            _, m_ck = lu.predict_maps(round_to_fp16_(lu.load_lesion_model(str(ck))), hu)
            _, m_ox = lu.predict_maps(back, hu)
            self.assertEqual(m_ox.shape, (1, 5, 256, 256))
            np.testing.assert_allclose(m_ox, m_ck, atol=1e-5)

    @unittest.skipUnless(lu.SHIPPED_ONNX.exists(), "no lesion-map network shipped")
    def test_the_shipped_file_reads_as_stride_four_and_its_threshold_is_not_a_stride_two_one(self) -> None:
        self.assertEqual(lu.onnx_map_stride(lu.SHIPPED_ONNX), 4)
        self.assertEqual(lu.load_weights(None, str(lu.SHIPPED_ONNX)).map_stride, 4)
        self.assertIsNotNone(lu.shipped_threshold(4))
        self.assertIsNone(lu.shipped_threshold(2))  # evaluate then defaults to 0.5, or --volume-threshold


@unittest.skipUnless(phantom_available(), "models.phantom is needed to build a pool")
class LesionTrainingTest(unittest.TestCase):
    def test_a_few_steps_train_checkpoint_and_evaluate(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "pool"
            pool.build(root, seed=6, studies=1, workers=1, progress=False)  # a study with a bleed
            idx = pool.PoolIndex.open(root)
            pixel_mm, z = idx.geometry(0)
            self.assertTrue(0.3 < pixel_mm < 0.7)
            ds = lu.PoolSlicesWithMasks([root])
            hu, window, labels, bits = ds[(0, 0, 3)]
            np.testing.assert_array_equal(bits.numpy(), idx.masks(0)[3])
            out = Path(tmp) / "run"
            lu.main(["train", "--pool", str(root), "--val-pool", str(root), "--val-studies", "1", "--max-steps", "2",
                     "--batch-size", "2", "--workers", "0", "--threads", "1", "--out", str(out)])
            self.assertTrue((out / "best.pt").exists() and (out / "last.pt").exists())
            res = lu.evaluate_pool(lu.load_lesion_model(str(out / "best.pt")), str(root), 1)
            exported = lu.export(str(out / "best.pt"), Path(tmp) / "onnx" / "lesion_unet.onnx")
            import onnx

            graph = onnx.load(exported["path"]).graph
            self.assertEqual([o.name for o in graph.output], ["probabilities", "lesion_map"])
            self.assertEqual([d.dim_value or d.dim_param for d in graph.output[1].type.tensor_type.shape.dim],
                             ["N", 5, lu.MAP_SIZE, lu.MAP_SIZE])
            # the shipped file's weights read back give the checkpoint's maps (fp16-rounded weights)
            from models.training.engine import round_to_fp16_

            hu3 = idx.hu_map(0)[:2]
            p_ck, m_ck = lu.predict_maps(round_to_fp16_(lu.load_lesion_model(str(out / "best.pt"))), hu3)
            p_ox, m_ox = lu.predict_maps(lu.load_weights(None, exported["path"]), hu3)
            np.testing.assert_allclose(m_ox, m_ck, atol=1e-5)
            np.testing.assert_allclose(p_ox, p_ck, atol=1e-5)
            record = lu.training_record(str(out / "best.pt"))
            self.assertEqual(record["steps"], 2)
            self.assertEqual(record["slicesSeen"], 4)
            self.assertIn("models.training.lesion_unet", record["runs"][0]["command"])
            # the command that ran, not the test runner's: a card prints it for rerunning
            self.assertTrue(record["runs"][0]["command"].startswith("/usr/bin/python3 -m models.training.lesion_unet train --pool "))
            bleeding = int(idx.labels[:, 0].sum())
            self.assertGreater(bleeding, 0)
            chosen = lu.choose_volume_threshold(lu.load_lesion_model(str(out / "best.pt")), [str(root)], 1, grid=(0.3, 0.5, 0.7))
            self.assertEqual(chosen["bleeding_studies"], 1)
            self.assertEqual([r["threshold"] for r in chosen["rows"]], [0.3, 0.5, 0.7])
            self.assertIn(chosen["threshold"], (0.3, 0.5, 0.7))
            self.assertEqual(res["pointing_game"]["any"]["slices"], bleeding)
            self.assertEqual(res["volume"]["bleeding_studies"], 1 if bleeding else 0)
            # a new run from the shipped network's weights (training on other days and machines adds
            # up): at learning rate 0 its convolutions are still the shipped ones after a step
            if lu.SHIPPED_ONNX.exists():
                again = Path(tmp) / "from-shipped"
                lu.main(["train", "--pool", str(root), "--init", "onnx", "--max-steps", "1", "--lr", "0", "--weight-decay", "0",
                         "--batch-size", "2", "--workers", "0", "--threads", "1", "--out", str(again)])
                shipped = lu.load_weights(None, str(lu.SHIPPED_ONNX)).state_dict()
                trained = lu.load_lesion_model(str(again / "best.pt")).state_dict()
                for name in ("down.0.0.weight", "up.0.0.weight", "head.weight"):
                    torch.testing.assert_close(trained[name], shipped[name])
                record, before = lu.training_record(str(again / "best.pt")), lu.shipped_training()
                self.assertEqual(record["runs"][-1]["init"], "onnx")
                self.assertEqual(len(record["runs"]), len(before["runs"]) + 1)  # the card counts what made the shipped weights
                self.assertEqual(record["slicesSeen"], before["slicesSeen"] + 2)
                self.assertEqual(record["steps"], before["steps"] + 1)
                # choosing between the two runs' checkpoints on a pool with pixel spacing
                picked = lu.choose_checkpoint([str(out / "best.pt"), str(again / "best.pt")], [], [str(root)], 1)
                self.assertEqual([r["pointing_slices"] for r in picked["rows"]], [bleeding, bleeding])
                self.assertEqual([r["volume_studies"] for r in picked["rows"]], [1, 1])
                # steps counted from scratch: the new run's one step adds to the shipped weights' steps
                self.assertEqual(picked["rows"][1]["step"], before["steps"] + 1)
                best = max(picked["rows"], key=lambda r: (r["score"], r["step"]))
                self.assertEqual(picked["chosen"], best["checkpoint"])
                # the card says how the shipped checkpoint was picked: which candidates, on which pools
                rule = lu.training_record(str(again / "best.pt"), picked)["exportedCheckpoint"]["rule"]
                self.assertIn("lesion_unet choose", rule)
                self.assertIn(f"on {root.name} (never the test pool)", rule)

                # a stride-2 run from the shipped stride-4 weights: at learning rate 0 the tensors that
                # match by name and shape are the shipped ones, the level-0 block and the head are the
                # fresh initialisation (the run's seed), and the record and the card say so
                fine = Path(tmp) / "stride2"
                lu.main(["train", "--pool", str(root), "--init", "onnx", "--map-stride", "2", "--max-steps", "1", "--lr", "0",
                         "--weight-decay", "0", "--batch-size", "2", "--workers", "0", "--threads", "1", "--out", str(fine)])
                torch.manual_seed(0)
                fresh = lu.LesionUNet(map_stride=2).state_dict()
                net = lu.load_lesion_model(str(fine / "best.pt"))
                self.assertEqual(net.map_stride, 2)
                got = net.state_dict()
                for name in ("down.0.0.weight", "down.4.3.weight", "up.0.0.weight", "up.2.3.weight"):
                    torch.testing.assert_close(got[name], shipped[name])
                for name in ("up.3.0.weight", "up.3.3.weight", "head.weight", "head.bias"):
                    torch.testing.assert_close(got[name], fresh[name])
                record = lu.training_record(str(fine / "best.pt"))
                run = record["runs"][-1]
                self.assertEqual((run["init"], run["map_stride"]), ("onnx", 2))
                self.assertIn("stride-4 weights into a stride-2 network", run["init_note"])
                self.assertIn("fresh: head, up.3", run["init_note"])
                self.assertNotIn("init_note", record["runs"][-2])  # the shipped weights' own runs
                entry = {"id": lu.MODEL_ID, "version": "test", "clinicalUse": "test", "architecture": "test", "parameters": 1,
                         "preprocessing": "test", "outputs": {"lesion_map": lu.lesion_map_output(2)}, "mapThresholdRule": "test",
                         "training": record, "metrics": None}
                lu.write_lesion_card(Path(tmp) / "CARD.md", entry)
                card = (Path(tmp) / "CARD.md").read_text()
                self.assertIn("`lesion_map` [N, 5, 256, 256]", card)
                self.assertIn(run["init_note"], card)
                # its maps are 256 x 256, and the pointing game and the volume read them
                bleeding_rows = np.nonzero(idx.labels[:, 0])[0][:2]
                _, maps2 = lu.predict_maps(net, idx.hu_map(0)[bleeding_rows])
                self.assertEqual(maps2.shape, (2, 5, 256, 256))
                hits = lu._pointing(maps2, idx.masks(0)[bleeding_rows], idx.labels[bleeding_rows])
                self.assertEqual(hits["any"][0], 2)
                # every pixel at threshold 0: the whole 512 x 512 slice's area, each pixel 2 x 2 slice pixels
                self.assertAlmostEqual(lu.volume_ml(maps2, pixel_mm, 5.0, 0.0), 2 * 512 * 512 * pixel_mm ** 2 * 5.0 / 1000, places=6)
                # resuming it at another stride is refused
                with self.assertRaises(SystemExit):
                    lu.main(["train", "--pool", str(root), "--map-stride", "4", "--max-steps", "2", "--batch-size", "2",
                             "--workers", "0", "--threads", "1", "--out", str(fine)])


if __name__ == "__main__":
    unittest.main()
