"""One synthetic head-CT study: ``generate_study(seed, index)`` is a pure function of (seed, index).

Why pure: training draws studies in any order, in parallel processes and on other machines (the GPU
box, where no dataset can be carried), and must get the very same pixels and labels each time; the
written DICOM files are byte-identical for the same (seed, index) with the same numpy/pydicom.
Labels are derived from the drawn masks: a slice carries a subtype exactly when that subtype's blood
covers at least ``MIN_LESION_PX`` pixels of it (smaller slivers are not drawn at all).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from .anatomy import CONTRAST_SHARE, Head, SliceFields
from .contract import DEFAULT_WINDOW, LABELS, SUBTYPES
from .lesions import BALANCED_PREVALENCE, DEFAULT_PREVALENCE, sample_lesions
from .scanner import Scanner, fov_mask
from .shapes import F32, Grid

#: The key of the random streams a seed's heads, lesions and scanners are drawn from.
GENERATOR_VERSION = "4"
#: What the generator makes of those streams: 4.1 lights up the small vessels of the contrast-enhanced
#: heads (``Head._build_enhancing_small_vessels``); every other study is what v4 made, pixel for pixel.
GENERATOR_REVISION = "4.1"
SIZE = 512
MIN_LESION_PX = 12
SUBTYPE_BIT = {s: 1 << i for i, s in enumerate(SUBTYPES)}

#: Storage variants seen on real scanners: (name, PixelRepresentation, BitsStored, intercept,
#: padding raw value or None). Padding goes outside the circular field of view.
STORAGE_VARIANTS = [
    ("signed16_icpt-1024_pad", 1, 16, -1024.0, -2000),   # GE-like: outside FOV -3024 HU
    ("signed16_icpt0_pad", 1, 16, 0.0, -2000),           # outside FOV -2000 HU
    ("unsigned12_icpt-1024", 0, 12, -1024.0, None),      # outside FOV raw 0 = -1024 HU
    ("signed12_icpt0_pad", 1, 12, 0.0, -2000),           # outside FOV -2000 HU, bone clipped at 2047
    ("unsigned16_icpt-1024_pad", 0, 16, -1024.0, 0),     # padding raw 0 (-1024 HU) declared
]


def _hash_int(*parts: Any, bits: int = 64) -> int:
    h = hashlib.sha256(("|".join(str(p) for p in parts)).encode()).digest()
    return int.from_bytes(h, "big") >> (256 - bits)


def uid_from(*parts: Any) -> str:
    """A valid DICOM UID under the UUID-derived root 2.25 (PS3.5 B.2), fixed by ``parts``."""
    return "2.25." + str(_hash_int("uid", *parts, bits=127) | (1 << 126))


def sop_id(seed: int, index: int, slice_index: int) -> str:
    """The 9-hex-digit RSNA-style id of a slice: a keyed 36-bit Feistel permutation of the counter
    (index, slice), so ids never collide within a dataset yet look random like RSNA's."""
    if not (0 <= slice_index < 128 and 0 <= index < (1 << 29)):
        raise ValueError("index or slice out of range for 36-bit ids")
    v = (index << 7) | slice_index
    left, right = v >> 18, v & 0x3FFFF
    for rnd in range(4):
        fk = _hash_int("feistel", seed, rnd, right, bits=18)
        left, right = right, left ^ fk
    return f"{(left << 18) | right:09x}"


@dataclass
class Study:
    hu: np.ndarray                  # float32 [Z, 512, 512], HU as a reader gets them (padding included)
    labels: np.ndarray              # uint8 [Z, 6] in LABELS order
    window: np.ndarray              # float32 [Z, 2] default (centre, width) per slice
    study_labels: np.ndarray        # uint8 [6]
    lesion_bits: np.ndarray         # uint8 [Z, 512, 512], bit i = SUBTYPES[i] blood
    raw: np.ndarray                 # stored pixel values [Z, 512, 512] (int16 or uint16)
    meta: dict = field(default_factory=dict)

    @property
    def masks(self) -> dict[str, np.ndarray]:
        """subtype -> bool [Z, 512, 512] (views computed from ``lesion_bits``)."""
        return {s: (self.lesion_bits & SUBTYPE_BIT[s]) != 0 for s in SUBTYPES}

    @property
    def ids(self) -> list[str]:
        return self.meta["ids"]

    def __len__(self) -> int:
        return self.hu.shape[0]


