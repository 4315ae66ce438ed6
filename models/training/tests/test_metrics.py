import unittest

import numpy as np

from models.training.metrics import roc_auc, subtype_separation, threshold_metrics, weighted_log_loss, youden_threshold


def brute_auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    return np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])


class MetricsTest(unittest.TestCase):
    def test_auc_with_ties_matches_pairwise_count(self) -> None:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 200)
        s = np.round(rng.random(200), 1)  # many ties
        self.assertAlmostEqual(roc_auc(y, s), brute_auc(y, s), places=12)

    def test_auc_edge_cases(self) -> None:
        self.assertEqual(roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1.0)
        self.assertEqual(roc_auc([0, 1], [0.5, 0.5]), 0.5)
        self.assertIsNone(roc_auc([1, 1], [0.1, 0.2]))

    def test_threshold_metrics(self) -> None:
        m = threshold_metrics([1, 1, 0, 0, 1], [0.9, 0.4, 0.6, 0.1, 0.5], 0.5)
        self.assertEqual((m["tp"], m["fn"], m["fp"], m["tn"]), (2, 1, 1, 1))
        self.assertAlmostEqual(m["sensitivity"], 2 / 3)
        self.assertAlmostEqual(m["specificity"], 1 / 2)
        self.assertAlmostEqual(m["precision"], 2 / 3)
        self.assertAlmostEqual(m["f1"], 4 / 6)
        self.assertAlmostEqual(m["accuracy"], 3 / 5)

    def test_youden_separates(self) -> None:
        t = youden_threshold([0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8])
        self.assertGreater(t, 0.3)
        self.assertLessEqual(t, 0.7)
        self.assertEqual(youden_threshold([0, 0], [0.1, 0.9]), 0.5)

    def test_weighted_log_loss(self) -> None:
        y = np.array([[1, 0, 0, 0, 0, 0]])
        self.assertAlmostEqual(weighted_log_loss(y, np.full((1, 6), 0.5)), np.log(2), places=9)

    def test_subtype_separation_tells_blood_from_subtype(self) -> None:
        # columns: any, A, B. A network whose A score is "blood here": perfect against slices
        # without blood, chance against slices with B only; a score that knows A is perfect on both.
        y = np.array([[0, 0, 0], [0, 0, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1]])
        blood = np.array([[.1, .1, .1], [.2, .2, .2], [.9, .9, .9], [.8, .8, .8], [.9, .9, .9], [.8, .8, .8]])
        split = subtype_separation(y, blood)
        self.assertEqual(split[1], {"auc_vs_no_bleed": 1.0, "auc_vs_other_bleed": 0.5})
        knows = blood.copy()
        knows[4:, 1] = 0.3
        self.assertEqual(subtype_separation(y, knows)[1], {"auc_vs_no_bleed": 1.0, "auc_vs_other_bleed": 1.0})
        # no slice with another subtype only: that AUC is undefined, not a number
        self.assertIsNone(subtype_separation(y[:4], blood[:4])[1]["auc_vs_other_bleed"])


if __name__ == "__main__":
    unittest.main()
