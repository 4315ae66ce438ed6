"""PyTorch's answer on raw inputs, computed with the weights read back out of the ONNX file.

    /usr/bin/python3 -m models.training.onnx_validate --model convlstm --hu hu.f32 --window window.f32 --out p.f32

Builds the registered architecture, loads the (fp16-stored) weights from ``models/<id>/<id>.onnx``
(``--onnx`` to choose another file), runs it in fp32 on the raw inputs (see dicom_to_raw.py) and
writes ``probabilities`` as little-endian float32 [N,6]. The lesion-map network (lesion_unet.py, not
a registered classifier) is built from its own module; its maps are the same graph's other output. test/models/onnx-parity.test.ts compares
this with onnxruntime-node on the same bytes (the app's runtime), so the exported graph and the
training code are held to the same numbers.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch

from .contract import INPUT_SIZE, MODELS_DIR
from .onnx_utils import state_dict_from_onnx
from .registry import create_network, list_networks


def main(argv: Optional[List[str]] = None) -> np.ndarray:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=list_networks())
    ap.add_argument("--onnx", default=None, help="default models/<model>/<model>.onnx")
    ap.add_argument("--hu", required=True, help="float32 [N,512,512] little-endian")
    ap.add_argument("--window", required=True, help="float32 [N,2] little-endian")
    ap.add_argument("--out", default=None, help="write probabilities float32 [N,6] here")
    ap.add_argument("--out-map", default=None, help="lesion-map networks: write the maps float32 [N,5,128,128] here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    hu = np.fromfile(args.hu, dtype="<f4").reshape(-1, 1, INPUT_SIZE, INPUT_SIZE)
    window = np.fromfile(args.window, dtype="<f4").reshape(-1, 2)
    if len(hu) != len(window):
        raise SystemExit(f"{len(hu)} slices but {len(window)} windows")
    model = create_network(args.model)
    path = Path(args.onnx) if args.onnx else MODELS_DIR / args.model / f"{args.model}.onnx"
    model.load_state_dict(state_dict_from_onnx(path, model))
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(hu.copy()), torch.from_numpy(window.copy()))
        prob = (out[0] if isinstance(out, tuple) else out).numpy().astype("<f4")
    if args.out_map and isinstance(out, tuple):
        out[1].numpy().astype("<f4").tofile(args.out_map)
    if args.out:
        prob.tofile(args.out)
    print(json.dumps({"model": args.model, "onnx": str(path), "probabilities": prob.tolist()}))
    return prob


if __name__ == "__main__":
    main()
