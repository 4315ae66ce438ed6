"""models/manifest.json covers every registered model, under the contract, with matching files."""
import json
import unittest

from models.training.contract import LABELS, MODELS_DIR
from models.training.evaluate import ENSEMBLE_ID, ENSEMBLE_MEMBERS
from models.training.onnx_utils import sha256
from models.training.registry import list_models

MAX_FILE_BYTES = 50 * 1024 * 1024


class ManifestTest(unittest.TestCase):
    def setUp(self) -> None:
        path = MODELS_DIR / "manifest.json"
        if not path.exists():
            self.skipTest("no manifest yet: run models.training.onnx_export")
        self.doc = json.loads(path.read_text())

    def test_every_registered_model_is_listed_under_the_contract(self) -> None:
        models = {m["id"]: m for m in self.doc["models"]}
        self.assertEqual(self.doc["labels"], list(LABELS))
        for model_id in list_models():
            with self.subTest(model=model_id):
                m = models[model_id]
                self.assertEqual(m["labels"], list(LABELS))
                self.assertEqual(set(m["inputs"]), {"hu", "window"})
                self.assertEqual(set(m["outputs"]), {"probabilities"})
                self.assertEqual(set(m["thresholds"]), set(LABELS))
                self.assertTrue((MODELS_DIR / m["card"]).exists())
                self.assertTrue(m["training"]["fromScratch"])

    def test_the_lesion_map_network_declares_its_map_as_the_app_reads_it(self) -> None:
        from models.training.lesion_unet import MODEL_ID, lesion_map_output

        rows = [m for m in self.doc["models"] if m["id"] == MODEL_ID]
        if not rows:
            self.skipTest("no lesion-map network shipped")
        m = rows[0]
        out = dict(m["outputs"]["lesion_map"])
        self.assertTrue(0.0 < out.pop("threshold") < 1.0)
        volume = out.pop("volume")
        self.assertIsInstance(volume["shown"], bool)
        self.assertTrue(volume["measured"])
        self.assertEqual(out, {k: v for k, v in lesion_map_output().items() if k != "threshold"})
        self.assertEqual(m["outputs"]["lesion_map"]["labels"], list(LABELS[1:]))
        self.assertEqual(m["labels"], list(LABELS))
        self.assertTrue((MODELS_DIR / m["card"]).exists())
        self.assertTrue(m["training"]["fromScratch"])
        self.assertIn("NOT clinically validated", m["clinicalUse"])

    def test_files_match_their_sha256_and_size_limit(self) -> None:
        for m in self.doc["models"]:
            for f in m["files"]:
                with self.subTest(file=f["path"]):
                    path = MODELS_DIR / f["path"]
                    self.assertLess(path.stat().st_size, MAX_FILE_BYTES)
                    self.assertEqual(path.stat().st_size, f["bytes"])
                    self.assertEqual(sha256(path), f["sha256"])

    def test_ensemble(self) -> None:
        (e,) = [e for e in self.doc["ensembles"] if e["id"] == ENSEMBLE_ID]
        self.assertEqual(e["members"], list(ENSEMBLE_MEMBERS))
        self.assertEqual(e["rule"], "mean")
        self.assertAlmostEqual(sum(e["weights"]), 1.0)


if __name__ == "__main__":
    unittest.main()
