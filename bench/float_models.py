"""A models folder whose CPU files compute in float, for the bench's float run.

    /usr/bin/python3 bench/float_models.py --models-dir models --out DIR

The app runs int8 files on the CPU (models/manifest.json names each graph's providers). To say what
int8 gains, the bench runs the same study again with every network in float on the same machine.
DIR gets a manifest where each network's CPU graph is float:
- a network with a float file beside its int8 one (EfficientNet-B3): that float file;
- a network shipped in int8 only (Inception-ResNet-V2): its int8 graph rewritten as the float graph
  it approximates (``onnx_utils.float_graph_from_qdq``: the int8 weights dequantised once, the
  activations' quantise/dequantise pairs removed), so the float run computes on the same weights;
- a float network: unchanged.
Every other file is linked, not copied. Prints one JSON object: per network, the CPU file of the
float run and where it came from.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import onnx  # noqa: E402

from models.training.onnx_utils import cpu_graph, float_graph_from_qdq, graphs_of, sha256  # noqa: E402


def _link_tree(src: Path, dst: Path, model_dirs: List[str]) -> None:
    """dst mirrors src through links: each top-level entry, and file by file inside the networks'
    folders, where the float run's files are added (the manifest is written afresh)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name == "manifest.json":
            continue
        if entry.name in model_dirs and entry.is_dir():
            (dst / entry.name).mkdir()
            for f in entry.iterdir():
                (dst / entry.name / f.name).symlink_to(f.resolve())
        else:
            (dst / entry.name).symlink_to(entry.resolve())


def float_models(models_dir: Path, out: Path) -> Dict[str, Dict[str, object]]:
    manifest = json.loads((models_dir / "manifest.json").read_text())
    _link_tree(models_dir, out, [Path(f["path"]).parts[0] for m in manifest["models"] for f in m["files"]])
    report: Dict[str, Dict[str, object]] = {}
    for m in manifest["models"]:
        graphs, cpu = graphs_of(m), cpu_graph(m)
        if cpu.get("precision") != "int8":
            report[m["id"]] = {"path": cpu["path"], "source": "float file (the CPU file already)"}
            continue
        float_file = next((f for f in graphs if f.get("precision") != "int8"), None)
        if float_file is not None:
            # The float file takes the CPU; the int8 file and its external data leave the manifest.
            float_file["providers"] = sorted(set(float_file.get("providers") or []) | {"cpu"})
            m["files"] = [f for f in m["files"] if f.get("precision") != "int8" or f is float_file]
            report[m["id"]] = {"path": float_file["path"], "source": "the shipped float file"}
            continue
        proto = onnx.load(str(models_dir / cpu["path"]), load_external_data=True)
        counts = float_graph_from_qdq(proto)
        rel = str(Path(cpu["path"]).with_name(Path(cpu["path"]).name.replace(".int8.onnx", ".float.onnx")))
        path = out / rel
        path.unlink(missing_ok=True)
        onnx.save_model(proto, str(path))  # float32, inline: under protobuf's 2 GB for every network here
        m["files"] = [{"path": rel, "bytes": path.stat().st_size, "sha256": sha256(path), "role": "model",
                       "precision": "float32", "providers": ["cpu"]}]
        m["file"] = rel
        report[m["id"]] = {"path": rel, "source": "the int8 file dequantised (no float file shipped)", **counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return report


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default=str(REPO_ROOT / "models"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    out = Path(a.out)
    if out.exists() and any(out.iterdir()):
        ap.error(f"{out} is not empty")
    print(json.dumps(float_models(Path(a.models_dir), out)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
