"""Class-activation maps are exact for B3 (their mean is the logit), and the pointing game counts a
peak inside the drawn lesion (with its tolerance) as a hit and one elsewhere as a miss."""
import unittest

import numpy as np
import torch

from models.training.contract import LABELS
from models.training.localise import class_activation_maps, pointing_game
from models.training.registry import create_model


class LocaliseTest(unittest.TestCase):
    def test_the_maps_mean_is_the_networks_logit(self) -> None:
        torch.manual_seed(0)
        model = create_model("efficientnet_b3").eval()
        hu = torch.randn(1, 1, 512, 512) * 40 + 30
        cam = class_activation_maps(model, hu, size=None)
        self.assertEqual(tuple(cam.shape[:2]), (1, len(LABELS)))
        torch.testing.assert_close(cam.mean(dim=(2, 3)), model.logits(hu, torch.zeros(1, 2)), atol=1e-4, rtol=1e-4)
        self.assertEqual(tuple(class_activation_maps(model, hu).shape), (1, len(LABELS), 512, 512))

    def test_pointing_game_hits_inside_the_lesion_and_misses_outside(self) -> None:
        bits = np.zeros((2, 512, 512), np.uint8)
        bits[:, 100:120, 200:230] = 1 << (LABELS.index("subdural") - 1)
        labels = np.zeros((2, len(LABELS)), np.uint8)
        labels[:, [0, LABELS.index("subdural")]] = 1
        cams = np.zeros((2, len(LABELS), 512, 512), np.float32)
        cams[0, :, 110, 210] = 5.0     # inside
        cams[1, :, 110 + 40, 210] = 5.0  # 30 px below the lesion: beyond the 15 px tolerance
        out = pointing_game(cams, bits, labels)
        self.assertEqual(out["any"], [2, 1])
        self.assertEqual(out["subdural"], [2, 1])
        self.assertEqual(out["epidural"], [0, 0])
        cams[1, :, 110 + 40, 210] = 0.0
        cams[1, :, 120 + 10, 210] = 5.0  # 11 px below its edge: within the tolerance
        self.assertEqual(pointing_game(cams, bits, labels)["any"], [2, 2])

    def test_the_tolerance_is_the_lesion_grown_by_the_cross_fifteen_times(self) -> None:
        from scipy import ndimage

        rng = np.random.default_rng(0)
        labels = np.zeros((1, len(LABELS)), np.uint8)
        labels[0, 0] = 1
        for _ in range(40):
            bits = np.zeros((1, 512, 512), np.uint8)
            r0, c0 = rng.integers(50, 400, 2)
            bits[0, r0:r0 + rng.integers(1, 40), c0:c0 + rng.integers(1, 40)] = 1
            peak = (int(r0 + rng.integers(-25, 60)), int(c0 + rng.integers(-25, 60)))
            cams = np.zeros((1, len(LABELS), 512, 512), np.float32)
            cams[0, 0][peak] = 1.0
            grown = ndimage.binary_dilation(bits[0] != 0, iterations=15)
            self.assertEqual(pointing_game(cams, bits, labels)["any"], [1, int(grown[peak])], peak)


if __name__ == "__main__":
    unittest.main()