def _meta_rng(seed: int, index: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, index, _hash_int(stream, GENERATOR_VERSION, bits=32)]))


#: Reconstructed slice thicknesses and how often each is drawn when a study's thickness is drawn
#: (``slice_thickness=None``): thin reconstructions (0.625–1.25 mm) are read in many ICH work-ups
#: and carry more noise and less partial volume than the routine 5 mm.
THICKNESS_CHOICES = ((0.625, 0.1), (1.0, 0.05), (1.25, 0.15), (2.5, 0.15), (3.0, 0.1), (5.0, 0.45))
#: Noise grows as 1/sqrt(thickness) (fewer photons per voxel); capped, as thin-slice protocols
#: raise the dose.
MAX_THIN_NOISE_GAIN = 2.2


def generate_study(seed: int, index: int, balanced: bool = False, n_slices: int | None = None,
                   slices_min: int = 32, slices_max: int = 40, prevalence: dict | None = None,
                   slice_thickness: float | None = 5.0, overrides: dict | None = None,
                   single_subtype_share: float = 0.0, contrast_share: float | None = None) -> Study:
    """Generate study ``index`` of the dataset ``seed`` in memory (see module docstring).

    ``slice_thickness`` in mm, or None to draw it per study from THICKNESS_CHOICES (its own random
    stream: anatomy and lesions are those of the 5 mm study); a stack thinner than 5 mm covers
    only part of the head, placed at random along it, with noise scaled to the thickness.

    ``overrides`` (tests, demos) pins acquisition variants: ``storage`` (a STORAGE_VARIANTS name),
    ``windows`` ("none" | "single" | "multi"), ``transfer_syntax`` ("explicit" | "implicit"),
    ``gantry_tilt`` (degrees). Anatomy and lesions do not change with them.

    ``single_subtype_share``: the share of bleeding studies with one subtype only
    (``lesions.sample_lesions``; training pools); at 0, the default, a seed gives what it always gave.
    ``contrast_share``: the share of heads scanned with intravenous contrast (training pools that
    want more of that hard negative); None, the default, is the generator's own (``CONTRAST_SHARE``).
    """
    ov = overrides or {}
    if slice_thickness is None:
        picks, p = zip(*THICKNESS_CHOICES)
        slice_thickness = float(picks[int(_meta_rng(seed, index, "thickness").choice(len(picks), p=p))])
    if n_slices is None:
        n_slices = int(_meta_rng(seed, index, "nslices").integers(slices_min, slices_max + 1))
    if not 4 <= n_slices <= 127:
        raise ValueError("n_slices must be in 4..127")
    prev = dict(prevalence or (BALANCED_PREVALENCE if balanced else DEFAULT_PREVALENCE))
    # One stream draws, in this order, the acquisition, the seeds of the head, the scanner, the
    # lesions and the noise, the stack's top and the table position: the order is part of what a seed gives.
    rng = _meta_rng(seed, index, "geometry")
    acq = _draw_acquisition(rng, ov)
    head = Head(np.random.default_rng(rng.integers(1 << 62)), acq.grid, slice_thickness,
                CONTRAST_SHARE if contrast_share is None else contrast_share)
    scanner = Scanner(np.random.default_rng(rng.integers(1 << 62)), acq.grid, head)
    if slice_thickness < 5.0:
        scanner.noise_hu *= min(MAX_THIN_NOISE_GAIN, math.sqrt(5.0 / slice_thickness))
    lesions = sample_lesions(np.random.default_rng(rng.integers(1 << 62)), head, prev, single_subtype_share)
    noise_rng = np.random.default_rng(rng.integers(1 << 62))
    zs = _slice_heights(seed, index, head, rng, slice_thickness, n_slices, acq.tilt)
    scan = _scan_slices(head, scanner, lesions, noise_rng, zs, acq, slice_thickness)
    _drop_lost_labels(scan.labels, scan.bits)
    window = np.array([acq.windows[0] if acq.windows else DEFAULT_WINDOW] * n_slices, F32)
    meta = _study_meta(seed, index, balanced, head, lesions, acq, slice_thickness, zs, scan,
                       table_z0=round(-rng.uniform(100, 300), 2))
    if single_subtype_share:
        meta["single_subtype_share"] = single_subtype_share
    study_labels = scan.labels.max(axis=0).astype(np.uint8)
    return Study(hu=scan.hu, labels=scan.labels, window=window, study_labels=study_labels,
                 lesion_bits=scan.bits, raw=scan.raw, meta=meta)


