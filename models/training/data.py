"""Training data: the RSNA-format folder reader and the phantom stream, both split by study.

Every sample is ``(hu [1, 512, 512] float32, window [2] float32, labels [6] float32)``: exactly the
model contract's inputs, so the training graph sees what the app feeds the ONNX graph.

* ``RsnaFolder`` reads a folder of ``ID_*.dcm`` plus ``stage_2_train.csv`` (rows
  ``ID_<sop>_<label>,<0|1>``), as the RSNA 2019 download and ``models.phantom.generate_dataset``
  lay it out. It splits by StudyInstanceUID (never by slice), deterministically.
* ``PhantomSlices`` draws studies straight from ``models.phantom.generate_study(seed, index)`` (a
  pure function) and yields shuffled slices; train and held-out sets use different seeds.
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from .contract import DEFAULT_WINDOW, INPUT_SIZE, LABELS, NUM_LABELS, RUNS_DIR

Sample = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]


# --------------------------------------------------------------------------- DICOM -> HU

def resample(hu: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Bilinear resample of a 2-D slice to size x size (no-op when already that size)."""
    if hu.shape == (size, size):
        return hu.astype(np.float32, copy=False)
    t = torch.from_numpy(np.ascontiguousarray(hu, dtype=np.float32))[None, None]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


@dataclass
class DicomSlice:
    hu: np.ndarray            # [512, 512] float32
    window: np.ndarray        # [2] float32 (centre, width)
    sop_id: str               # file stem, e.g. "ID_12cadc6af"
    study_uid: str
    hu_correction: Optional[str] = None   # why the stored values were not read as the header says (dicom_io.stored_to_hu)


def read_dicom(path: os.PathLike) -> DicomSlice:
    """HU = raw x RescaleSlope + RescaleIntercept (12-bit two's complement labelled unsigned read as
    what it is, as the app reads it: dicom_io.stored_to_hu); window from the tags (brain 40/80 when absent)."""
    import pydicom

    from models.phantom.dicom_io import first_value, stored_to_hu   # with pydicom: only where DICOM is read

    with warnings.catch_warnings():
        # RSNA files carry SOPInstanceUID "ID_<hex>", not a valid UI value; pydicom warns per file.
        warnings.simplefilter("ignore", UserWarning)
        ds = pydicom.dcmread(str(path))
        raw = ds.pixel_array
    if raw.ndim == 3:  # multi-frame: the contract is one slice; take the first frame
        raw = raw[0]
    hu, correction = stored_to_hu(ds, raw)
    hu = resample(hu)
    center = first_value(ds.get("WindowCenter"))
    width = first_value(ds.get("WindowWidth"))
    if center is None or width is None or not math.isfinite(center) or not math.isfinite(width) or width <= 0:
        center, width = DEFAULT_WINDOW
    return DicomSlice(
        hu=hu.astype(np.float32),
        window=np.array([center, width], dtype=np.float32),
        sop_id=Path(path).stem,
        study_uid=str(getattr(ds, "StudyInstanceUID", "")),
        hu_correction=correction,
    )


# --------------------------------------------------------------------------- splits

def study_fold(study_uid: str, split_seed: int = 0, buckets: int = 1000) -> float:
    """A study's deterministic position in [0, 1): the same study always lands in the same split."""
    h = hashlib.sha1(f"{split_seed}:{study_uid}".encode("utf-8")).hexdigest()
    return (int(h[:12], 16) % buckets) / buckets


def split_of(study_uid: str, val_fraction: float, test_fraction: float = 0.0, split_seed: int = 0) -> str:
    f = study_fold(study_uid, split_seed)
    if f < test_fraction:
        return "test"
    if f < test_fraction + val_fraction:
        return "val"
    return "train"


# --------------------------------------------------------------------------- RSNA folder

def read_label_csv(path: os.PathLike) -> Dict[str, np.ndarray]:
    """``stage_2_train.csv`` -> {sop id ("ID_<sop>"): labels [6] uint8 in contract order}."""
    index = {label: i for i, label in enumerate(LABELS)}
    out: Dict[str, np.ndarray] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if not row or row[0] == "ID":
                continue
            sop, _, label = row[0].rpartition("_")
            if label not in index or not row[1].strip():
                continue
            out.setdefault(sop, np.zeros(NUM_LABELS, dtype=np.uint8))[index[label]] = int(float(row[1]))
    return out


