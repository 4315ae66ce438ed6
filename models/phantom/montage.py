"""Montage PNGs so a person can judge realism: every slice under the brain window (40/80) and, on a
second panel, under the subdural window (80/200) with each subtype's drawn blood outlined in colour
and a row of five squares per tile lit for the slice's labels (epidural, intraparenchymal,
intraventricular, subarachnoid, subdural, in project order).

Why: a phantom that looks wrong to a radiologist teaches the models wrong things; looking is the
cheapest check. Reads either an in-memory ``Study`` or a folder of DICOM files (with labels from a
``stage_2_train.csv`` next to it or one level up when present).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import ndimage

from .contract import BRAIN_WINDOW, LABELS, SUBDURAL_WINDOW, SUBTYPES
from .png import window_u8, write_png

COLOURS = {"epidural": (255, 60, 60), "intraparenchymal": (255, 220, 0), "intraventricular": (0, 220, 255),
           "subarachnoid": (60, 255, 60), "subdural": (255, 0, 255)}


def _tile(hu: np.ndarray, masks: dict | None, labels: np.ndarray | None, step: int) -> np.ndarray:
    a = window_u8(hu[::step, ::step], *BRAIN_WINDOW)
    b = window_u8(hu[::step, ::step], *SUBDURAL_WINDOW)
    b = np.repeat(b[:, :, None], 3, axis=2)
    if masks:
        for s, m in masks.items():
            small = m[::step, ::step]
            if small.any():
                edge = small & ~ndimage.binary_erosion(small)
                b[edge] = COLOURS[s]
    if labels is not None:
        for k, s in enumerate(SUBTYPES):
            colour = COLOURS[s] if labels[LABELS.index(s)] else (40, 40, 40)
            b[2:8, 2 + 8 * k:8 + 8 * k] = colour
    a = np.repeat(a[:, :, None], 3, axis=2)
    return np.concatenate([a, np.full((a.shape[0], 2, 3), 90, np.uint8), b], axis=1)


def montage_arrays(hu: np.ndarray, masks: dict | None = None, labels: np.ndarray | None = None,
                   columns: int = 4, step: int = 2, slices: list[int] | None = None) -> np.ndarray:
    idx = list(range(hu.shape[0])) if slices is None else list(slices)
    tiles = [_tile(hu[i], {s: m[i] for s, m in masks.items()} if masks else None,
                   labels[i] if labels is not None else None, step) for i in idx]
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    out = np.full((rows * (h + 4), columns * (w + 4), 3), 20, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, columns)
        out[r * (h + 4):r * (h + 4) + h, c * (w + 4):c * (w + 4) + w] = t
    return out


def montage_study(study, out: str | Path, columns: int = 4, step: int = 2, slices: list[int] | None = None) -> Path:
    return write_png(out, montage_arrays(study.hu, study.masks, study.labels, columns, step, slices))


def _labels_for(folder: Path, sops: list[str]) -> np.ndarray | None:
    for cand in (folder / "stage_2_train.csv", folder.parent / "stage_2_train.csv"):
        if cand.exists():
            table: dict[str, dict[str, int]] = {}
            with cand.open(newline="") as f:
                for row in csv.DictReader(f):
                    sop, _, label = row["ID"].rpartition("_")
                    table.setdefault(sop, {})[label] = int(row["Label"])
            return np.array([[table.get(s, {}).get(lab, 0) for lab in LABELS] for s in sops], np.uint8)
    return None


def montage_folder(folder: str | Path, out: str | Path, columns: int = 4, step: int = 2,
                   slices: list[int] | None = None) -> Path:
    folder = Path(folder)
    from .dicom_io import read_series

    series = read_series(folder)
    hu, sops = series.hu, series.sops
    labels = _labels_for(folder, sops)
    masks = None
    mask_file = folder / "masks.npz"
    if mask_file.exists():   # written by `generate --masks`
        with np.load(mask_file) as z:
            order = {s: k for k, s in enumerate(z["ids"].tolist())}
            bits = z["bits"][[order[s] for s in sops]]
        masks = {s: (bits & (1 << k)) != 0 for k, s in enumerate(SUBTYPES)}
    return write_png(out, montage_arrays(hu, masks, labels, columns, step, slices))


def gallery(out_dir: str | Path, seed: int = 0, step: int = 2) -> list[Path]:
    """One small PNG per subtype (for the docs): the first balanced-mode study of ``seed`` whose
    bleed of that subtype spans at least 3 slices, at the 3 slices where it is largest."""
    from .study import generate_study

    out = Path(out_dir)
    written = []
    for s in SUBTYPES:
        prev = {"any": 1.0, **{t: (1.0 if t == s else 0.0) for t in SUBTYPES}}
        for index in range(60):
            st = generate_study(seed, index, prevalence=prev)
            area = st.masks[s].reshape(len(st), -1).sum(1)
            if (area > 0).sum() >= 3:
                break
        best = sorted(np.argsort(area)[-3:].tolist())
        written.append(write_png(out / f"{s}.png", montage_arrays(st.hu, st.masks, st.labels, columns=3, step=step, slices=best)))
    return written
