"""Where the bleed is and how much: a small U-Net that draws a lesion map per subtype.

The seed papers give slice labels only, and a class-activation map of EfficientNet-B3 (localise.py)
points inside the lesion on well under half of the bleeding slices: a classifier's evidence is
wherever it helps the label, not where the blood is. The phantoms know every lesion's mask (the
pool's mask-*.npz, bit i = subtype i), so a network can be taught the map itself and measured on it.

Architecture (ours, after Ronneberger et al., "U-Net", MICCAI 2015): the ensemble's three-window
stack (windowing.StackWindows, inside the graph) at 256 x 256; an encoder of five levels (two
3x3 convolution + BatchNorm + ReLU per level, max-pool between), a decoder with skip connections
back to 128 x 128, and a 1x1 convolution to five logits, one map per subtype, at a quarter of the
slice's resolution (stride 4: 4 px of the 512 x 512 slice per map pixel: finer than the thinnest
bleed the pointing game's 15 px tolerance allows for, and 320 KB a slice instead of 5 MB). As an
option (``train --map-stride 2``) the decoder goes one level further, to 256 x 256 (stride 2), for
thin bleeds whose volume a 4 px grid misses; the shipped network is stride 4.

It satisfies the model contract: ``forward(hu, window)`` returns the sigmoid ``probabilities``
[N, 6] (a subtype's = its map's highest logit; "any" = the highest over the subtypes) and, as the
contract's optional extra output, ``lesion_map`` [N, 5, 128, 128] (stride 4; [N, 5, 256, 256] at
stride 2), each pixel's probability of that subtype.

Training (``train``): pixel-wise binary cross-entropy against the share of each map pixel the lesion
covers (the 512 x 512 mask averaged over stride x stride blocks, so partial volume counts), a soft Dice term
per subtype (the lesions are small: without it the network learns that everything is background),
and a slice-label term on the maps' maxima; the augmentation of the classifiers (augment.py) with
the same geometry applied to the targets.

Measurement (``evaluate``), on held-out pools:
- the pointing game (localise.pointing_game): the map's peak inside the drawn lesion, per subtype;
- the bleed volume per study: map pixels at or above 0.5 times their area (pixel spacing x stride squared)
  times the slice spacing, against the drawn masks' volume (the same sum over the 512 x 512 masks);
  "within" = within 25 % or 2 mL.

    /usr/bin/python3 -m models.training.lesion_unet train --pool $P/train-v4mixed-s13:0.75 --pool $P/inserted-s1:0.25 \\
        --max-minutes 60 --threads 2 --out models/training/runs/lesion_unet
    /usr/bin/python3 -m models.training.lesion_unet evaluate --checkpoint models/training/runs/lesion_unet/best.pt \\
        --pool $P/test-v4-s9001 --studies 20
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .augment import PoolSlices, augment_with_targets, pool_loader
from .contract import LABELS
from .engine import (append_jsonl, command_line, hardware, load_checkpoint, now_iso, prepare_cpu, save_checkpoint,
                     select_device, warmup_cosine)
from .localise import TOLERANCE_PX, pointing_game
from .pool import PoolIndex, shard_path
from .windowing import StackWindows

SUBTYPES = LABELS[1:]
#: The network's input size after in-graph resizing (the slice is 512 x 512).
INPUT_SIZE = 256
SLICE_SIZE = 512
#: The map strides a network may have (slice pixels per map pixel, each way): 4 (the decoder stops
#: at the U-Net's 128 x 128 level; the shipped network) or 2 (one level further, 256 x 256: a thin
#: subdural crescent of 3-4 mm, two map pixels wide at most at stride 4, gets twice as many across).
MAP_STRIDES = (4, 2)
#: The default stride, and its map size: the shipped network's. Everything that handles a trained
#: network takes its stride from the network (``LesionUNet.map_stride``), its checkpoint or its ONNX file.
MAP_STRIDE = 4
MAP_SIZE = SLICE_SIZE // MAP_STRIDE
WIDTHS = (16, 32, 48, 96, 128)
#: A map pixel counts towards the volume at this probability.
VOLUME_THRESHOLD = 0.5
#: A volume estimate is "within" when off by at most this share or this many mL (small bleeds).
VOLUME_TOLERANCE = (0.25, 2.0)
#: The app shows a network's volume estimates only when at least this share of the held-out
#: bleeding studies came within the tolerance: a number known to miss would mislead a reader.
VOLUME_SHOWN_RATE = 0.8
#: Blood darker than this (HU, the map pixel's mean) is "faint": subacute, anaemic and chronic
#: collections (lesions.sample_blood: 10-52 HU) that sit at or below grey matter's 35-45 HU, where
#: acute blood is 55-85. The shipped maps count 0.01-0.35 of such subdurals' volume (evaluate's
#: per-subtype column), though diffuse subarachnoid blood is the larger share of the volume misses.
FAINT_BLOOD_HU = 50.0


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


def map_size(stride: int) -> int:
    """The side of a map at this stride (128 at 4, 256 at 2)."""
    return SLICE_SIZE // stride


def stride_of_maps(maps: np.ndarray) -> int:
    """The stride of maps [..., S, S]: their size tells it (as in the app, src/main/triage/volume.ts)."""
    h, w = maps.shape[-2:]
    if h != w or SLICE_SIZE % h:
        raise ValueError(f"maps of {h} x {w} do not divide the {SLICE_SIZE} x {SLICE_SIZE} slice evenly")
    return SLICE_SIZE // h


class LesionUNet(nn.Module):
    """``map_stride`` 4: the decoder ends at the 128 x 128 level (index 1) and the head reads its
    w[1] channels; 2: one more decoder block with the skip of level 0 (256 x 256, w[0] channels),
    and the head reads those. The levels up to 128 x 128 carry the same names and shapes either way,
    so stride-4 weights start a stride-2 network (``init_from``)."""

    def __init__(self, widths: Sequence[int] = WIDTHS, map_stride: int = MAP_STRIDE) -> None:
        super().__init__()
        if map_stride not in MAP_STRIDES:
            raise ValueError(f"map stride {map_stride}: one of {MAP_STRIDES}")
        self.map_stride = int(map_stride)
        self.map_size = map_size(self.map_stride)
        level = {2: 0, 4: 1}[self.map_stride]   # the U-Net level the map is drawn at (0: 256 x 256)
        self.stack = StackWindows(INPUT_SIZE)
        w = list(widths)
        self.down = nn.ModuleList([_block(3, w[0])] + [_block(w[i - 1], w[i]) for i in range(1, len(w))])
        # decoder: from the deepest level back to the map's level, skip connections on the way
        self.up = nn.ModuleList([_block(w[i + 1] + w[i], w[i]) for i in range(len(w) - 2, level - 1, -1)])
        self.head = nn.Conv2d(w[level], len(SUBTYPES), 1)

    def map_logits(self, hu: torch.Tensor) -> torch.Tensor:
        """[N, 5, S, S] logits for HU slices [N, 1, 512, 512] (S = 512 / map_stride: 128 or 256)."""
        x = self.stack(hu)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for j, block in enumerate(self.up):
            skip = skips[len(skips) - 2 - j]
            x = block(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip], 1))
        return self.head(x)

    @staticmethod
    def label_logits(maps: torch.Tensor) -> torch.Tensor:
        """[N, 6]: each subtype's highest map logit; "any" the highest of them."""
        sub = maps.flatten(2).amax(dim=2)
        return torch.cat([sub.amax(dim=1, keepdim=True), sub], 1)

    def logits(self, hu: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        del window  # part of the contract; the stack uses fixed windows
        return self.label_logits(self.map_logits(hu))

    def forward(self, hu: torch.Tensor, window: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        del window
        maps = self.map_logits(hu)
        return torch.sigmoid(self.label_logits(maps)), torch.sigmoid(maps)


def coverage_targets(bits: torch.Tensor, stride: int = MAP_STRIDE) -> torch.Tensor:
    """uint8 lesion bits [N, 512, 512] -> float [N, 5, 512 / stride, 512 / stride]: the share of each
    map pixel that each subtype's lesion covers (the network's stride: ``model.map_stride``)."""
    planes = torch.stack([((bits.long() >> i) & 1) for i in range(len(SUBTYPES))], 1).float()
    return F.avg_pool2d(planes, stride)


def faint_blood_weights(hu: torch.Tensor, target: torch.Tensor, weight: float) -> Optional[torch.Tensor]:
    """[N, 5, S, S] pixel weights for the loss: ``weight`` on lesion pixels whose mean HU (the slice
    [N, 1, 512, 512] averaged over each map pixel's block) is below FAINT_BLOOD_HU, 1 elsewhere;
    None at weight 1 (the plain loss)."""
    if weight == 1.0:
        return None
    stride = hu.shape[-1] // target.shape[-1]
    faint = (F.avg_pool2d(hu.float(), stride) < FAINT_BLOOD_HU) & (target > 0)   # [N,1,S,S] & [N,5,S,S]
    return 1.0 + (weight - 1.0) * faint.float()


def lesion_loss(maps: torch.Tensor, target: torch.Tensor, labels: torch.Tensor, pos_weight: float = 4.0,
                fn_weight: float = 0.5, pixel_weight: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
    """Pixel BCE (soft targets) + soft Tversky per subtype over the batch + slice-label BCE on the maxima.

    The Tversky index TP / (TP + (1 - fn_weight) FP + fn_weight FN) is the Dice coefficient at
    fn_weight 0.5; above it a missed lesion pixel costs more than a false one (Salehi et al. 2017),
    which counters maps that draw thin subdurals and diffuse subarachnoid blood too small, since a
    bleed volume sums those pixels. ``pixel_weight`` (faint_blood_weights) counts some lesion pixels
    more in the BCE and in the overlap's TP and FN: the faint collections a map leaves out."""
    bce = F.binary_cross_entropy_with_logits(maps, target, weight=pixel_weight,
                                             pos_weight=torch.tensor(pos_weight, device=maps.device))
    p = torch.sigmoid(maps)
    lesion = target if pixel_weight is None else target * pixel_weight
    tp = (p * lesion).sum(dim=(0, 2, 3))
    fp = (p * (1 - target)).sum(dim=(0, 2, 3))
    fn = ((1 - p) * lesion).sum(dim=(0, 2, 3))
    present = target.sum(dim=(0, 2, 3)) > 0
    tversky = (tp + 0.5) / (tp + (1 - fn_weight) * fp + fn_weight * fn + 0.5)
    dice = (1 - tversky)[present].mean() if bool(present.any()) else maps.new_zeros(())
    cls = F.binary_cross_entropy_with_logits(LesionUNet.label_logits(maps), labels)
    return {"loss": bce + dice + 0.5 * cls, "bce": bce, "dice": dice, "cls": cls}


class PoolSlicesWithMasks(PoolSlices):
    """PoolSlices plus each slice's lesion bits [512, 512] (uint8); a few studies' masks kept per loader process."""

    def __init__(self, roots, keep_studies: int = 6) -> None:
        super().__init__(roots)
        self._bits: Dict[Tuple[int, int], np.ndarray] = {}
        self._keep = keep_studies

    def __getitem__(self, key):
        hu, window, labels = super().__getitem__(key)
        pool, study, z = int(key[0]), int(key[1]), int(key[2])
        bits = self._bits.get((pool, study))
        if bits is None:
            if len(self._bits) >= self._keep:
                self._bits.pop(next(iter(self._bits)))
            with np.load(shard_path(self.roots[pool], "mask", study)) as f:
                bits = self._bits[(pool, study)] = f["bits"]
        return hu, window, labels, torch.from_numpy(np.array(bits[z]))


# ---------------------------------------------------------------------------------------------
# measurement


@torch.no_grad()
def predict_maps(model: LesionUNet, hu: np.ndarray, batch_size: int = 8) -> Tuple[np.ndarray, np.ndarray]:
    """(probabilities [N, 6], lesion maps [N, 5, S, S] at the model's stride) for HU [N, 512, 512], on the model's device."""
    device = next(model.parameters()).device
    probs, maps = [], []
    for s in range(0, len(hu), batch_size):
        x = torch.from_numpy(np.asarray(hu[s:s + batch_size], np.float32))[:, None].to(device)
        p, m = model(x, torch.zeros(len(x), 2, device=device))
        probs.append(p.float().cpu().numpy()); maps.append(m.float().cpu().numpy())
    return np.concatenate(probs), np.concatenate(maps)


def volume_ml(maps: np.ndarray, pixel_mm: float, slice_mm: float, threshold: float = VOLUME_THRESHOLD) -> float:
    """Bleed volume (mL) from lesion maps [Z, C, S, S] (C: the subtypes, or their maximum): pixels where
    any subtype reaches the threshold, each (pixel mm x stride)^2 x slice mm, the stride from the
    maps' size (4 at 128, 2 at 256), as the app's rule does."""
    voxels = int(counted_pixels(maps, threshold).sum())
    return voxels * (pixel_mm * stride_of_maps(maps)) ** 2 * slice_mm / 1000.0


def counted_pixels(maps: np.ndarray, threshold: float = VOLUME_THRESHOLD) -> np.ndarray:
    """The map pixels the volume counts [Z, S, S]: where any subtype reaches the threshold."""
    return maps.max(axis=1) >= threshold


def mask_volume_ml(bits: np.ndarray, pixel_mm: float, slice_mm: float) -> float:
    return int((bits != 0).sum()) * pixel_mm ** 2 * slice_mm / 1000.0


def subtype_coverage(maps: np.ndarray, bits: np.ndarray, pixel_mm: float, slice_mm: float,
                     threshold: float = VOLUME_THRESHOLD) -> Dict[str, Dict[str, float]]:
    """Per subtype drawn in a study: its drawn volume (mL) and the share of its drawn pixels that the
    volume counts (map pixels at or above the threshold, any subtype's map, each covering stride x
    stride slice pixels): which bleeds a volume misses, or where it draws more than there is."""
    stride = stride_of_maps(maps)
    counted = np.repeat(np.repeat(counted_pixels(maps, threshold), stride, axis=1), stride, axis=2)
    out = {}
    for i, subtype in enumerate(SUBTYPES):
        drawn = ((bits >> i) & 1).astype(bool)
        if drawn.any():
            out[subtype] = {"drawn_ml": round(mask_volume_ml(drawn, pixel_mm, slice_mm), 2),
                            "counted": round(float((counted & drawn).sum() / drawn.sum()), 2)}
    return out


def volume_within(estimate: float, truth: float) -> bool:
    share, ml = VOLUME_TOLERANCE
    return abs(estimate - truth) <= max(share * truth, ml)


def slice_spacing(z: np.ndarray) -> float:
    return float(np.median(np.abs(np.diff(np.sort(z))))) if len(z) > 1 else 5.0


def _bleeding_studies(model: LesionUNet, pool: str, studies: int):
    """The first ``studies`` studies of a pool that have a bleeding slice (the others count towards
    neither figure), each as (study id, maps [Z, 5, S, S] at the model's stride, lesion bits, labels, pixel mm or None,
    slice spacing mm)."""
    idx = PoolIndex.open(pool)
    for k in range(min(studies, len(idx.studies))):
        labels = idx.labels[idx.study_of == k]
        if not labels[:, 0].any():
            continue
        pixel_mm, z = idx.geometry(k)
        _, maps = predict_maps(model, idx.hu_map(k))
        yield int(idx.studies[k]), maps, idx.masks(k), labels, pixel_mm, slice_spacing(z)


def _pointing(maps: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> Dict[str, List[int]]:
    """The pointing game on a study's bleeding slices, asked at full resolution: each map upsampled
    to 512 x 512 from whatever its stride."""
    rows = np.nonzero(labels[:, 0])[0]
    up = F.interpolate(torch.from_numpy(maps[rows]), size=(SLICE_SIZE, SLICE_SIZE), mode="bilinear",
                       align_corners=False).numpy()
    cams = np.concatenate([up.max(axis=1, keepdims=True), up], 1)   # "any": the highest subtype
    return pointing_game(cams, bits[rows], labels[rows])


def evaluate_pool(model: LesionUNet, pool: str, studies: int, threshold: float = VOLUME_THRESHOLD) -> Dict[str, object]:
    hits: Dict[str, List[int]] = {l: [0, 0] for l in LABELS}
    per_study = []
    for study, maps, bits, labels, pixel_mm, dz in _bleeding_studies(model, pool, studies):
        for label, (n, h) in _pointing(maps, bits, labels).items():
            hits[label][0] += n; hits[label][1] += h
        if pixel_mm is not None:
            est, truth = volume_ml(maps, pixel_mm, dz, threshold), mask_volume_ml(bits, pixel_mm, dz)
            per_study.append({"study": study, "truth_ml": round(truth, 2), "estimate_ml": round(est, 2),
                              "within": volume_within(est, truth),
                              "by_subtype": subtype_coverage(maps, bits, pixel_mm, dz, threshold)})
    within = [s["within"] for s in per_study]
    return {
        "pool": str(pool), "studies": min(studies, len(PoolIndex.open(pool).studies)), "tolerance_px": TOLERANCE_PX,
        "volume_threshold": threshold,
        "pointing_game": {l: {"slices": n, "hits": h, "hit_rate": round(h / n, 4) if n else None} for l, (n, h) in hits.items()},
        "volume": {"bleeding_studies": len(per_study), "within": int(sum(within)),
                   "within_rate": round(sum(within) / len(within), 4) if within else None,
                   "rule": f"within {int(VOLUME_TOLERANCE[0] * 100)} % or {VOLUME_TOLERANCE[1]:g} mL of the drawn masks' volume",
                   "per_study": per_study},
    }


#: The map thresholds the volume threshold is chosen among.
THRESHOLD_GRID = tuple(float(t) for t in np.round(np.arange(0.2, 0.801, 0.05), 2))


def _volume_case(maps: np.ndarray, bits: np.ndarray, pixel_mm: float, dz: float) -> Tuple[np.ndarray, float, float, float]:
    """A bleeding study's volume case: (the highest subtype map [Z, 1, S, S], pixel mm, slice mm, drawn mL)."""
    return maps.max(axis=1, keepdims=True), pixel_mm, dz, mask_volume_ml(bits, pixel_mm, dz)


def _volume_cases(model: LesionUNet, pools: Sequence[str], studies: int) -> List[Tuple[np.ndarray, float, float, float]]:
    """Each bleeding study with pixel spacing of these pools, as a volume case."""
    return [_volume_case(maps, bits, pixel_mm, dz)
            for pool in pools for _, maps, bits, _, pixel_mm, dz in _bleeding_studies(model, pool, studies) if pixel_mm is not None]


def _threshold_rows(cases, grid: Sequence[float]) -> List[Dict[str, object]]:
    rows = []
    for t in grid:
        hits = sum(volume_within(volume_ml(m, px, dz, float(t)), truth) for m, px, dz, truth in cases)
        rows.append({"threshold": float(t), "within": int(hits), "within_rate": round(hits / len(cases), 4)})
    return rows


def _best_threshold(rows: List[Dict[str, object]]) -> Dict[str, object]:
    return max(rows, key=lambda r: (r["within"], -abs(float(r["threshold"]) - 0.5)))  # type: ignore[arg-type, operator]


def choose_volume_threshold(model: LesionUNet, pools: Sequence[str], studies: int,
                            grid: Sequence[float] = THRESHOLD_GRID) -> Dict[str, object]:
    """The map threshold whose volumes fall within the tolerance on most bleeding studies of these
    pools (never the test pool), ties to the one nearest 0.5: the map's probabilities are per pixel,
    and a pixel half covered by blood should count half the time."""
    cases = _volume_cases(model, pools, studies)
    if not cases:
        raise SystemExit("no bleeding study with pixel spacing in these pools: build pools that keep it")
    rows = _threshold_rows(cases, grid)
    return {"pools": [str(p) for p in pools], "bleeding_studies": len(cases), "threshold": _best_threshold(rows)["threshold"],
            "rule": "most bleeding studies within 25 % or 2 mL; ties to the threshold nearest 0.5", "rows": rows}


def choose_checkpoint(checkpoints: Sequence[str], pools: Sequence[str], volume_pools: Sequence[str],
                      studies: int) -> Dict[str, object]:
    """The checkpoint to ship, among a run's candidates (its validation best, its final weights, ...),
    on held-out pools that are never the test pool: the mean of its pointing-game hit rate (any) over
    the bleeding slices of ``pools`` and ``volume_pools``, and its volume agreement on
    ``volume_pools`` at the best threshold there. Both figures gate the product (the map shown, the
    volume shown), so neither alone chooses."""
    rows = []
    for path in checkpoints:
        model = load_lesion_model(path)
        n = h = 0
        cases = []
        # one pass over each pool's bleeding studies: their maps serve both figures
        for pool in list(pools) + list(volume_pools):
            for _, maps, bits, labels, pixel_mm, dz in _bleeding_studies(model, pool, studies):
                n_any, h_any = _pointing(maps, bits, labels)["any"]
                n += n_any; h += h_any
                if pool in volume_pools and pixel_mm is not None:
                    cases.append(_volume_case(maps, bits, pixel_mm, dz))
        best = _best_threshold(_threshold_rows(cases, THRESHOLD_GRID)) if cases else {"threshold": None, "within_rate": 0.0}
        pointing = h / n if n else 0.0
        rows.append({"checkpoint": str(path), "step": total_steps(load_checkpoint(Path(path))["state"]),
                     "pointing_any": round(pointing, 4), "pointing_slices": n,
                     "volume_within_rate": best["within_rate"], "volume_studies": len(cases), "at_threshold": best["threshold"],
                     "score": round((pointing + float(best["within_rate"])) / 2, 4)})  # type: ignore[arg-type]
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    chosen = max(rows, key=lambda r: (r["score"], r["step"]))
    return {"pools": [str(p) for p in pools], "volume_pools": [str(p) for p in volume_pools], "studies": studies,
            "rule": "highest mean of the pointing game (any) and the volume agreement at its best threshold; ties to the later step",
            "chosen": chosen["checkpoint"], "rows": rows}


# ---------------------------------------------------------------------------------------------
# training


def total_steps(state: Dict[str, object]) -> int:
    """A checkpoint's steps counted from scratch: a run started from the shipped weights (train
    --init onnx) adds its own to the steps that made them, so candidates of two runs compare."""
    prior = state.get("prior") or {}
    return int(state["step"]) + int(prior.get("steps", 0))  # type: ignore[union-attr, call-overload, arg-type]


def checkpoint_stride(ck: Dict[str, object]) -> int:
    """A checkpoint's map stride, from its state; checkpoints from before the option are stride 4."""
    return int((ck.get("state") or {}).get("map_stride", 4))  # type: ignore[union-attr]


def load_lesion_model(path: str) -> LesionUNet:
    ck = load_checkpoint(Path(path))
    model = LesionUNet(map_stride=checkpoint_stride(ck))
    model.load_state_dict(ck["model"])
    return model.eval()


def init_from(model: LesionUNet, source: LesionUNet) -> Dict[str, object]:
    """Copy into ``model`` every tensor of ``source`` whose name and shape match; the rest stays as
    initialised. Between strides (stride-4 weights into a stride-2 network) the head stays fresh even
    where its shape would match (equal widths): it read other features. Returns what was loaded and
    what stayed fresh, by module, for the log and the run record."""
    ours, theirs = model.state_dict(), source.state_dict()
    same_stride = model.map_stride == source.map_stride
    take = {k: v for k, v in theirs.items()
            if k in ours and tuple(v.shape) == tuple(ours[k].shape) and (same_stride or not k.startswith("head."))}
    model.load_state_dict({**ours, **take})
    fresh = sorted({".".join(k.split(".")[:2]) if k.startswith(("up.", "down.")) else k.split(".")[0]
                    for k in ours if k not in take})
    return {"from_stride": source.map_stride, "to_stride": model.map_stride, "loaded": len(take), "tensors": len(ours),
            "fresh": fresh}


def init_note(info: Dict[str, object]) -> str:
    """One line for the log, the run record and the card."""
    fresh = ", ".join(info["fresh"]) or "none"  # type: ignore[arg-type]
    return (f"stride-{info['from_stride']} weights into a stride-{info['to_stride']} network: {info['loaded']} of "
            f"{info['tensors']} tensors loaded (name and shape match), fresh: {fresh}")


def checkpoint_prior(path: str) -> Dict[str, object]:
    """What made a checkpoint (its runs, steps, slices, minutes), for a new run that starts from it."""
    st = load_checkpoint(Path(path))["state"]
    prior = st.get("prior") or {"runs": [], "steps": 0, "slicesSeen": 0, "minutes": 0.0}
    return {"runs": list(prior["runs"]) + list(st.get("runs", [])), "steps": int(prior["steps"]) + int(st["step"]),
            "slicesSeen": int(prior["slicesSeen"] or 0) + int(st.get("slices") or 0),
            "minutes": float(prior["minutes"]) + float(st["minutes"])}


def train(args: argparse.Namespace) -> Dict[str, object]:
    torch.manual_seed(args.torch_seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = select_device(args.device)
    cuda = device.type == "cuda"
    state: Dict[str, object] = {"step": 0, "best": None, "minutes": 0.0, "slices": 0}
    last = out / "last.pt"
    resume = last.exists() and not args.fresh
    # A new run starts from the shipped network's weights (or a checkpoint's) when asked (training on
    # different days and machines adds up), else from scratch; a resumed one from its last checkpoint.
    # Stride-4 weights start a stride-2 network where names and shapes match (init_from): the encoder
    # and the decoder down to 128 x 128 carry over, the level-0 block and the head start fresh.
    ck = load_checkpoint(last) if resume else None
    # a resumed run keeps its stride; a new one draws at --map-stride (default 4, as shipped)
    stride = int(args.map_stride or (checkpoint_stride(ck) if ck is not None else MAP_STRIDE))
    if ck is not None and checkpoint_stride(ck) != stride:
        raise SystemExit(f"{last} is a stride-{checkpoint_stride(ck)} run: resume it at that stride, "
                         "or start a new one with --fresh")
    model = LesionUNet(map_stride=stride)
    note = None
    if args.init != "none" and not resume:
        source = load_weights(None, str(SHIPPED_ONNX)) if args.init == "onnx" else load_lesion_model(args.init)
        info = init_from(model, source)
        if info["fresh"]:
            note = init_note(info)
            print(f"init from {args.init}: {note}", file=sys.stderr, flush=True)
        # the card counts the runs behind the starting weights too
        state["prior"] = shipped_training() if args.init == "onnx" else checkpoint_prior(args.init)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    if ck is not None:
        model.load_state_dict(ck["model"]); state = ck["state"]
        opt.load_state_dict(state.pop("optimizer"))  # type: ignore[arg-type]
    state["map_stride"] = stride  # every checkpoint says what it draws (load_lesion_model reads it)
    # What the card prints of each run: the command, the machine, the data (a resumed run adds one).
    runs = list(state.get("runs", []))  # type: ignore[call-overload]
    runs.append({"started": now_iso(), "command": args.command, "hardware": hardware(device), "device": str(device),
                 "data": ", ".join(args.pool), "batch_size": args.batch_size, "lr": args.lr, "fn_weight": args.fn_weight,
                 "faint_blood_weight": args.faint_blood_weight,
                 "from_step": state["step"], "map_stride": stride,
                 "init": "resumed" if resume else args.init, **({"init_note": note} if note else {})})
    state["runs"] = runs
    loader = pool_loader(args.pool, args.batch_size, args.workers, args.torch_seed, dataset=PoolSlicesWithMasks)
    gen = torch.Generator().manual_seed(args.torch_seed + int(state["step"]))  # type: ignore[arg-type]
    t0 = time.time() - 60 * float(state["minutes"])  # type: ignore[arg-type]
    budget = 60 * args.max_minutes
    warmup = 50
    for hu, _window, labels, bits in loader:
        step = int(state["step"])  # type: ignore[arg-type]
        elapsed = time.time() - t0
        if elapsed >= budget or (args.max_steps and step >= args.max_steps):
            break
        lr = args.lr * warmup_cosine(elapsed / budget, step, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        x, target = augment_with_targets(hu.to(device, non_blocking=True).float(),
                                         coverage_targets(bits.to(device), stride), gen)
        # bf16 autocast on a GPU; the losses in float32 either way
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=cuda):
            maps = model.map_logits(x)
        parts = lesion_loss(maps.float(), target, labels.to(device).float(), fn_weight=args.fn_weight,
                            pixel_weight=faint_blood_weights(x, target, args.faint_blood_weight))
        opt.zero_grad(set_to_none=True)
        parts["loss"].backward()
        nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        state["step"] = step + 1
        state["slices"] = int(state.get("slices", 0)) + len(x)  # type: ignore[call-overload]
        state["minutes"] = (time.time() - t0) / 60
        if (step + 1) % 10 == 0:
            rec = {"step": step + 1, "minutes": round(float(state["minutes"]), 2), "lr": lr,
                   **{k: round(float(v.detach()), 4) for k, v in parts.items()}}
            append_jsonl(out / "log.jsonl", rec)
            print(f"step {step + 1} {rec}", file=sys.stderr, flush=True)
        if (step + 1) % args.eval_every == 0:
            _validate(model, args, state, out, opt)
    _validate(model, args, state, out, opt)
    return state


def _validate(model: LesionUNet, args: argparse.Namespace, state: Dict[str, object], out: Path, opt) -> None:
    model.eval()
    res = evaluate_pool(model, args.val_pool, args.val_studies) if args.val_pool else None
    score = res["pointing_game"]["any"]["hit_rate"] if res else None  # type: ignore[index]
    state["last_val"] = res
    print(f"validation at step {state['step']}: pointing game (any) {score}", file=sys.stderr, flush=True)
    # Without a validation answer (no pool, or no bleeding slice in it) the latest weights are the best known.
    if score is None or state["best"] is None or score >= state["best"]:
        state["best"] = score
        save_checkpoint(out / "best.pt", model=model.state_dict(), state=dict(state))
    save_checkpoint(out / "last.pt", model=model.state_dict(), state={**state, "optimizer": opt.state_dict()})


MODEL_ID = "lesion_unet"
VERSION = "0.1.0"
#: The shipped network, where ``train --init onnx`` starts a new run from.
SHIPPED_ONNX = Path(__file__).resolve().parents[1] / MODEL_ID / f"{MODEL_ID}.onnx"


def lesion_map_output(stride: int = MAP_STRIDE) -> Dict[str, object]:
    """The manifest's declaration of the extra output at this stride, as the app reads it
    (src/main/inference/manifest.ts)."""
    size = map_size(stride)
    return {"dtype": "float32", "shape": ["N", len(SUBTYPES), size, size], "kind": "lesion-map",
            "labels": list(SUBTYPES), "threshold": VOLUME_THRESHOLD, "stride": stride}


def onnx_map_stride(path: Path) -> int:
    """The map stride of an exported file, from its ``lesion_map`` output's declared size; a file
    whose map has no fixed size is refused (the app refuses it too)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for out in proto.graph.output:
        if out.name == "lesion_map":
            dims = [d.dim_value for d in out.type.tensor_type.shape.dim]
            if len(dims) == 4 and dims[2] > 0 and dims[2] == dims[3] and SLICE_SIZE % dims[2] == 0:
                return SLICE_SIZE // dims[2]
            raise ValueError(f"{path}: lesion_map declared as {dims}, not [N, 5, S, S] with S dividing {SLICE_SIZE}")
    raise ValueError(f"{path}: no lesion_map output")


def export(checkpoint: str, path: Path) -> Dict[str, object]:
    """The trained network as an ONNX file under the model contract, with ``lesion_map`` as its
    declared extra output: weights rounded through fp16 and stored as fp16 (as the classifiers)."""
    import onnx

    from .engine import round_to_fp16_
    from .onnx_utils import check_contract, export_onnx, save_sharded, to_fp16_storage

    model = load_lesion_model(checkpoint)
    round_to_fp16_(model)
    proto = export_onnx(model, path, extra_outputs=("lesion_map",))
    # The exporter cannot infer the label axis through the maxima over the maps: state both shapes.
    shapes = {"probabilities": ["N", len(LABELS)], "lesion_map": lesion_map_output(model.map_stride)["shape"]}
    for out in proto.graph.output:
        dims = out.type.tensor_type.shape.dim
        del dims[:]
        for d in shapes[out.name]:
            dims.add().CopyFrom(onnx.TensorShapeProto.Dimension(dim_param=d) if isinstance(d, str)
                                else onnx.TensorShapeProto.Dimension(dim_value=d))
    check_contract(proto)
    stored = to_fp16_storage(proto)
    del proto.metadata_props[:]
    proto.metadata_props.add(key="model_id", value=MODEL_ID)
    proto.producer_name = "models/training/lesion_unet.py"
    files = save_sharded(proto, path)
    onnx.checker.check_model(str(path))
    return {"path": str(path), "files": [str(f) for f in files], "fp16_initializers": stored,
            "outputs": shapes, "parameters": sum(p.numel() for p in model.parameters()), "map_stride": model.map_stride}


def training_record(checkpoint: str, choice: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """The runs that made the checkpoint, from its own state (the card's training table)."""
    st = load_checkpoint(Path(checkpoint))["state"]
    last = Path(checkpoint).parent / "last.pt"
    end = load_checkpoint(last)["state"] if last.exists() and last != Path(checkpoint) else st
    # a run started from the shipped weights (train --init onnx) adds to the runs that made them
    prior = st.get("prior") or {"runs": [], "steps": 0, "slicesSeen": 0, "minutes": 0.0}
    runs = list(prior["runs"]) + list(st.get("runs", []))
    # runs from before the weight was an option trained with the soft Dice
    weights = ", ".join(f"{r.get('fn_weight', 0.5):g}" for r in runs)
    return {"fromScratch": True, "pretrained": None, "runs": runs,
            "steps": prior["steps"] + st["step"],
            "runEnded": {"steps": prior["steps"] + end["step"], "minutes": round(float(prior["minutes"]) + float(end["minutes"]), 1)},
            "slicesSeen": (prior["slicesSeen"] or 0) + (st.get("slices") or 0),
            "minutes": round(float(prior["minutes"]) + float(st["minutes"]), 1),
            "exportedCheckpoint": {"step": prior["steps"] + st["step"],
                                   "rule": choice_rule(choice) if choice else "best validation pointing game (any), every few hundred steps"},
            "optimizer": "AdamW, warm-up then cosine; loss: pixel BCE + soft Tversky per subtype + slice-label BCE "
                         f"(weight of missed lesion pixels by run: {weights}; 0.5 is the soft Dice)"}


def shipped_training() -> Dict[str, object]:
    """What made the shipped lesion network (its manifest row's training record): runs, steps, slices, minutes."""
    from .onnx_utils import read_manifest

    rows = [m for m in read_manifest().get("models", []) if m["id"] == MODEL_ID]
    t = rows[0]["training"] if rows else {}
    return {"runs": t.get("runs", []), "steps": int(t.get("steps", 0)), "slicesSeen": int(t.get("slicesSeen") or 0),
            "minutes": float(t.get("minutes", 0.0))}


def shipped_threshold(stride: int = MAP_STRIDE) -> Optional[float]:
    """The volume threshold of the shipped lesion network's manifest row, if one is shipped and its
    maps have this stride (a threshold chosen on 128 x 128 maps says nothing of 256 x 256 ones)."""
    from .onnx_utils import read_manifest

    rows = [m for m in read_manifest().get("models", []) if m["id"] == MODEL_ID]
    out = rows[0]["outputs"]["lesion_map"] if rows else None
    return float(out["threshold"]) if out and int(out.get("stride", 4)) == stride else None


def choice_rule(choice: Dict[str, object]) -> str:
    """How ``choose`` picked the checkpoint, for the card: the candidates, the pools, the rule."""
    steps = ", ".join(str(r["step"]) for r in sorted(choice["rows"], key=lambda r: r["step"]))  # type: ignore[union-attr, index]
    pools = ", ".join(Path(p).name for p in [*choice["pools"], *choice["volume_pools"]])  # type: ignore[misc]
    return f"`lesion_unet choose` among steps {steps} on {pools} (never the test pool): {choice['rule']}"


def ship(checkpoint: str, evaluation_path: Optional[str], threshold_path: Optional[str] = None,
         choice_path: Optional[str] = None) -> Dict[str, object]:
    """Export to models/lesion_unet/, write its card and its row in models/manifest.json (the
    classifiers' rows, the ensemble and the ranking record are kept as they are). ``choice_path``:
    the JSON ``choose`` wrote, when it picked the checkpoint (the card says how)."""
    from .contract import INPUTS, MODELS_DIR, OUTPUTS
    from .onnx_export import FLOAT_PRECISION, WARNING, file_entries, write_manifest
    from .onnx_utils import OPSET, read_manifest

    path = MODELS_DIR / MODEL_ID / f"{MODEL_ID}.onnx"
    for old in path.parent.glob(f"{MODEL_ID}.onnx*"):
        old.unlink()
    done = export(checkpoint, path)
    files = [Path(f) for f in done["files"]]  # type: ignore[union-attr]
    evaluation = json.loads(Path(evaluation_path).read_text()) if evaluation_path else None
    chosen = json.loads(Path(threshold_path).read_text()) if threshold_path else None
    threshold = float(chosen["threshold"]) if chosen else VOLUME_THRESHOLD
    volume = volume_declaration(evaluation)
    stride = int(done["map_stride"])  # type: ignore[call-overload]
    size = map_size(stride)
    entry = {
        "id": MODEL_ID, "version": VERSION,
        "architecture": f"U-Net lesion maps (ours, after Ronneberger et al. 2015): one map per subtype at {size}x{size}",
        "paper": "Ronneberger et al., MICCAI 2015 (U-Net); the seed papers give slice labels only",
        "role": "localisation: where each subtype lies on the slice, and the bleed-volume estimate; not in the ranking",
        "file": f"{MODEL_ID}/{path.name}",
        "files": file_entries(MODEL_ID, files, path, "float16", ["cuda", "cpu"]),
        "parameters": done["parameters"], "opset": OPSET, "weightsOnDisk": FLOAT_PRECISION,
        "inputs": INPUTS, "outputs": {**OUTPUTS, "lesion_map": {**lesion_map_output(stride), "threshold": threshold, "volume": volume}},
        "labels": list(LABELS), "networkInputSize": INPUT_SIZE,
        "preprocessing": ("three windows of the 512x512 HU slice stacked as channels inside the graph (as the ensemble: "
                          f"brain, subdural, soft tissue), bilinear resize to 256x256; maps at {size}x{size}, {stride} slice pixels each"),
        "interpretations": ["probabilities = each subtype map's highest pixel; any = the highest subtype (ours)",
                            "volume: map pixels at or above the threshold x pixel area x slice spacing (ours)"],
        "training": training_record(checkpoint, json.loads(Path(choice_path).read_text()) if choice_path else None),
        "mapThresholdRule": (f"{threshold:g}: the map threshold of the volume estimate"
                          + (f", chosen on {', '.join(Path(p).name for p in chosen['pools'])} ({chosen['rule']})" if chosen else "")
                          + "; the network flags nothing"),
        "volumeThreshold": chosen,
        "metrics": evaluation,
        "card": f"{MODEL_ID}/CARD.md",
        "clinicalUse": WARNING,
        "export": done["fp16_initializers"],
    }
    write_lesion_card(MODELS_DIR / MODEL_ID / "CARD.md", entry)
    doc = read_manifest()
    models = [m for m in doc.get("models", []) if m["id"] != MODEL_ID] + [entry]
    write_manifest(models, doc.get("ensembles", []), doc.get("ranking"))
    return {"entry": {k: entry[k] for k in ("id", "file", "parameters")}, "files": [f["path"] for f in entry["files"]]}


def volume_declaration(evaluation: Optional[Dict]) -> Dict[str, object]:
    """Whether the app shows this network's volume estimates, and the measurement that decided it
    (the first pool of the evaluation: the held-out phantom studies)."""
    vol = evaluation["pools"][0]["volume"] if evaluation else None
    if not vol or vol["within_rate"] is None:
        return {"shown": False, "measured": "not measured on held-out studies"}
    share, ml = VOLUME_TOLERANCE
    return {"shown": vol["within_rate"] >= VOLUME_SHOWN_RATE,
            "measured": (f"within {int(share * 100)} % or {ml:g} mL of the drawn volume on {vol['within']} of "
                         f"{vol['bleeding_studies']} held-out bleeding phantom studies ({Path(evaluation['pools'][0]['pool']).name})"),
            "rule": f"shown when at least {int(VOLUME_SHOWN_RATE * 100)} % are"}


def write_lesion_card(path: Path, entry: Dict[str, object]) -> None:
    t: Dict = entry["training"]  # type: ignore[assignment]
    ev: Optional[Dict] = entry["metrics"]  # type: ignore[assignment]
    size = entry["outputs"]["lesion_map"]["shape"][-1]  # type: ignore[index]
    # runs that started from weights of another stride: which tensors carried over (init_from)
    partial = [f"- {r['started']}: {r['init_note']}." for r in t["runs"] if r.get("init_note")]
    lines = [
        f"# {entry['id']} {entry['version']}: where the bleed is, and how much", "",
        f"**{entry['clinicalUse']}**", "",
        "## What it is", "",
        f"{entry['architecture']}; {entry['parameters']:,} parameters. {entry['preprocessing']}.",
        "Output `probabilities` [N, 6] under the model contract and, declared in the manifest, `lesion_map` "
        f"[N, 5, {size}, {size}]: each map pixel's probability of each subtype. The app overlays the maps on the "
        f"slice; it sums the pixels at or above {entry['outputs']['lesion_map']['threshold']:g} into a bleed-volume "  # type: ignore[index]
        f"**estimate** (mL) only when the network's held-out volumes met the bar below ({entry['mapThresholdRule']}). "
        "It is not part of the ranking: the worklist order comes from the ranking family.", "",
        "## How it was trained", "",
        f"From scratch (no pretrained weights), on synthetic data only: {t['steps']} steps, {t['slicesSeen']} slices, "
        f"{t['minutes']} minutes. {t['optimizer']}. The run went on to step {t['runEnded']['steps']} "
        f"({t['runEnded']['minutes']} minutes); the exported checkpoint is step {t['exportedCheckpoint']['step']}, chosen by "
        f"{t['exportedCheckpoint']['rule']}.", "",
        "| started | hardware | data | batch | lr | command |", "|---|---|---|---:|---:|---|",
        *[f"| {r['started']} | {r['hardware']} | {r['data']} | {r['batch_size']} | {r['lr']} | `{r['command']}` |" for r in t["runs"]],
        "",
        *(["Runs started from weights of another map stride (the tensors whose name and shape match carried over; "
           "the rest started fresh):", *partial, ""] if partial else []),
        "## How well it points and measures (synthetic held-out sets)", "",
    ]
    if not ev:
        lines += ["Not measured yet.", ""]
    else:
        lines += [f"Measured by `{ev['command']}`.", "",
                  "| set | studies | pointing game, any (slices) | per subtype | volume within 25 % or 2 mL |",
                  "|---|---:|---|---|---|"]
        for p in ev["pools"]:
            pg, vol = p["pointing_game"], p["volume"]
            subs = ", ".join(f"{l} {pg[l]['hit_rate']:.2f}" for l in SUBTYPES if pg[l]["hit_rate"] is not None)
            rate = f"{vol['within_rate']:.2f} ({vol['within']}/{vol['bleeding_studies']})" if vol["within_rate"] is not None else "n/a"
            lines.append(f"| {Path(p['pool']).name} | {p['studies']} | {pg['any']['hit_rate']:.2f} "
                         f"({pg['any']['hits']}/{pg['any']['slices']}) | {subs} | {rate} |")
        vol_decl = entry["outputs"]["lesion_map"]["volume"]  # type: ignore[index]
        lines += ["", f"**Volume estimates in the app: {'shown' if vol_decl['shown'] else 'not shown'}** — "
                  f"{vol_decl['measured']}; {vol_decl.get('rule', '')}. The app stores and shows no volume from a network "
                  "that misses this bar (the map's legend says why)."]
        lines += ["", f"Pointing game: the map's highest pixel within {TOLERANCE_PX} px of the drawn lesion, on every "
                  "slice with a bleed (localise.py). Volume: the app's rule (src/main/triage/volume.ts) on the drawn "
                  "masks' volume.", ""]
    lines += ["## Limits", "",
              "Synthetic phantoms and synthetic bleeds drawn into one real head CT are all it has seen; real bleeds "
              "differ. The volume is an estimate for triage, never a measurement for treatment decisions.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _rate(x: Optional[float]) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def evaluation_report(result: Dict) -> str:
    """The evaluation as markdown: the pointing game per label and every bleeding study's volume."""
    lines = ["# Lesion maps on held-out synthetic studies", "",
             f"Generated by `{result['command']}` (weights: `{result['weights']}`). Synthetic data only: these figures "
             "say the network learned the synthetic lesions, nothing about real patients.", ""]
    for p in result["pools"]:
        pg, vol = p["pointing_game"], p["volume"]
        lines += [f"## {Path(p['pool']).name} ({p['studies']} studies)", "",
                  f"Pointing game (the map's peak within {p['tolerance_px']} px of the drawn lesion, every bleeding slice):", "",
                  "| label | slices | hits | rate |", "|---|---:|---:|---:|",
                  *[f"| {l} | {v['slices']} | {v['hits']} | {_rate(v['hit_rate'])} |" for l, v in pg.items()], "",
                  f"Volume (map pixels from {p.get('volume_threshold', VOLUME_THRESHOLD):g}), {vol['rule']}: {vol['within']} of {vol['bleeding_studies']} bleeding studies"
                  + (f" ({vol['within_rate']:.0%})." if vol["within_rate"] is not None else "."), "",
                  "| study | drawn (mL) | estimate (mL) | within | drawn by subtype, mL (share counted) |",
                  "|---:|---:|---:|---|---|",
                  *[f"| {s['study']} | {s['truth_ml']:.2f} | {s['estimate_ml']:.2f} | {'yes' if s['within'] else 'no'} | "
                    + ", ".join(f"{k} {v['drawn_ml']:.1f} ({v['counted']:.2f})" for k, v in s.get("by_subtype", {}).items()) + " |"
                    for s in vol["per_study"]], ""]
    return "\n".join(lines)


def load_weights(checkpoint: Optional[str], onnx_path: Optional[str]) -> LesionUNet:
    """The network from a training checkpoint, or from an exported ONNX file's weights (its stride
    from the file's ``lesion_map`` output)."""
    if checkpoint:
        return load_lesion_model(checkpoint)
    from .onnx_utils import state_dict_from_onnx

    model = LesionUNet(map_stride=onnx_map_stride(Path(onnx_path)))  # type: ignore[arg-type]
    model.load_state_dict(state_dict_from_onnx(Path(onnx_path), model))  # type: ignore[arg-type]
    return model.eval()


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train on pools with lesion masks (resumable from OUT/last.pt)")
    t.add_argument("--pool", action="append", required=True, help="PATH[:SHARE], repeatable")
    t.add_argument("--val-pool", default=None)
    t.add_argument("--val-studies", type=int, default=8)
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--weight-decay", type=float, default=1e-4)
    t.add_argument("--fn-weight", type=float, default=0.5,
                   help="Tversky weight of missed lesion pixels in the overlap loss (0.5: soft Dice)")
    t.add_argument("--faint-blood-weight", type=float, default=1.0,
                   help=f"loss weight of lesion pixels darker than {FAINT_BLOOD_HU:g} HU (subacute, anaemic, chronic "
                        "blood) against 1 for the rest; 1: the plain loss")
    t.add_argument("--max-minutes", type=float, default=30.0)
    t.add_argument("--max-steps", type=int, default=0)
    t.add_argument("--eval-every", type=int, default=300)
    t.add_argument("--workers", type=int, default=1)
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--torch-seed", type=int, default=0)
    t.add_argument("--fresh", action="store_true", help="ignore OUT/last.pt")
    t.add_argument("--init", default="none",
                   help="a run not resumed starts from scratch (none), from the shipped network's weights (onnx) or "
                        "from a checkpoint (PATH.pt); weights of another stride load where name and shape match")
    t.add_argument("--map-stride", type=int, choices=MAP_STRIDES, default=None,
                   help="slice pixels per map pixel: 4 (128 x 128 maps, as shipped; the default of a new run) or "
                        "2 (256 x 256); a resumed run keeps its own")
    t.add_argument("--device", default=None, help="default: cuda when present, else cpu")
    t.add_argument("--out", default="models/training/runs/lesion_unet")
    e = sub.add_parser("evaluate", help="pointing game and volume on held-out pools")
    w = e.add_mutually_exclusive_group(required=True)
    w.add_argument("--checkpoint")
    w.add_argument("--onnx", help="the shipped file, e.g. models/lesion_unet/lesion_unet.onnx")
    e.add_argument("--pool", action="append", required=True)
    e.add_argument("--studies", type=int, default=20)
    e.add_argument("--threads", type=int, default=None)
    e.add_argument("--out", default=None, help="also write the JSON here")
    e.add_argument("--report", default=None, help="also write a markdown report here (per study volumes)")
    e.add_argument("--volume-threshold", type=float, default=None,
                   help="map threshold of the volume (default: the shipped manifest's when its stride is the "
                        "network's, else 0.5)")
    x = sub.add_parser("export", help="the checkpoint as an ONNX file with the extra output lesion_map")
    x.add_argument("--checkpoint", required=True)
    x.add_argument("--out", required=True, help="the .onnx path to write")
    sh = sub.add_parser("ship", help="export to models/lesion_unet/ with its card and manifest row")
    sh.add_argument("--checkpoint", required=True)
    sh.add_argument("--evaluation", default=None, help="the JSON `evaluate --onnx ... --out` wrote")
    sh.add_argument("--volume-threshold", default=None, help="the JSON `threshold --out` wrote (else 0.5)")
    sh.add_argument("--choice", default=None, help="the JSON `choose --out` wrote, when it picked the checkpoint")
    th = sub.add_parser("threshold", help="choose the volume threshold on held-out pools (not the test pool)")
    tw = th.add_mutually_exclusive_group(required=True)
    tw.add_argument("--checkpoint")
    tw.add_argument("--onnx")
    th.add_argument("--pool", action="append", required=True)
    th.add_argument("--studies", type=int, default=40)
    th.add_argument("--threads", type=int, default=None)
    th.add_argument("--out", required=True)
    ch = sub.add_parser("choose", help="the checkpoint to ship among a run's candidates, on held-out pools (not the test pool)")
    ch.add_argument("--checkpoint", action="append", required=True, help="a candidate, repeatable")
    ch.add_argument("--pool", action="append", default=[], help="a pool for the pointing game only (no pixel spacing needed)")
    ch.add_argument("--volume-pool", action="append", required=True, help="a pool for the pointing game and the volume")
    ch.add_argument("--studies", type=int, default=40)
    ch.add_argument("--threads", type=int, default=None)
    ch.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    args.command = command_line("models.training.lesion_unet", sys.argv[1:] if argv is None else list(argv))
    if args.cmd == "export":
        print(json.dumps(export(args.checkpoint, Path(args.out))))
        return
    if args.cmd == "ship":
        print(json.dumps(ship(args.checkpoint, args.evaluation, args.volume_threshold, args.choice)))
        return
    prepare_cpu(args.threads)
    if args.cmd == "train":
        state = train(args)
        print(json.dumps({"step": state["step"], "minutes": state["minutes"], "best": state["best"]}))
        return
    if args.cmd == "choose":
        chosen = {"command": args.command, **choose_checkpoint(args.checkpoint, args.pool, args.volume_pool, args.studies)}
        Path(args.out).write_text(json.dumps(chosen, indent=1) + "\n")
        print(json.dumps({"chosen": chosen["chosen"]}))
        return
    model = load_weights(args.checkpoint, args.onnx)
    if args.cmd == "threshold":
        chosen = choose_volume_threshold(model, args.pool, args.studies)
        Path(args.out).write_text(json.dumps(chosen, indent=1) + "\n")
        print(json.dumps({k: chosen[k] for k in ("threshold", "bleeding_studies")}))
        return
    threshold = (args.volume_threshold if args.volume_threshold is not None
                 else (shipped_threshold(model.map_stride) or VOLUME_THRESHOLD))
    result = {"command": args.command, "weights": args.onnx or args.checkpoint,
              "pools": [evaluate_pool(model, p, args.studies, threshold=threshold) for p in args.pool]}
    print(json.dumps(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    if args.report:
        Path(args.report).write_text(evaluation_report(result))


if __name__ == "__main__":
    main()