class RsnaFolder(Dataset):
    """A folder of ``ID_*.dcm`` (searched recursively) and its ``stage_2_train.csv``.

    Only files with a label row are used. The StudyInstanceUID of every file is read once (header
    only) and cached in ``runs/index-<hash>.csv`` so a 750 k-slice download is indexed only once.
    """

    def __init__(self, root: os.PathLike, split: Optional[str] = None, val_fraction: float = 0.1,
                 test_fraction: float = 0.0, split_seed: int = 0, csv_path: Optional[os.PathLike] = None,
                 cache_dir: Optional[os.PathLike] = None) -> None:
        self.root = Path(root)
        self.cache_dir = Path(cache_dir) if cache_dir else RUNS_DIR
        labels = read_label_csv(csv_path or self.root / "stage_2_train.csv")
        entries = [e for e in self._index() if e[0] in labels]
        if split is not None:
            entries = [e for e in entries if split_of(e[2], val_fraction, test_fraction, split_seed) == split]
        self.entries: List[Tuple[str, Path, str]] = entries
        self.labels = np.stack([labels[e[0]] for e in entries]) if entries else np.zeros((0, NUM_LABELS), np.uint8)

    def _index(self) -> List[Tuple[str, Path, str]]:
        import pydicom

        files = sorted(p for p in self.root.rglob("ID_*.dcm"))
        key = hashlib.sha1(f"{self.root.resolve()}:{len(files)}".encode()).hexdigest()[:16]
        cache = self.cache_dir / f"index-{key}.csv"
        if cache.exists():
            with open(cache, newline="", encoding="utf-8") as f:
                return [(r[0], self.root / r[1], r[2]) for r in csv.reader(f)]
        rows = []
        for p in files:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # see read_dicom
                ds = pydicom.dcmread(str(p), stop_before_pixels=True, specific_tags=["StudyInstanceUID"])
            rows.append((p.stem, p, str(getattr(ds, "StudyInstanceUID", p.stem))))
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(cache, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([(s, str(p.relative_to(self.root)), u) for s, p, u in rows])
        return rows

    @property
    def study_uids(self) -> List[str]:
        return [e[2] for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> Sample:
        s = read_dicom(self.entries[i][1])
        return (torch.from_numpy(s.hu)[None], torch.from_numpy(s.window),
                torch.from_numpy(self.labels[i].astype(np.float32)))


# --------------------------------------------------------------------------- phantoms

def _phantom():
    # Imported lazily so that the reader and the models work where the generator is absent.
    import models.phantom as phantom

    if tuple(phantom.LABELS) != LABELS:
        raise RuntimeError(f"phantom label order {phantom.LABELS} differs from the contract {LABELS}")
    return phantom


def phantom_study(seed: int, index: int, balanced: bool) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hu [Z,512,512] float32, window [Z,2] float32, labels [Z,6] uint8) of one phantom study."""
    st = _phantom().generate_study(seed, index, balanced=balanced)
    return (np.asarray(st.hu, np.float32), np.asarray(st.window, np.float32), np.asarray(st.labels, np.uint8))


class PhantomSlices(IterableDataset):
    """Slices drawn from phantom studies ``index in [first, first + n_studies)`` of ``seed``.

    Each pass visits the studies in a shuffled order, takes ``slices_per_study`` random slices
    from each (all when None), and shuffles them through a buffer of ``buffer`` slices. With
    ``passes=None`` it cycles forever (a training stream); pass p reshuffles with (seed, p).
    DataLoader workers share the studies out by index.
    """

    def __init__(self, seed: int, n_studies: int, balanced: bool = True, slices_per_study: Optional[int] = None,
                 first: int = 0, passes: Optional[int] = 1, buffer: int = 64, shuffle_seed: int = 0) -> None:
        self.seed, self.n_studies, self.balanced = seed, n_studies, balanced
        self.slices_per_study, self.first, self.passes = slices_per_study, first, passes
        self.buffer, self.shuffle_seed = buffer, shuffle_seed

    def __iter__(self) -> Iterator[Sample]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        p = 0
        while self.passes is None or p < self.passes:
            rng = np.random.default_rng([self.shuffle_seed, self.seed, p, wid])
            order = rng.permutation(self.n_studies)
            buf: List[Sample] = []
            for k in order:
                if k % nw != wid:
                    continue
                hu, win, lab = phantom_study(self.seed, self.first + int(k), self.balanced)
                z = np.arange(hu.shape[0])
                if self.slices_per_study is not None and self.slices_per_study < len(z):
                    z = rng.choice(z, self.slices_per_study, replace=False)
                for i in z:
                    buf.append((torch.from_numpy(hu[i].copy())[None], torch.from_numpy(win[i].copy()),
                                torch.from_numpy(lab[i].astype(np.float32))))
                while len(buf) > self.buffer:
                    yield buf.pop(int(rng.integers(len(buf))))
            rng.shuffle(buf)  # type: ignore[arg-type]
            yield from buf
            p += 1


def phantom_arrays(seed: int, n_studies: int, balanced: bool = True, slices_per_study: Optional[int] = None,
                   sample_seed: int = 0) -> Dict[str, np.ndarray]:
    """A fixed held-out set as arrays: hu [M,1,512,512], window [M,2], labels [M,6], study [M]."""
    rng = np.random.default_rng([sample_seed, seed])
    hus, wins, labs, studies = [], [], [], []
    for k in range(n_studies):
        hu, win, lab = phantom_study(seed, k, balanced)
        z = np.arange(hu.shape[0])
        if slices_per_study is not None and slices_per_study < len(z):
            z = np.sort(rng.choice(z, slices_per_study, replace=False))
        hus.append(hu[z]); wins.append(win[z]); labs.append(lab[z]); studies.append(np.full(len(z), k))
    return {"hu": np.concatenate(hus)[:, None], "window": np.concatenate(wins),
            "labels": np.concatenate(labs), "study": np.concatenate(studies)}


def label_prevalence(labels: np.ndarray) -> np.ndarray:
    return labels.reshape(-1, NUM_LABELS).mean(axis=0)


def positive_weights(labels: np.ndarray, cap: float = 10.0) -> np.ndarray:
    """Class weights for BCE: (negatives / positives) per label, clipped to [1, cap] (ours).

    Rare subtypes (epidural) get larger weights so they are learned harder (SEEDS.md).
    """
    p = np.clip(label_prevalence(labels.astype(np.float64)), 1e-6, 1.0)
    return np.clip((1 - p) / p, 1.0, cap).astype(np.float32)


def flip_batch(hu: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Horizontal and vertical flips, each with probability 1/2, per slice (Barin et al.)."""
    n = hu.shape[0]
    h = torch.rand(n, generator=generator) < 0.5
    v = torch.rand(n, generator=generator) < 0.5
    out = hu.clone()
    out[h] = out[h].flip(-1)
    out[v] = out[v].flip(-2)
    return out


def stack_samples(samples: Sequence[Sample]) -> Sample:
    hu, win, lab = zip(*samples)
    return torch.stack(hu), torch.stack(win), torch.stack(lab)
