"""The ranking family is chosen on the threshold set by the slice ROC-AUC of "any", cheapest family
first, a costlier one only when it wins beyond the studies' noise; each family gets its own
flag thresholds there, chosen on study scores (the highest slice) as the app flags studies; networks
evaluated on different sets are refused."""
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

from models.training.contract import LABELS
from models.training.ranking import above_normal_studies, ranking_record, study_flag_threshold


ANY = LABELS.index("any")


def _write(root: Path, model: str, labels: np.ndarray, prob: np.ndarray) -> None:
    d = root / model
    d.mkdir(parents=True)
    studies = np.arange(len(labels)) * 10 // len(labels)  # ten studies, as on the threshold set
    np.savez(d / "predictions.npz", val_prob=prob, test_prob=prob, val_labels=labels, test_labels=labels,
             val_study=studies, test_study=studies)
    (d / "evaluation.json").write_text(json.dumps({"validation_set": {"seed": 8001, "studies": 10,
                                                                         "slices": int(len(labels))}}))


def _separating_and_noisy(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """400 slices of labels, probabilities that separate them well, and ones that barely do."""
    rng = np.random.default_rng(seed)
    y = (rng.random((400, len(LABELS))) < 0.3).astype(np.uint8)
    return (y, np.clip(0.7 * y + 0.3 * rng.random(y.shape), 0, 1), np.clip(0.2 * y + 0.8 * rng.random(y.shape), 0, 1))


def _rank(y: np.ndarray, convlstm: np.ndarray, members: np.ndarray) -> dict:
    """The ranking record of run folders where the Conv-LSTM said ``convlstm`` and both ensemble
    members said ``members``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root, "convlstm", y, convlstm)
        _write(root, "efficientnet_b3", y, members)
        _write(root, "inception_resnet_v2", y, members)
        return ranking_record(root)


class RankingTest(unittest.TestCase):
    def test_the_family_that_ranks_best_on_the_threshold_set_is_chosen(self) -> None:
        y, good, noisy = _separating_and_noisy(0)
        r = _rank(y, convlstm=noisy, members=good)
        self.assertEqual(r["family"], "ensemble")
        self.assertEqual(set(r["thresholds"]), {"convlstm", "ensemble", "mean"})
        self.assertGreater(r["measured"]["ensemble"]["mean_auc"], r["measured"]["mean"]["mean_auc"])
        self.assertGreater(r["measured"]["mean"]["mean_auc"], r["measured"]["convlstm"]["mean_auc"])
        self.assertIn("seed 8001", r["reason"])
        self.assertIn("not clinically validated", r["reason"])
        self.assertEqual([st["challenger"] for st in r["bootstrap"]], ["convlstm", "mean"])

    def test_a_costlier_family_that_ranks_clearly_better_is_chosen(self) -> None:
        y, good, noisy = _separating_and_noisy(1)
        r = _rank(y, convlstm=good, members=noisy)
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
        r = _rank(y, convlstm=clstm, members=base)
        self.assertGreater(r["measured"]["convlstm"]["mean_auc"], r["measured"]["ensemble"]["mean_auc"] + 0.1)
        self.assertEqual(r["family"], "ensemble")
        self.assertLess(r["bootstrap"][0]["win_share"], 0.95)

    def test_flag_thresholds_are_chosen_on_study_scores_so_normal_studies_go_unflagged(self) -> None:
        # Ten studies of 40 slices; five bleed on six slices each. Most slices score below 0.2, but
        # each normal study has one slice that looks a little like blood (0.40-0.50), as real studies
        # do (a streak, a calcification); bleeding slices score 0.35-0.90, overlapping it.
        rng = np.random.default_rng(3)
        studies = np.arange(400) // 40
        y = np.zeros((400, len(LABELS)), np.uint8)
        for s in range(5):
            y[s * 40 + 10: s * 40 + 16, [ANY, LABELS.index("subdural")]] = 1
        p = 0.2 * rng.random(y.shape)
        for s in range(5, 10):
            p[s * 40 + 20] = 0.4 + 0.1 * rng.random(len(LABELS))
        p[y.astype(bool)] = 0.35 + 0.55 * rng.random(int(y.sum()))
        r = _rank(y, convlstm=p, members=p)
        t = r["thresholds"]["ensemble"]["any"]
        lowest_bleeding_study = min(p[studies == s, ANY].max() for s in range(5))
        self.assertAlmostEqual(t, lowest_bleeding_study)
        highest_normal_study = max(p[studies == s, ANY].max() for s in range(5, 10))
        self.assertGreater(t, highest_normal_study)
        op = r["study_operating_points"]["ensemble"]["any"]
        self.assertEqual((op["sensitivity"], op["specificity"], op["positives"], op["negatives"]), (1.0, 1.0, 5, 5))
        self.assertEqual(op["set_by"], "sensitivity")
        self.assertEqual(r["study_sensitivity"], 0.95)
        # The slice-level choice, kept for reference, sits lower: it would flag the normal studies too.
        self.assertLess(r["slice_thresholds"]["ensemble"]["any"], highest_normal_study)
        # A label with no positive study on the set starts from its slice-level threshold, and says
        # so unless the normal studies then raise it.
        self.assertIn(r["study_operating_points"]["ensemble"]["epidural"]["set_by"], ("slices", "studies without blood"))
        self.assertGreater(r["thresholds"]["ensemble"]["epidural"], max(p[studies == s, 1].max() for s in range(5, 10)))

    def test_the_study_threshold_keeps_95_percent_of_the_bleeding_studies_flagged(self) -> None:
        pos = np.linspace(0.05, 1.0, 20)  # 20 bleeding studies: one may fall below the threshold
        y = np.r_[np.ones(20), np.zeros(3)]
        score = np.r_[pos[::-1], [0.2, 0.5, 0.9]]
        t = study_flag_threshold(y, score)
        self.assertAlmostEqual(t, pos[1])
        self.assertEqual(int((pos >= t).sum()), 19)
        self.assertAlmostEqual(study_flag_threshold(np.r_[np.ones(10), 0], np.r_[np.linspace(0.1, 1, 10), 0.5]), 0.1)
        self.assertIsNone(study_flag_threshold(np.array([0, 0]), np.array([0.1, 0.2])))

    def test_a_subtype_threshold_is_raised_above_every_study_without_blood(self) -> None:
        y = np.array([1, 1, 0, 0, 0])            # the subtype: two studies have it
        score = np.array([0.8, 0.3, 0.6, 0.4, 0.1])
        normal = np.array([False, False, False, True, False])  # one study without blood, at 0.4
        self.assertAlmostEqual(above_normal_studies(y, score, normal, 0.3), 0.8)  # the next bleeding study's score
        self.assertAlmostEqual(above_normal_studies(y, score, normal, 0.5), 0.5)  # already above: unchanged
        self.assertGreater(above_normal_studies(y, np.array([0.3, 0.3, 0.6, 0.9, 0.1]), normal, 0.3), 0.9)

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
