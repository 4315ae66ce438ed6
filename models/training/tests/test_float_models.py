"""The bench's float run: a models folder where every network's CPU file is float (bench/float_models.py)."""
import importlib.util
import json
import tempfile
import unittest
from pathlib import Path

import onnx

from models.training.contract import REPO_ROOT
from models.training.onnx_utils import sha256
from models.training.tests.helpers import qdq_conv

_spec = importlib.util.spec_from_file_location("float_models", REPO_ROOT / "bench" / "float_models.py")
float_models = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(float_models)  # type: ignore[union-attr]


def _file(root: Path, rel: str, data: bytes, **rec) -> dict:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(data)
    return {"path": rel, "bytes": len(data), "sha256": sha256(root / rel), "role": "model", **rec}


class FloatModelsTest(unittest.TestCase):
    def test_each_network_gets_a_float_cpu_file_and_the_rest_is_linked(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            src, out = Path(tmp) / "models", Path(tmp) / "float"
            qdq = qdq_conv().SerializeToString()
            manifest = {"models": [
                {"id": "plain", "file": "plain/plain.onnx",
                 "files": [_file(src, "plain/plain.onnx", b"float", precision="float16", providers=["cuda", "cpu"])]},
                {"id": "both", "file": "both/both.onnx",
                 "files": [_file(src, "both/both.onnx", b"float", precision="float16", providers=["cuda"]),
                           _file(src, "both/both.int8.onnx", b"int8", precision="int8", providers=["cpu"])]},
                {"id": "only", "file": "only/only.int8.onnx",
                 "files": [_file(src, "only/only.int8.onnx", qdq, precision="int8", providers=["cpu", "cuda"])]},
            ]}
            (src / "manifest.json").write_text(json.dumps(manifest))
            (src / "only" / "CARD.md").write_text("card")
            report = float_models.float_models(src, out)
            got = {m["id"]: m for m in json.loads((out / "manifest.json").read_text())["models"]}
            self.assertEqual([f["path"] for f in got["plain"]["files"]], ["plain/plain.onnx"])
            self.assertEqual([(f["path"], f["providers"]) for f in got["both"]["files"]], [("both/both.onnx", ["cpu", "cuda"])])
            only = got["only"]["files"]
            self.assertEqual([(f["path"], f["precision"], f["providers"]) for f in only],
                             [("only/only.float.onnx", "float32", ["cpu"])])
            self.assertEqual(only[0]["sha256"], sha256(out / "only" / "only.float.onnx"))  # the app checks it
            proto = onnx.load(str(out / "only" / "only.float.onnx"))
            self.assertFalse([n for n in proto.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")])
            self.assertEqual(report["only"]["source"], "the int8 file dequantised (no float file shipped)")
            self.assertTrue((out / "only" / "CARD.md").is_symlink() and (out / "plain" / "plain.onnx").is_symlink())
            self.assertEqual((src / "manifest.json").read_text(), json.dumps(manifest))  # the source is untouched


if __name__ == "__main__":
    unittest.main()
