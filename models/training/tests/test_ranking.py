"""The ranking family is chosen on the threshold set by mean slice ROC-AUC; each family gets its own
thresholds there; networks evaluated on different sets are refused."""
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

from models.training.contract import LABELS
from models.training.ranking import ranking_record


def _write(root: Path, model: str, labels: np.ndarray, prob: np.ndarray) -> None:
    d = root / model
    d.mkdir(parents=True)
    np.savez(d / "predictions.npz", val_prob=prob, test_prob=prob, val_labels=labels, test_labels=labels,
             val_study=np.zeros(len(labels)), test_study=np.zeros(len(labels)))
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
