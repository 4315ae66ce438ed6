"""The training recipe's parts: schedule, weight averaging, on-device augmentation, calibration."""
import math
import subprocess
import sys
import unittest
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.training.augment import PADDING_HU, AugmentConfig, augment_batch
from models.training.calibrate import fit_platt
from models.training.metrics import expected_calibration_error
from models.training.calibration import LabelCalibration
from models.training.engine import ModelEma, WeightedBCE, warmup_cosine
from models.training.registry import create_model, list_models
from models.training.tests import helpers  # noqa: F401 - sets torch threads


class LossTest(unittest.TestCase):
    def test_other_bleed_weight_scales_only_absent_subtypes_on_bleeding_slices(self) -> None:
        # slice 0 bleeds with subtype 1 only; slice 1 has no blood
        target = torch.tensor([[1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.float32)
        logits = torch.linspace(-2, 2, 12).reshape(2, 6)
        pw = torch.full((6,), 2.0)
        per = nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pw, reduction="none")
        self.assertAlmostEqual(float(WeightedBCE(pw)(logits, target)), float(per.mean()), places=6)
        self.assertAlmostEqual(float(WeightedBCE(pw, 1.0)(logits, target)), float(per.mean()), places=6)
        w = torch.ones(2, 6)
        w[0, 2:] = 3.0  # subtypes 2-5 absent from the bleeding slice; "any" and subtype 1 are positives
        self.assertAlmostEqual(float(WeightedBCE(pw, 3.0)(logits, target)), float((per * w).mean()), places=6)


class ScheduleTest(unittest.TestCase):
    def test_warmup_then_cosine_to_the_floor(self) -> None:
        self.assertAlmostEqual(warmup_cosine(0.0, 0, 10), 0.1)
        self.assertAlmostEqual(warmup_cosine(0.0, 9, 10), 1.0)
        self.assertAlmostEqual(warmup_cosine(0.0, 10, 10), 1.0)
        self.assertAlmostEqual(warmup_cosine(0.5, 100, 10, min_ratio=0.0), 0.5)
        self.assertAlmostEqual(warmup_cosine(1.0, 100, 10, min_ratio=0.02), 0.02)
        values = [warmup_cosine(p / 10, 100, 10) for p in range(11)]
        self.assertTrue(all(a >= b for a, b in zip(values, values[1:])))


class EmaTest(unittest.TestCase):
    def test_average_follows_the_weights_and_copies_counters(self) -> None:
        net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        ema = ModelEma(net, decay=0.5)
        with torch.no_grad():
            net[0].weight.fill_(1.0)
        net[1].num_batches_tracked.fill_(7)
        for _ in range(50):
            ema.update(net)
        torch.testing.assert_close(ema.module[0].weight, torch.ones(2, 2))
        self.assertEqual(int(ema.module[1].num_batches_tracked), 7)
        self.assertFalse(any(p.requires_grad for p in ema.module.parameters()))
        restored = ModelEma(net)
        restored.load_state_dict(ema.state_dict())
        self.assertEqual(restored.updates, 50)


class AugmentTest(unittest.TestCase):
    def test_deterministic_shape_preserving_and_close_to_the_input(self) -> None:
        hu = torch.full((3, 1, 64, 64), -1000.0)
        hu[:, :, 16:48, 16:48] = 40.0
        a = augment_batch(hu, torch.Generator().manual_seed(1))
        b = augment_batch(hu, torch.Generator().manual_seed(1))
        torch.testing.assert_close(a, b)
        self.assertEqual(a.shape, hu.shape)
        self.assertFalse(torch.equal(a, hu))
        # brain-like centre stays brain-like: small HU changes only
        self.assertLess(float((a[:, :, 28:36, 28:36] - 40).abs().mean()), 12.0)

    def test_identity_when_everything_is_off(self) -> None:
        off = AugmentConfig(flip=0, rotate_deg=0, scale=(1, 1), shift=0, hu_scale=0, hu_offset=0, noise_p=0,
                            blur_p=0, truncate_p=0, motion_p=0)
        hu = torch.randn(2, 1, 32, 32) * 50
        torch.testing.assert_close(augment_batch(hu, torch.Generator().manual_seed(0), off), hu, atol=1e-3, rtol=0)

    def test_flip_only_mirrors(self) -> None:
        flip = AugmentConfig(flip=1.0, rotate_deg=0, scale=(1, 1), shift=0, hu_scale=0, hu_offset=0, noise_p=0,
                            blur_p=0, truncate_p=0, motion_p=0)
        hu = torch.arange(16.0).view(1, 1, 4, 4)
        torch.testing.assert_close(augment_batch(hu, torch.Generator().manual_seed(0), flip), hu.flip(-1).flip(-2),
                                   atol=1e-4, rtol=0)


    @staticmethod
    def _only(**on) -> AugmentConfig:
        off = dict(flip=0, rotate_deg=0, scale=(1, 1), shift=0, hu_scale=0, hu_offset=0, noise_p=0, blur_p=0,
                   truncate_p=0, motion_p=0)
        return AugmentConfig(**{**off, **on})

    def test_truncation_pads_outside_a_circle_and_keeps_the_centre(self) -> None:
        hu = torch.full((4, 1, 64, 64), 30.0)
        a = augment_batch(hu, torch.Generator().manual_seed(0), self._only(truncate_p=1.0))
        self.assertTrue(bool((a[:, :, 0, 0] == PADDING_HU).all()))  # corners lie outside every circle
        torch.testing.assert_close(a[:, :, 28:36, 28:36], hu[:, :, 28:36, 28:36])

    def test_motion_draws_thin_bands_not_a_shift_of_the_whole_slice(self) -> None:
        hu = torch.full((4, 1, 128, 128), 30.0)
        a = augment_batch(hu, torch.Generator().manual_seed(0), self._only(motion_p=1.0))
        dev = (a - hu).abs()
        for i in range(4):
            self.assertGreater(float(dev[i].max()), 10.0)
            self.assertLess(float((dev[i] > 5).float().mean()), 0.35)  # most of the slice untouched

    def test_noise_grain_follows_the_kernel(self) -> None:
        hu = torch.zeros(8, 1, 96, 96)

        def lag1(grain: float) -> float:
            cfg = self._only(noise_p=1.0, noise_sd=6.0, noise_grain=(grain, grain))
            a = augment_batch(hu, torch.Generator().manual_seed(3), cfg)
            x = a - a.mean(dim=(2, 3), keepdim=True)
            return float((x[..., 1:] * x[..., :-1]).mean() / (x * x).mean())

        self.assertLess(abs(lag1(0.0)), 0.1)   # sharp kernel: white grain
        self.assertGreater(lag1(1.2), 0.6)     # soft kernel: neighbouring pixels move together

class CalibrationTest(unittest.TestCase):
    def test_platt_recovers_a_known_scale_and_bias(self) -> None:
        rng = np.random.default_rng(0)
        z = rng.normal(0, 3, 20000)
        y = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))).astype(np.float64)
        fit = fit_platt(z, y)
        self.assertAlmostEqual(fit["scale"], 0.5, delta=0.05)
        self.assertAlmostEqual(fit["bias"], -1.0, delta=0.1)
        before = expected_calibration_error(y, 1 / (1 + np.exp(-z)))
        after = expected_calibration_error(y, 1 / (1 + np.exp(-(fit["scale"] * z + fit["bias"]))))
        self.assertLess(after, 0.02)
        self.assertGreater(before, 0.1)

    def test_single_class_keeps_identity_and_ece_of_perfect_bins_is_zero(self) -> None:
        self.assertEqual(fit_platt(np.array([1.0, 2.0]), np.array([0.0, 0.0])), {"scale": 1.0, "bias": 0.0, "fitted": False})
        self.assertEqual(expected_calibration_error(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5])), 0.0)

    def test_every_model_applies_its_calibration_in_forward_not_in_logits(self) -> None:
        hu, window, _ = helpers.tiny_batch(1)
        for mid in list_models():
            torch.manual_seed(0)
            m = create_model(mid).eval()
            self.assertIsInstance(m.calibration, LabelCalibration)
            with torch.no_grad():
                z = m.logits(hu, window)
                m.calibration.scale.fill_(2.0)
                m.calibration.bias.fill_(-1.0)
                torch.testing.assert_close(m(hu, window), torch.sigmoid(2 * z - 1), msg=mid)
                torch.testing.assert_close(m.logits(hu, window), z, msg=mid)
            self.assertIn("calibration.scale", m.state_dict())
            self.assertTrue(math.isfinite(float(m.calibration.bias[0])))


if __name__ == "__main__":
    unittest.main()


_RSS_AFTER_FREE = """
import sys
import numpy as np
from models.memory import reuse_freed_memory
took = reuse_freed_memory() if sys.argv[1] == "keep" else None
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) * 1024
base = rss()
a = np.ones(256 * 2**20 // 8)  # 256 MB, over glibc's largest mmap threshold
del a
print(took, (rss() - base) / 2**20)
"""


@unittest.skipUnless(sys.platform.startswith("linux"), "glibc's allocator")
class FreedMemoryTest(unittest.TestCase):
    def _after_free(self, mode: str) -> "tuple[str, float]":
        out = subprocess.run([sys.executable, "-c", _RSS_AFTER_FREE, mode], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parents[3]).stdout.split()
        return out[0], float(out[1])

    def test_a_freed_block_stays_for_the_next_tensor_only_when_asked(self) -> None:
        took, kept_mb = self._after_free("keep")
        self.assertEqual(took, "True")
        self.assertGreater(kept_mb, 200)  # kept in the heap: the next tensor reuses its pages
        _, default_mb = self._after_free("default")
        self.assertLess(default_mb, 50)  # glibc's default: unmapped, faulted in again next time
