"""DICOM slices -> raw float32 files, with the same reader training uses (data.read_dicom).

    /usr/bin/python3 -m models.training.dicom_to_raw --out /tmp/x a.dcm b.dcm

Writes ``hu.f32`` (little-endian float32 [N,512,512]), ``window.f32`` ([N,2] centre, width) and
``meta.json`` (with each slice's HU correction, null for a slice read as its header says). The
ONNX parity test feeds these same bytes to onnxruntime-node and to PyTorch.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List, Optional

import numpy as np

from .data import read_dicom


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    slices = [read_dicom(f) for f in args.files]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.stack([s.hu for s in slices]).astype("<f4").tofile(out / "hu.f32")
    np.stack([s.window for s in slices]).astype("<f4").tofile(out / "window.f32")
    (out / "meta.json").write_text(json.dumps({
        "n": len(slices), "shape": [len(slices), 1, 512, 512], "files": args.files,
        "windows": [s.window.tolist() for s in slices], "huCorrections": [s.hu_correction for s in slices]}, indent=2))


if __name__ == "__main__":
    main()
