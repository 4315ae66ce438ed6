"""Where the network looks: class-activation maps of EfficientNet-B3 and the pointing game on phantom masks.

A class-activation map (Zhou et al., "Learning Deep Features for Discriminative Localization", CVPR
2016) needs no gradient when a network ends in global average pooling and one linear layer, as B3
does: the map of label c is the linear layer's row c applied to the last feature map at every
position (10 x 10 for a 300 px input), upsampled to the 512 x 512 slice. Its peak is where the
network's evidence for c is strongest.

The pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016)
scores a map by one question per slice with a bleed: does its peak fall inside the drawn lesion
(within a tolerance of 15 px at 512, the usual allowance)? The phantoms know every lesion's mask
(the pool's mask-*.npz), so the question has an exact answer here, which no public product reports.

    /usr/bin/python3 -m models.training.localise --pool $P/test-s9001 --studies 16      # the shipped weights
    /usr/bin/python3 -m models.training.localise --pool $P/test-s9001 --studies 16 --onnx /tmp/before/models/efficientnet_b3/efficientnet_b3.onnx

Output: one JSON line — slices with a bleed, hits, hit rate per subtype and overall; ``--out``
writes it to a file as well.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .contract import LABELS, MODELS_DIR
from .engine import load_trained
from .pool import PoolIndex
from .registry import create_model

#: Pointing-game tolerance in pixels of the 512 x 512 slice.
TOLERANCE_PX = 15


@torch.no_grad()
def class_activation_maps(model: torch.nn.Module, hu: torch.Tensor, size: Optional[int] = 512) -> torch.Tensor:
    """[N, 6, size, size] maps (logit units) of an EfficientNet-B3 for HU slices [N, 1, 512, 512];
    ``size=None``: at the feature map's own resolution, where their mean over positions is the logit."""
    net = model.net  # type: ignore[attr-defined]
    feats = net.features(model.stack(hu))  # type: ignore[attr-defined]
    linear = net.classifier[-1]
    cam = torch.einsum("nkhw,ck->nchw", feats, linear.weight) + linear.bias.view(1, -1, 1, 1)
    return cam if size is None else F.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False)


def pointing_game(cams: np.ndarray, bits: np.ndarray, labels: np.ndarray, tolerance: int = TOLERANCE_PX) -> Dict[str, List[int]]:
    """Per label: [slices with that bleed, hits]. ``bits``: the pool's lesion bit masks (bit i = subtype i)."""
    out: Dict[str, List[int]] = {l: [0, 0] for l in LABELS}
    for n in range(len(cams)):
        for j, label in enumerate(LABELS):
            if not labels[n, j]:
                continue
            mask = bits[n] != 0 if label == "any" else (bits[n] & (1 << (j - 1))) != 0
            if not mask.any():
                continue
            r, c = np.unravel_index(int(np.argmax(cams[n, j])), cams[n, j].shape)
            # within `tolerance` steps of the lesion, a step to one of the 4 neighbours (the mask grown
            # `tolerance` times by the cross): the city-block distance to its nearest pixel
            rows, cols = np.nonzero(mask)
            out[label][0] += 1
            out[label][1] += int((np.abs(rows - r) + np.abs(cols - c)).min() <= tolerance)
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", required=True, help="a held-out phantom pool (with its lesion masks)")
    ap.add_argument("--studies", type=int, default=20)
    ap.add_argument("--onnx", default=str(MODELS_DIR / "efficientnet_b3" / "efficientnet_b3.onnx"),
                    help="the B3 file whose weights to use (default: the shipped one)")
    ap.add_argument("--checkpoint", default=None, help="a training checkpoint instead of an ONNX file")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.checkpoint:
        model, ck = load_trained("efficientnet_b3", args.checkpoint)
        weights = {"path": ck.get("path"), "step": ck.get("state", {}).get("step")}
    else:   # the shipped file: what the app runs (the maps use the weights before its calibration)
        from .onnx_utils import state_dict_from_onnx

        model = create_model("efficientnet_b3")
        model.load_state_dict(state_dict_from_onnx(Path(args.onnx), model))
        weights = {"path": str(args.onnx)}
    model.eval()
    idx = PoolIndex.open(args.pool)
    studies = range(min(args.studies, len(idx.studies)))
    t0 = time.time()
    totals: Dict[str, List[int]] = {l: [0, 0] for l in LABELS}
    for k in studies:
        hu_all, bits_all, labels_all = idx.hu_map(k), idx.masks(k), idx.labels[idx.study_of == k]
        rows = np.nonzero(labels_all[:, 0])[0]   # only slices with a bleed are asked anything
        for start in range(0, len(rows), args.batch_size):
            take = rows[start:start + args.batch_size]
            hu = torch.from_numpy(np.asarray(hu_all[take], np.float32))[:, None]
            cams = class_activation_maps(model, hu).numpy()
            for label, (n, hit) in pointing_game(cams, bits_all[take], labels_all[take]).items():
                totals[label][0] += n
                totals[label][1] += hit
    result = {
        "command": " ".join(["/usr/bin/python3 -m models.training.localise", *(argv if argv is not None else sys.argv[1:])]),
        "weights": weights,
        "pool": str(args.pool), "studies": len(studies), "tolerance_px": TOLERANCE_PX,
        "method": "class-activation map of the last feature map (Zhou et al. 2016), peak inside the drawn lesion (pointing game)",
        "per_label": {l: {"slices": n, "hits": h, "hit_rate": round(h / n, 4) if n else None} for l, (n, h) in totals.items()},
        "seconds": round(time.time() - t0, 1),
    }
    line = json.dumps(result)
    print(line, flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