@dataclass
class _Acquisition:
    """How one study was acquired and stored: drawn per study, or pinned by ``overrides``."""

    ps: float                  # pixel spacing (mm)
    tilt: float                # gantry tilt (degrees)
    grid: Grid
    storage: tuple             # a STORAGE_VARIANTS row
    windows: list              # (centre, width) pairs written to the window tags
    transfer_syntax: str       # "explicit" | "implicit"
    reverse_numbering: bool
    zero_padded_ds: bool


def _draw_acquisition(rng: np.random.Generator, ov: dict) -> _Acquisition:
    """Field of view, tilt, head placement, storage variant, window tags and transfer syntax."""
    u = rng.uniform
    fov = u(215.0, 250.0)
    ps = round(fov / SIZE, 6)
    tilt = float(round(u(4.0, 15.0), 1)) * (1 if rng.random() < 0.5 else -1) if rng.random() < 0.06 else 0.0
    grid = Grid(SIZE, ps, ox=u(-10, 10), oy=u(-6, 14), angle=math.radians(u(-10, 10)))
    storage = STORAGE_VARIANTS[int(rng.choice(len(STORAGE_VARIANTS), p=[0.4, 0.2, 0.2, 0.1, 0.1]))]
    wv = rng.random()
    if wv < 0.45:
        windows = [tuple(float(v) for v in [(40, 80), (35, 80), (40, 100), (30, 90), (40, 120)][int(rng.integers(5))])]
    elif wv < 0.8:
        windows = [(40.0, 80.0), (float(rng.choice([300, 500, 600, 700])), float(rng.choice([1500, 2000, 2500, 4000])))]
    else:
        windows = []
    ts = "implicit" if rng.random() < 0.15 else "explicit"
    if "storage" in ov:
        storage = next(v for v in STORAGE_VARIANTS if v[0] == ov["storage"])
    if "windows" in ov:
        windows = {"none": [], "single": [(40.0, 80.0)], "multi": [(40.0, 80.0), (600.0, 2800.0)]}[ov["windows"]]
    ts = ov.get("transfer_syntax", ts)
    tilt = float(ov.get("gantry_tilt", tilt))
    reverse_numbering = bool(rng.random() < 0.4)
    zero_padded_ds = bool(rng.random() < 0.3)   # GE writes window values like "00040"
    return _Acquisition(ps=ps, tilt=tilt, grid=grid, storage=storage, windows=windows, transfer_syntax=ts,
                        reverse_numbering=reverse_numbering, zero_padded_ds=zero_padded_ds)


def _slice_heights(seed: int, index: int, head: Head, rng: np.random.Generator, slice_thickness: float,
                   n_slices: int, tilt: float) -> list[float]:
    """Slice positions in the head frame (z, ascending): a stack ending just below the vertex, or for
    a thin stack, part of the head anywhere from the skull base up."""
    cos_t = math.cos(math.radians(tilt))
    dz = slice_thickness * cos_t                    # along the image normal
    top = head.top() - rng.uniform(0.5, 7.0)
    if slice_thickness < 5.0:
        # a thin stack covers part of the head: anywhere from the skull base to the vertex
        span = (n_slices - 1) * dz
        room = max(0.0, top - (-0.15 * head.H) - span)
        top -= float(_meta_rng(seed, index, "coverage").uniform(0.0, room))
    return [top - (n_slices - 1 - i) * dz for i in range(n_slices)]


