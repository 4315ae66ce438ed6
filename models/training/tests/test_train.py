"""The training script end to end on a tiny pool: logs, checkpoints, runs that add up, an interrupted
run that resumes where it stopped, calibration, evaluation from pools, and the export's record."""
import json
import tempfile
import unittest
from pathlib import Path

import torch

from models.training import calibrate, evaluate, pool, train
from models.training.contract import LABELS
from models.training.engine import load_checkpoint, load_trained, save_checkpoint
from models.training.onnx_export import training_record
from models.training.tests.helpers import phantom_available, phantom_or_standin

COMMON = ["--val-studies", "1", "--val-slices-per-study", "3", "--eval-every", "1", "--batch-size", "2",
          "--workers", "0", "--threads", "1", "--warmup-steps", "1"]


@unittest.skipUnless(phantom_available(), "models.phantom is needed to build a pool")
class TrainScriptTest(unittest.TestCase):
    def test_runs_add_up_resume_calibrate_evaluate(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            pool.build(t / "train", seed=5, studies=1, workers=1, progress=False)
            pool.build(t / "val", seed=6, studies=1, workers=1, progress=False)
            out = t / "run"
            args = ["--model", "efficientnet_b3", "--pool", str(t / "train"), "--val-pool", str(t / "val"), "--out", str(out),
                    "--train-size", "96", "--native-from", "0.5", *COMMON]
            r1 = train.main([*args, "--max-steps", "2"])
            self.assertEqual(r1["state"]["step"], 2)
            self.assertTrue((out / "last.pt").exists() and (out / "best.pt").exists())
            self.assertEqual([r["steps"] for r in r1["state"]["runs"]], [2])
            # a second run continues from the first one's weights: the totals add up
            r2 = train.main([*args, "--max-steps", "3"])
            self.assertEqual(r2["state"]["step"], 5)
            self.assertEqual([r["steps"] for r in r2["state"]["runs"]], [2, 3])
            # a run killed half-way resumes with its own schedule, not a new run
            ck = load_checkpoint(out / "last.pt")
            ck["state"]["runs"].pop()
            ck["state"]["run"]["finished"] = False
            ck["state"]["run"]["steps"], ck["state"]["run"]["slices"] = 1, 2
            ck["state"]["step"] = 3
            save_checkpoint(out / "last.pt", **ck)
            r3 = train.main([*args, "--max-steps", "3"])
            self.assertEqual((r3["state"]["step"], [r["steps"] for r in r3["state"]["runs"]]), (5, [2, 3]))
            log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
            for key in ("train_loss", "val_loss", "val_auc", "slices_seen", "wall_seconds", "lr", "val_prob_std"):
                self.assertIn(key, log[-1])
            rec = training_record("efficientnet_b3", load_checkpoint(out / "best.pt"), load_checkpoint(out / "last.pt"))
            self.assertEqual((rec["total"]["runs"], rec["total"]["steps"], rec["total"]["slices"]), (2, 5, 10))
            self.assertEqual(rec["optimizer"], "AdamW")

            cal = calibrate.main(["--model", "efficientnet_b3", "--pool", str(t / "val"), "--studies", "1", "--out", str(out),
                                  "--threads", "1", "--batch-size", "4"])
            self.assertEqual(len(cal["scale"]), len(LABELS))
            self.assertTrue(all(s > 0 for s in cal["scale"]))
            model, ck = load_trained("efficientnet_b3", None, str(out))
            self.assertIsNotNone(ck["calibration"])  # fitted on these very weights: applied
            torch.testing.assert_close(model.calibration.scale, torch.tensor(cal["scale"], dtype=torch.float32))
            ev = evaluate.main(["--model", "efficientnet_b3", "--out", str(out), "--pool", str(t / "val"), "--studies", "1",
                                "--val-pool", str(t / "train"), "--val-studies", "1", "--slices-per-study", "0",
                                "--threads", "1"])
            self.assertEqual(set(ev["thresholds"]), set(LABELS))
            self.assertEqual(ev["test_set"]["seed"], 6)
            self.assertEqual(ev["test_set"]["slices"], json.loads((t / "val" / "pool.json").read_text())["slices"])
            self.assertIn("ece", ev["per_label"]["any"])


class OnTheFlyTrainTest(unittest.TestCase):
    def test_phantoms_made_on_the_fly_still_train(self) -> None:
        with tempfile.TemporaryDirectory() as tmp, phantom_or_standin():
            r = train.main(["--model", "efficientnet_b3", "--out", str(Path(tmp) / "run"), "--studies", "1",
                            "--slices-per-study", "2", "--max-steps", "1", "--no-augment", *COMMON])
            self.assertEqual(r["state"]["step"], 1)

    def test_bf16_trains_on_a_cpu_too(self) -> None:
        with tempfile.TemporaryDirectory() as tmp, phantom_or_standin():
            out = Path(tmp) / "run"
            r = train.main(["--model", "efficientnet_b3", "--out", str(out), "--studies", "1", "--slices-per-study", "2",
                            "--max-steps", "2", "--no-augment", "--device", "cpu", "--bf16", *COMMON])
            self.assertEqual(r["state"]["step"], 2)
            self.assertTrue(r["state"]["run"]["bf16"])
            weights = load_checkpoint(out / "last.pt")["model"]
            self.assertTrue(all(bool(torch.isfinite(v).all()) for v in weights.values() if v.is_floating_point()))
            # trained in the layout bf16 convolutions want, as on CUDA
            convs = [v for v in weights.values() if v.ndim == 4 and v.shape[2] > 1]
            self.assertTrue(convs and all(v.is_contiguous(memory_format=torch.channels_last) for v in convs))


if __name__ == "__main__":
    unittest.main()
