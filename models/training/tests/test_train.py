"""The training script end to end on a tiny phantom set: logs, checkpoints, resume, evaluation."""
import json
import tempfile
import unittest
from pathlib import Path

from models.training import evaluate, train
from models.training.contract import LABELS
from models.training.tests.helpers import phantom_or_standin

TINY = ["--studies", "2", "--slices-per-study", "2", "--val-studies", "1", "--val-slices-per-study", "2",
        "--steps-per-epoch", "1", "--batch-size", "2", "--workers", "0", "--threads", "1"]


class TrainScriptTest(unittest.TestCase):
    def test_train_resume_evaluate(self) -> None:
        with tempfile.TemporaryDirectory() as tmp, phantom_or_standin():
            out = Path(tmp) / "run"
            r1 = train.main(["--model", "efficientnet_b3", "--out", str(out), "--max-steps", "2", *TINY])
            self.assertEqual(r1["state"]["step"], 2)
            self.assertTrue((out / "last.pt").exists() and (out / "best.pt").exists())
            r2 = train.main(["--model", "efficientnet_b3", "--out", str(out), "--max-steps", "3", *TINY])
            self.assertEqual((r2["state"]["epoch"], r2["state"]["step"]), (3, 3))  # resumed, not restarted
            log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
            self.assertEqual([e["epoch"] for e in log], [1, 2, 3])
            for key in ("train_loss", "val_loss", "val_auc", "slices_seen", "wall_seconds"):
                self.assertIn(key, log[-1])
            ev = evaluate.main(["--model", "efficientnet_b3", "--checkpoint", str(out / "best.pt"), "--out", str(out),
                                "--studies", "1", "--val-studies", "1", "--slices-per-study", "2", "--threads", "1"])
            self.assertEqual(set(ev["thresholds"]), set(LABELS))
            self.assertEqual(ev["test_set"]["slices"], 2)
            self.assertTrue((out / "evaluation.json").exists() and (out / "predictions.npz").exists())


if __name__ == "__main__":
    unittest.main()