@dataclass
class _Scan:
    """The slices as stored, with the labels and masks drawn into them."""

    hu: np.ndarray                 # float32 [Z, 512, 512]
    raw: np.ndarray                # stored values [Z, 512, 512]
    bits: np.ndarray               # uint8 [Z, 512, 512]
    labels: np.ndarray             # uint8 [Z, 6]
    outside_raw: int               # the stored value outside the field of view
    hard_by_slice: list
    streak_slices: list


def _scan_slices(head: Head, scanner: Scanner, lesions: list, noise_rng: np.random.Generator, zs: list[float],
                 acq: _Acquisition, slice_thickness: float) -> _Scan:
    """Each slice cut from the head with the lesions drawn in, then what the scanner does to it
    (holder, streaks, blur and noise, the tilt's shear) and how it is stored."""
    _name, pr, bits_stored, intercept, pad_raw = acq.storage
    if pr:
        raw_min, raw_max = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    else:
        raw_min, raw_max = 0, (1 << bits_stored) - 1
    hu_min = max(-1024.0, raw_min + intercept)
    hu_max = raw_max + intercept
    inside = fov_mask(SIZE)
    outside_raw = pad_raw if pad_raw is not None else int(round(-1024 - intercept))
    raw_dtype = np.int16 if pr else np.uint16
    Z = len(zs)
    scan = _Scan(hu=np.empty((Z, SIZE, SIZE), F32), raw=np.empty((Z, SIZE, SIZE), raw_dtype),
                 bits=np.zeros((Z, SIZE, SIZE), np.uint8), labels=np.zeros((Z, len(LABELS)), np.uint8),
                 outside_raw=outside_raw, hard_by_slice=[], streak_slices=[])
    bits = scan.bits
    occiput = head.L + head.T0 + head.scalp0 + 4.0
    # with a tilted gantry the table moves along z_patient, so the head slides along the columns
    shift_per_slice = slice_thickness * math.sin(math.radians(acq.tilt))
    for i, z in enumerate(zs):
        shift, shift_side = _midline_shift(lesions, z)
        f = head.render(z, key=i, shift=shift, shift_side=shift_side)
        img = f.hu
        _draw_lesions(img, head, f, lesions, z, head._tex(head.tex_coarse, i + 31), bits[i], scan.labels[i])
        scanner.holder_layer(img, occiput)
        if scanner.streaks(img, f.t, noise_rng):
            scan.streak_slices.append(i)
        img = scanner.blur_and_noise(img, noise_rng)
        if acq.tilt:
            off_px = (i - (Z - 1) / 2.0) * shift_per_slice / acq.ps
            img = ndimage.shift(img, (-off_px, 0.0), order=1, mode="nearest")
            bits[i] = ndimage.shift(bits[i], (-off_px, 0.0), order=0, mode="constant", cval=0)
        np.clip(img, hu_min, hu_max, out=img)
        raw = np.rint(img - F32(intercept))
        raw[~inside] = outside_raw
        scan.raw[i] = raw.astype(raw_dtype)
        scan.hu[i] = scan.raw[i].astype(F32) + F32(intercept)
        bits[i][~inside] = 0
        scan.hard_by_slice.append(sorted(f.hard_negatives))
    return scan


def _midline_shift(lesions: list, z: float) -> tuple[float, int]:
    """(shift mm, side) at height z: the largest mass effect among the lesions, away from its side."""
    shift, shift_side = 0.0, 0
    for les in lesions:
        s = les.shift_at(z)
        if s > abs(shift):
            shift, shift_side = -les.side * s, les.side
    return shift, shift_side


