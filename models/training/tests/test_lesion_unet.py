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


if __name__ == "__main__":
    unittest.main()
