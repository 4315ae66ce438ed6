"""The ranking family is chosen on the threshold set by the slice ROC-AUC of "any", cheapest family
first, a costlier one only when it wins beyond the studies' noise; each family gets its own
thresholds there; networks evaluated on different sets are refused."""
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

from models.training.contract import LABELS
from models.training.ranking import ranking_record


ANY = LABELS.index("any")


def _write(root: Path, model: str, labels: np.ndarray, prob: np.ndarray) -> None:
    d = root / model
    d.mkdir(parents=True)
    studies = np.arange(len(labels)) * 10 // len(labels)  # ten studies, as on the threshold set
    np.savez(d / "predictions.npz", val_prob=prob, test_prob=prob, val_labels=labels, test_labels=labels,
             val_study=studies, test_study=studies)
    (d / "evaluation.json").write_text(json.dumps({"validation_set": {"seed": 8001, "slices": int(len(labels))}}))


class RankingTest(unittest.TestCase):
    def test_the_family_that_ranks_best_on_the_threshold_set_is_chosen(self) -> None:
        rng = np.random.default_rng(0)
        y = (rng.random((400, len(LABELS))) < 0.3).astype(np.uint8)
        good = np.clip(0.7 * y + 0.3 * rng.random(y.shape), 0, 1)      # separates well
        noisy = np.clip(0.2 * y + 0.8 * rng.random(y.shape), 0, 1)     # barely
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _write(root, "convlstm", y, noisy)
            _write(root, "efficientnet_b3", y, good)
            _write(root, "inception_resnet_v2", y, good)
            r = ranking_record(root)
            self.assertEqual(r["family"], "ensemble")
            self.assertEqual(set(r["thresholds"]), {"convlstm", "ensemble", "mean"})
            self.assertGreater(r["measured"]["ensemble"]["mean_auc"], r["measured"]["mean"]["mean_auc"])
            self.assertGreater(r["measured"]["mean"]["mean_auc"], r["measured"]["convlstm"]["mean_auc"])
            self.assertIn("seed 8001", r["reason"])
            self.assertIn("not clinically validated", r["reason"])
            self.assertEqual([st["challenger"] for st in r["bootstrap"]], ["convlstm", "mean"])

    def test_a_costlier_family_that_ranks_clearly_better_is_chosen(self) -> None:
        rng = np.random.default_rng(1)
        y = (rng.random((400, len(LABELS))) < 0.3).astype(np.uint8)
        good = np.clip(0.7 * y + 0.3 * rng.random(y.shape), 0, 1)
        noisy = np.clip(0.2 * y + 0.8 * rng.random(y.shape), 0, 1)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _write(root, "convlstm", y, good)
            _write(root, "efficientnet_b3", y, noisy)
            _write(root, "inception_resnet_v2", y, noisy)
            r = ranking_record(root)
            self.assertEqual(r["family"], "convlstm")
            self.assertTrue(r["bootstrap"][0]["replaces"])
            self.assertGreaterEqual(r["bootstrap"][0]["win_share"], 0.95)
            self.assertEqual(r["bootstrap"][1]["against"], "convlstm")  # 'mean' must then beat the Conv-LSTM

    def test_a_costlier_family_ahead_by_noise_or_on_other_labels_is_not_chosen(self) -> None:
        rng = np.random.default_rng(2)
        y = (rng.random((400, len(LABELS))) < 0.3).astype(np.uint8)
        base = np.clip(0.3 * y + 0.7 * rng.random(y.shape), 0, 1)
        # The Conv-LSTM: the ensemble's "any" plus a little noise, and far better on every subtype.
        clstm = np.clip(0.9 * y + 0.1 * rng.random(y.shape), 0, 1)
        clstm[:, ANY] = np.clip(base[:, ANY] + 0.01 * rng.standard_normal(len(y)), 0, 1)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _write(root, "convlstm", y, clstm)
            _write(root, "efficientnet_b3", y, base)
            _write(root, "inception_resnet_v2", y, base)
            r = ranking_record(root)
            self.assertGreater(r["measured"]["convlstm"]["mean_auc"], r["measured"]["ensemble"]["mean_auc"] + 0.1)
            self.assertEqual(r["family"], "ensemble")
            self.assertLess(r["bootstrap"][0]["win_share"], 0.95)

    def test_networks_evaluated_on_different_sets_are_refused(self) -> None:
        y = np.zeros((10, len(LABELS)), np.uint8)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _write(root, "efficientnet_b3", y, np.zeros(y.shape))
            _write(root, "inception_resnet_v2", np.ones_like(y), np.zeros(y.shape))
            with self.assertRaises(SystemExit):
                ranking_record(root)


if __name__ == "__main__":
    unittest.main()