def _draw_lesions(img: np.ndarray, head: Head, f: SliceFields, lesions: list, z: float, tex_c: np.ndarray,
                  bits: np.ndarray, labels: np.ndarray) -> None:
    """Draw the lesions' layers into one slice (oedema first) and label it from the drawn masks, in
    place: ``bits`` and ``labels`` are the slice's rows. Slivers below MIN_LESION_PX are dropped
    (neither drawn nor labelled)."""
    drawn: dict[str, list] = {}
    for les in lesions:
        for layer in les.layers(head, f, z, tex_c):
            drawn.setdefault(les.subtype if layer.blood else "_edema", []).append(layer)
    for layer in drawn.pop("_edema", []):
        region = img[layer.box] if layer.box is not None else img
        region += layer.alpha * (layer.value - region)
    for subtype in SUBTYPES:
        layers = drawn.get(subtype, [])
        if not layers:
            continue
        m = np.zeros((SIZE, SIZE), bool)
        for layer in layers:
            sub = m[layer.box] if layer.box is not None else m
            sub |= layer.alpha >= 0.5
        if int(m.sum()) < MIN_LESION_PX:
            continue
        for layer in layers:
            region = img[layer.box] if layer.box is not None else img
            region += layer.alpha * (layer.value - region)
        bits[m] |= SUBTYPE_BIT[subtype]
        labels[LABELS.index(subtype)] = 1
    labels[LABELS.index("any")] = int(labels.max())


def _drop_lost_labels(labels: np.ndarray, bits: np.ndarray) -> None:
    """A tilt shift may push a sliver off the field of view: labels follow the final masks."""
    for i in range(labels.shape[0]):
        for subtype in SUBTYPES:
            if labels[i, LABELS.index(subtype)] and not (bits[i] & SUBTYPE_BIT[subtype]).any():
                labels[i, LABELS.index(subtype)] = 0
        labels[i, 0] = int(labels[i, 1:].max())


def _study_meta(seed: int, index: int, balanced: bool, head: Head, lesions: list, acq: _Acquisition,
                slice_thickness: float, zs: list[float], scan: _Scan, table_z0: float) -> dict:
    """What the DICOM writer and the tests need beyond the pixels: identity (clearly fake, fixed from
    the seed), acquisition, storage, and what was drawn."""
    Z = len(zs)
    _name, pr, bits_stored, intercept, pad_raw = acq.storage
    number = f"{index:04d}" if seed == 0 else f"{seed % 100000}-{index:04d}"
    date = _dt.date(2019, 1, 1) + _dt.timedelta(days=int(_hash_int("date", seed, index) % 1800))
    secs = int(_hash_int("time", seed, index) % 86400)
    return dict(
        generator=f"models.phantom v{GENERATOR_REVISION}",
        seed=seed, index=index, n_slices=Z,
        study_uid=uid_from("study", seed, index),
        series_uid=uid_from("series", seed, index),
        frame_uid=uid_from("frame", seed, index),
        ids=[sop_id(seed, index, i) for i in range(Z)],
        patient_name=f"PHANTOM^{number}", patient_id=f"PHANTOM-{number}",
        accession=f"PH{_hash_int('acc', seed, index) % 10**10:010d}",
        study_date=date.strftime("%Y%m%d"), study_time=f"{secs // 3600:02d}{secs // 60 % 60:02d}{secs % 60:02d}",
        patient_sex="MF"[int(_hash_int("sex", seed, index) % 2)],
        patient_age=f"{int(18 + head.age * 72):03d}Y",
        pixel_spacing=acq.ps, slice_thickness=slice_thickness, gantry_tilt=acq.tilt,
        z_head=[round(z, 3) for z in zs],
        storage=dict(name=_name, pixel_representation=pr, bits_stored=bits_stored, intercept=intercept,
                     slope=1.0, padding_raw=pad_raw, outside_fov_raw=scan.outside_raw),
        windows=acq.windows, zero_padded_ds=acq.zero_padded_ds, transfer_syntax=acq.transfer_syntax,
        reverse_instance_numbers=acq.reverse_numbering, table_z0=table_z0,
        head=dict(W=round(head.W, 1), L=round(head.L, 1), H=round(head.H, 1), age=round(head.age, 2),
                  atrophy=round(head.atrophy, 2), calcifications=[c[0] for c in head.calc],
                  contrast=head.contrast),
        lesions=[les.describe() for les in lesions],
        hard_negatives=scan.hard_by_slice, streak_slices=scan.streak_slices,
        balanced=balanced,
    )
