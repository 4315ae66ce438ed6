"""The in-graph windows equal the contract (src/shared/model-contract.json) and its arithmetic."""
import json
import unittest

import torch

from models.training import contract
from models.training.tests import helpers  # noqa: F401 - sets torch threads
from models.training.windowing import StackWindows, SystematicWindows, apply_window


class WindowingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.json = json.loads(contract.CONTRACT_PATH.read_text())

    def test_systematic_windows_are_the_contracts(self) -> None:
        sw = SystematicWindows()
        fixed = [(w["center"], w["width"]) for w in self.json["systematicWindows"][1:]]
        self.assertEqual(self.json["systematicWindows"][0]["center"], None)
        self.assertEqual(sw.num_views, len(self.json["systematicWindows"]))
        self.assertEqual(sw.centers.flatten().tolist(), [float(c) for c, _ in fixed])
        self.assertEqual(sw.widths.flatten().tolist(), [float(w) for _, w in fixed])

    def test_stack_windows_are_the_contracts(self) -> None:
        st = StackWindows(300)
        fixed = [(w["center"], w["width"]) for w in self.json["ensembleStackWindows"]]
        self.assertEqual(st.centers.flatten().tolist(), [float(c) for c, _ in fixed])
        self.assertEqual(st.widths.flatten().tolist(), [float(w) for _, w in fixed])

    def test_window_clips_and_normalises(self) -> None:
        hu = torch.tensor([-1000.0, 0.0, 40.0, 60.0, 80.0, 1000.0])
        out = apply_window(hu, torch.tensor(40.0), torch.tensor(80.0))
        torch.testing.assert_close(out, torch.tensor([0.0, 0.0, 0.5, 0.75, 1.0, 1.0]))

    def test_each_view_is_its_window(self) -> None:
        hu = torch.linspace(-1200, 3000, 512 * 512).reshape(1, 1, 512, 512)
        window = torch.tensor([[35.0, 120.0]])
        views = SystematicWindows()(hu, window)
        self.assertEqual(tuple(views.shape), (1, 10, 512, 512))
        expected = [(35.0, 120.0)] + [(float(w["center"]), float(w["width"])) for w in self.json["systematicWindows"][1:]]
        for k, (c, w) in enumerate(expected):
            ref = torch.clamp((hu[0, 0] - (c - w / 2)) / w, 0, 1)
            torch.testing.assert_close(views[0, k], ref, msg=f"view {k}")

    def test_default_view_follows_each_slices_window(self) -> None:
        hu = torch.full((2, 1, 512, 512), 60.0)
        views = SystematicWindows()(hu, torch.tensor([[40.0, 80.0], [60.0, 400.0]]))
        self.assertAlmostEqual(float(views[0, 0, 0, 0]), 0.75, places=6)
        self.assertAlmostEqual(float(views[1, 0, 0, 0]), 0.5, places=6)

    def test_stack_resizes_bilinear(self) -> None:
        hu = torch.full((1, 1, 512, 512), 40.0)
        out = StackWindows(299)(hu)
        self.assertEqual(tuple(out.shape), (1, 3, 299, 299))
        torch.testing.assert_close(out[0, :, 10, 10], torch.tensor([0.5, 0.3, 0.5]))


if __name__ == "__main__":
    unittest.main()
