"""Synthetic hemorrhage drawn into real head-CT slices: real anatomy, known labels.

Why: the phantom's anatomy is schematic (see README), and a network trained only on it flags real
skull bases and misses real bleeds. A real head CT without labels still teaches what real normal
anatomy, real noise and real partial volume look like, once bleeds with exact masks are drawn into
it: the same real slice appears both with and without blood, so the head itself predicts nothing
and only the blood does. One head is too few to learn anatomy from, so every variant is also
warped by a smooth random displacement field before anything is drawn, and training mixes these
slices with phantoms (``models.training.pool build-inserted``).

Everything is 2-D and per slice (the slice networks see one slice): the anatomy is segmented by HU
rules only (skull, intracranial space, parenchyma, CSF, ventricles), and each subtype is drawn where
it lives:

* epidural: a biconvex lens on the inner table, short arc (0.35–0.9 rad), 4–28 mm thick;
* subdural: a crescent along the inner table, long arc (0.6–2.2 rad), 1.5–18 mm (thin ones are the
  ones that are missed);
* intraparenchymal: an irregular blob in parenchyma (deep or lobar) with an oedema rim, or a few
  small cortical contusions;
* intraventricular: a dependent layer with a flat level, a cast, or a small fleck in the most
  posterior part of a ventricle;
* subarachnoid: blood replacing (partly) the CSF of the sulci in an arc near the surface, or of the
  deep CSF spaces (cisterns, fissures) outside the ventricles.

Blood density and texture are the phantom's (``lesions.sample_blood`` and ``blood_texture``: acute
55–85 HU, 15 % subacute 38–52, 2–6 HU heterogeneity, sometimes a hypodense swirl); the slice's own
noise texture is kept inside the blood (blood is blended over the high-pass of the
original), and edges are partial-volume blurred. A subtype is labelled on a slice when its blood
covers at least ``MIN_LESION_PX`` pixels, the phantom's rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

from .contract import SUBTYPES
from .hu_masks import enclosed_by_bone
from .lesions import blood_texture, sample_blood
from .shapes import smooth_noise
from .study import MIN_LESION_PX

F32 = np.float32
SUBTYPE_BIT = {s: 1 << i for i, s in enumerate(SUBTYPES)}
#: Slices whose intracranial space is smaller than this (cm²) are skipped: the vertex cap, the neck.
MIN_INTRACRANIAL_CM2 = 12.0


@dataclass
class RealSeries:
    """One real axial series, ordered inferior to superior, HU as a DICOM reader gets them."""

    hu: np.ndarray            # float32 [Z, 512, 512]
    window: np.ndarray        # float32 [Z, 2]
    pixel_mm: float           # in-plane pixel spacing (mm)
    z_mm: np.ndarray          # float32 [Z] position along the patient axis
    files: List[str]


def load_series(folder: str | Path) -> RealSeries:
    """Every CT slice of ``folder`` (``*.dcm``, read by ``dicom_io.read_series``), 512 × 512 after
    resampling, in order from inferior to superior."""
    from .dicom_io import read_series

    s = read_series(folder)
    hu, scale = s.hu, 1.0
    if hu.shape[1:] != (512, 512):
        scale = hu.shape[1] / 512
        hu = ndimage.zoom(hu, (1, 512 / hu.shape[1], 512 / hu.shape[2]), order=1).astype(F32)
    return RealSeries(hu=hu, window=s.window, pixel_mm=float(np.nanmedian(s.pixel_mm)) * scale, z_mm=s.position,
                      files=s.files)


# --------------------------------------------------------------------------- anatomy by HU rules

@dataclass
class SliceAnatomy:
    intracranial: np.ndarray   # bool: the space inside the skull (soft tissue and CSF)
    parenchyma: np.ndarray     # bool: brain tissue, 15–60 HU after a small median filter
    csf: np.ndarray            # bool: -15–15 HU inside the intracranial space
    ventricles: np.ndarray     # bool: CSF components deep in the brain
    depth_mm: np.ndarray       # float32: distance to the edge of the intracranial space (mm)
    center: Tuple[float, float]


def segment(hu: np.ndarray, pixel_mm: float) -> Optional[SliceAnatomy]:
    """The slice's intracranial anatomy, or None where there is too little brain to draw into."""
    smooth = ndimage.median_filter(hu, size=3)
    inside = enclosed_by_bone(smooth > 250)
    soft = inside & (smooth > -20) & (smooth < 110)
    soft = ndimage.binary_opening(soft, iterations=2)
    lab, n = ndimage.label(soft)
    if n == 0:
        return None
    min_px = MIN_INTRACRANIAL_CM2 * 100 / (pixel_mm ** 2) / 4  # a component may be a quarter of it
    keep = np.zeros(n + 1, bool)
    areas = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
    medians = [float(np.median(smooth[lab == i])) for i in range(1, n + 1)]
    for i, (a, m) in enumerate(zip(areas, medians), start=1):
        # Brain has a median of 20–45 HU; the vitreous (≈10), fat and muscle of the face do not pass.
        keep[i] = a >= min_px and 18 <= m <= 50
    intracranial = keep[lab]
    if intracranial.sum() * pixel_mm ** 2 / 100 < MIN_INTRACRANIAL_CM2:
        return None
    intracranial = ndimage.binary_fill_holes(intracranial)
    depth = ndimage.distance_transform_edt(intracranial).astype(F32) * F32(pixel_mm)
    parenchyma = intracranial & (smooth >= 15) & (smooth <= 60)
    csf = intracranial & (smooth > -15) & (smooth < 15)
    lab_c, nc = ndimage.label(csf & (depth > 12))
    ventricles = np.zeros_like(csf)
    if nc:
        sizes = ndimage.sum_labels(np.ones_like(lab_c), lab_c, index=np.arange(1, nc + 1))
        big = np.flatnonzero(sizes * pixel_mm ** 2 >= 25) + 1   # ≥ 0.25 cm²: a ventricle, not a sulcus
        ventricles = np.isin(lab_c, big)
    cy, cx = ndimage.center_of_mass(intracranial)
    return SliceAnatomy(intracranial=intracranial, parenchyma=parenchyma, csf=csf, ventricles=ventricles,
                        depth_mm=depth, center=(float(cy), float(cx)))


# --------------------------------------------------------------------------- drawing

def _angles(shape: Tuple[int, int], center: Tuple[float, float]) -> np.ndarray:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return np.arctan2(yy - center[0], xx - center[1]).astype(F32)


def _arc(theta: np.ndarray, t0: float, half: float) -> np.ndarray:
    """Position along an arc of half-width ``half`` around ``t0``: -1..1 inside, |.|>1 outside."""
    d = np.angle(np.exp(1j * (theta - t0)))
    return (d / half).astype(F32)


def _edge_angle(rng: np.random.Generator, anat: SliceAnatomy, theta: np.ndarray) -> float:
    rim = anat.intracranial & (anat.depth_mm < 1.5)
    ys, xs = np.nonzero(rim)
    k = int(rng.integers(len(ys)))
    return float(theta[ys[k], xs[k]])


def draw_epidural(rng, anat: SliceAnatomy, theta: np.ndarray) -> np.ndarray:
    a = _arc(theta, _edge_angle(rng, anat, theta), float(rng.uniform(0.35, 0.9)) / 2)
    thick = float(4 + 24 * rng.random() ** 1.5)
    profile = thick * np.sqrt(np.clip(1 - a ** 2, 0, 1))   # biconvex: blunt, steep ends
    return anat.intracranial & (anat.depth_mm < profile)


def draw_subdural(rng, anat: SliceAnatomy, theta: np.ndarray) -> np.ndarray:
    a = _arc(theta, _edge_angle(rng, anat, theta), float(rng.uniform(0.6, 2.2)) / 2)
    thick = float(1.5 + 16.5 * rng.random() ** 2.2)         # many thin ones
    profile = thick * np.clip(1 - a ** 2, 0, 1) ** 0.35     # crescent: long tapering ends
    wobble = 1 + 0.15 * ndimage.zoom(ndimage.gaussian_filter(rng.standard_normal((64, 64)).astype(F32), 1.5) * 6,
                                      (theta.shape[0] / 64, theta.shape[1] / 64), order=1)
    return anat.intracranial & (anat.depth_mm < profile * wobble)


def _blob(rng, shape, cy: float, cx: float, r_px: float) -> np.ndarray:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    ang = np.arctan2(yy - cy, xx - cx)
    rad = np.hypot(yy - cy, xx - cx)
    outline = r_px * (1 + sum(rng.uniform(0, 0.18) * np.cos(k * ang + rng.uniform(0, 2 * np.pi)) for k in range(2, 6)))
    squash = rng.uniform(0.6, 1.0)
    phi = rng.uniform(0, np.pi)
    u = (xx - cx) * np.cos(phi) + (yy - cy) * np.sin(phi)
    v = -(xx - cx) * np.sin(phi) + (yy - cy) * np.cos(phi)
    rad = np.hypot(u, v / squash)
    return rad < outline


def draw_parenchymal(rng, anat: SliceAnatomy, pixel_mm: float) -> Tuple[np.ndarray, np.ndarray]:
    """(blood, oedema) masks."""
    shape = anat.intracranial.shape
    blood = np.zeros(shape, bool)
    if rng.random() < 0.3:  # contusions: a few small blobs under the surface
        spots = int(rng.integers(1, 4))
        cand = np.argwhere(anat.parenchyma & (anat.depth_mm > 4) & (anat.depth_mm < 16))
        for _ in range(spots):
            if len(cand) == 0:
                break
            cy, cx = cand[int(rng.integers(len(cand)))]
            blood |= _blob(rng, shape, cy, cx, rng.uniform(2.5, 8) / pixel_mm)
    else:
        r_mm = float(4 + 26 * rng.random() ** 1.6)
        cand = np.argwhere(anat.parenchyma & (anat.depth_mm > min(r_mm + 4, 30)))
        if len(cand) == 0:
            cand = np.argwhere(anat.parenchyma & (anat.depth_mm > 6))
        if len(cand) == 0:
            return blood, blood
        cy, cx = cand[int(rng.integers(len(cand)))]
        blood = _blob(rng, shape, cy, cx, r_mm / pixel_mm)
    blood &= anat.intracranial & (anat.depth_mm > 1.0)
    rim_px = max(1, int(round(rng.uniform(1, 7) / pixel_mm)))
    oedema = ndimage.binary_dilation(blood, iterations=rim_px) & ~blood & anat.parenchyma
    return blood, oedema


def draw_ventricular(rng, anat: SliceAnatomy) -> np.ndarray:
    v = anat.ventricles
    if v.sum() < MIN_LESION_PX:
        return np.zeros_like(v)
    ys = np.nonzero(v)[0]
    mode = rng.random()
    if mode < 0.45:   # layering: dependent (posterior: larger row in a supine head) below a flat level
        level = np.quantile(ys, rng.uniform(0.55, 0.95))
        return v & (np.arange(v.shape[0])[:, None] > level)
    if mode < 0.75:   # a cast of one or all components
        lab, n = ndimage.label(v)
        if n > 1 and rng.random() < 0.5:
            return lab == int(rng.integers(1, n + 1))
        return v.copy()
    level = np.quantile(ys, rng.uniform(0.93, 0.985))     # a fleck in the most dependent part
    return v & (np.arange(v.shape[0])[:, None] > level)


def draw_subarachnoid(rng, anat: SliceAnatomy, theta: np.ndarray) -> np.ndarray:
    deep = anat.csf & ~anat.ventricles & (anat.depth_mm > 15)
    if rng.random() < 0.35 and deep.sum() >= 3 * MIN_LESION_PX:  # cisterns and fissures
        share = rng.uniform(0.4, 1.0)
        noise = smooth_noise(rng, deep.shape, 6)
        return deep & (noise > np.quantile(noise[deep], 1 - share))
    a = _arc(theta, _edge_angle(rng, anat, theta), float(rng.uniform(0.3, 1.6)) / 2)
    sulci = anat.csf & ~anat.ventricles & (anat.depth_mm < rng.uniform(10, 30)) & (np.abs(a) <= 1)
    # Sulcal blood also tints the thin CSF a threshold misses: grow a pixel into the edges.
    return ndimage.binary_dilation(sulci, iterations=1) & anat.intracranial & ~anat.ventricles


def _without_specks(mask: np.ndarray, min_px: int = 6) -> np.ndarray:
    """Drop drawn components under ``min_px`` pixels: after the partial-volume blur they would be
    faint tints below the labelling threshold, blood on the slice that no label admits to."""
    lab, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
    keep = np.zeros(n + 1, bool)
    keep[1:] = sizes >= min_px
    return keep[lab]


def _paint(rng, hu: np.ndarray, mask: np.ndarray, highpass: np.ndarray, blood: Dict[str, float],
           mix: float = 1.0) -> np.ndarray:
    """Blend blood over ``hu`` where ``mask`` (partial-volume edge); returns the coverage (0..1)."""
    if not mask.any():
        return np.zeros(hu.shape, F32)
    alpha = ndimage.gaussian_filter(mask.astype(F32), float(rng.uniform(0.5, 0.9))) * F32(mix)
    alpha = np.clip(alpha, 0, 1)
    tex = blood_texture(blood, smooth_noise(rng, hu.shape, 2.5))   # the phantom's blood, on real anatomy
    hu += alpha * (tex + highpass - hu)
    return alpha


def insert(rng: np.random.Generator, hu: np.ndarray, anat: SliceAnatomy, subtypes: Sequence[str],
           pixel_mm: float) -> Tuple[np.ndarray, np.ndarray]:
    """Draw ``subtypes`` into a copy of ``hu``: (hu float32, lesion bits uint8, bit i = SUBTYPES[i])."""
    out = hu.astype(F32, copy=True)
    highpass = np.clip(hu - ndimage.gaussian_filter(hu, 1.5), -12, 12).astype(F32)
    bits = np.zeros(hu.shape, np.uint8)
    theta = _angles(hu.shape, anat.center)
    for s in subtypes:
        blood = sample_blood(rng, acute_p=0.85)
        mix = 1.0
        if s == "epidural":
            m = draw_epidural(rng, anat, theta)
        elif s == "subdural":
            m = draw_subdural(rng, anat, theta)
        elif s == "intraparenchymal":
            m, oedema = draw_parenchymal(rng, anat, pixel_mm)
            if oedema.any():
                drop = ndimage.gaussian_filter(oedema.astype(F32), 1.5) * F32(rng.uniform(4, 12))
                out -= drop * anat.intracranial
        elif s == "intraventricular":
            m = draw_ventricular(rng, anat)
        else:
            m = draw_subarachnoid(rng, anat, theta)
            mix = float(rng.uniform(0.75, 1.0))  # sulcal blood mixes with CSF
            blood["hu"] = max(blood["hu"], 55.0)  # visible SAH is acute: subacute blood in CSF is near-isodense
        m = _without_specks(m)
        alpha = _paint(rng, out, m, highpass, blood, mix)
        bits[(alpha >= 0.5 * mix) & m] |= SUBTYPE_BIT[s]
    return out, bits


def warp(rng: np.random.Generator, hu: np.ndarray, amplitude_px: float, smooth_px: float) -> np.ndarray:
    """A smooth random displacement field applied to the slice: a different head shape each time.

    The field is drawn on a grid 8× coarser and interpolated up: the same smoothness for a
    64th of the filtering cost."""
    shape = hu.shape
    coarse = (shape[0] // 8, shape[1] // 8)
    field = []
    for _ in range(2):
        d = ndimage.gaussian_filter(rng.standard_normal(coarse).astype(F32), smooth_px / 8, mode="wrap")
        d = ndimage.zoom(d, (shape[0] / coarse[0], shape[1] / coarse[1]), order=1)
        d *= F32(amplitude_px / (float(np.abs(d).max()) + 1e-6))
        field.append(d)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(F32)
    return ndimage.map_coordinates(hu, [yy + field[0], xx + field[1]], order=1, mode="nearest").astype(F32)


#: P(subtype | the slice bleeds), ventricles permitting; several subtypes can be drawn at once.
SUBTYPE_WEIGHTS = {"epidural": 0.12, "intraparenchymal": 0.22, "intraventricular": 0.16,
                   "subarachnoid": 0.24, "subdural": 0.26}


def variant(series: RealSeries, seed: int, index: int, slices: Sequence[int], p_bleed: float = 0.55
            ) -> Dict[str, np.ndarray]:
    """Variant ``index`` of ``seed`` of the chosen real slices: each warped, about ``p_bleed`` of them
    with 1–3 subtypes drawn in. Pure function of its arguments. Returns hu (int16-exact float32),
    labels [Z, 6] (``any`` first), window [Z, 2], bits [Z, 512, 512] and the source slice numbers."""
    rng = np.random.default_rng([seed, index, 0xB100D])
    hus, labs, bitss, wins, src = [], [], [], [], []
    for z in slices:
        hu = warp(rng, series.hu[z], float(rng.uniform(2, 9)), float(rng.uniform(25, 60)))
        anat = segment(hu, series.pixel_mm)
        chosen: List[str] = []
        # A slice with no room to draw in (skull base, vertex cap) is still a real negative: kept.
        if anat is not None and rng.random() < p_bleed:
            names = list(SUBTYPE_WEIGHTS)
            w = np.array([SUBTYPE_WEIGHTS[n] for n in names])
            if anat.ventricles.sum() < 4 * MIN_LESION_PX:
                w[names.index("intraventricular")] = 0
            k = 1 + int(rng.random() < 0.3) + int(rng.random() < 0.1)
            chosen = list(rng.choice(names, size=min(k, int((w > 0).sum())), replace=False, p=w / w.sum()))
        hu2, bits = insert(rng, hu, anat, chosen, series.pixel_mm) if chosen else (hu, np.zeros(hu.shape, np.uint8))
        lab = np.zeros(1 + len(SUBTYPES), np.uint8)
        for i, s in enumerate(SUBTYPES):
            lab[1 + i] = int(((bits & SUBTYPE_BIT[s]) != 0).sum() >= MIN_LESION_PX)
        lab[0] = lab[1:].max()
        hus.append(np.rint(hu2)); labs.append(lab); bitss.append(bits); wins.append(series.window[z]); src.append(z)
    return {"hu": np.stack(hus).astype(F32), "labels": np.stack(labs), "window": np.stack(wins).astype(F32),
            "bits": np.stack(bitss), "source": np.asarray(src, np.int32)}


def usable_slices(series: RealSeries) -> List[int]:
    """Slices with enough intracranial space to draw into (not the vertex cap or the neck)."""
    return [z for z in range(len(series.hu)) if segment(series.hu[z], series.pixel_mm) is not None]


def split_slices(n_slices: int, every: int = 5, offset: int = 2) -> Tuple[List[int], List[int]]:
    """(training, held-out) slice numbers: every ``every``-th slice is held out, so the held-out
    slices span the head from the skull base to the vertex."""
    held = [z for z in range(n_slices) if z % every == offset % every]
    return [z for z in range(n_slices) if z not in held], held


#: The parts of a real series a pool or dataset can be drawn from.
PARTS = ("train", "held-out", "all")


def part_slices(n_slices: int, part: str) -> List[int]:
    """The slice numbers of ``part``: the training slices, the held-out ones (every fifth), or every
    slice, for a series that no training pool reads (another patient and scanner to measure on)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    train, held = split_slices(n_slices)
    return {"train": train, "held-out": held, "all": list(range(n_slices))}[part]


def inserted_study(series: RealSeries, seed: int, index: int, slices: Sequence[int], p_bleed: float = 0.55):
    """Variant ``index`` as a ``Study`` that ``write_study`` writes as DICOM: the app and ``triage
    evaluate`` then read real anatomy with drawn bleeds exactly as they read any study. The slices
    are stored evenly spaced (the series' own spacing is mixed 4/7 mm and held-out slices are
    every fifth): a slice network does not care; a sequence model sees a coarse, unusual stack."""
    from .study import Study, _hash_int, sop_id, uid_from

    v = variant(series, seed, index, slices, p_bleed)
    intercept = -1024.0
    raw = np.clip(v["hu"] - intercept, -32768, 32767).astype(np.int16)
    key = int(_hash_int("inserted", seed, bits=30))
    number = f"{seed % 100000}-{index:04d}"
    c, w = (float(x) for x in v["window"][0])
    meta = dict(
        generator="models.phantom.insert", seed=seed, index=index, n_slices=len(raw),
        study_uid=uid_from("inserted-study", seed, index), series_uid=uid_from("inserted-series", seed, index),
        frame_uid=uid_from("inserted-frame", seed, index), ids=[sop_id(key, index, i) for i in range(len(raw))],
        patient_name=f"INSERTED^{number}", patient_id=f"INSERTED-{number}",
        accession=f"IN{_hash_int('acc', seed, index) % 10**10:010d}", study_date="20200101", study_time="120000",
        patient_sex="O", patient_age="070Y", pixel_spacing=series.pixel_mm, slice_thickness=5.0, gantry_tilt=0.0,
        storage=dict(name="signed16_icpt-1024", pixel_representation=1, bits_stored=16, intercept=intercept,
                     slope=1.0, padding_raw=None, outside_fov_raw=None),
        windows=[(c, w)], zero_padded_ds=False, transfer_syntax="explicit", reverse_instance_numbers=False,
        table_z0=0.0, source_slices=[int(z) for z in v["source"]],
        description="CT HEAD (real anatomy, synthetic hemorrhage drawn in)",
        comment="Real head CT with synthetic hemorrhage drawn in (models.phantom.insert); not a diagnosis",
    )
    return Study(hu=raw.astype(F32) + F32(intercept), labels=v["labels"], window=v["window"],
                 study_labels=v["labels"].max(axis=0).astype(np.uint8), lesion_bits=v["bits"], raw=raw, meta=meta)


def write_inserted_dataset(out_dir: str | Path, series_dir: str | Path, seed: int, variants: int,
                           part: str = "held-out") -> Dict[str, object]:
    """``variants`` inserted studies as DICOM folders plus ``stage_2_train.csv`` and ``studies.csv``."""
    from .dicom_io import write_study
    from .labels import slice_rows, study_row, write_label_files

    series = load_series(series_dir)
    slices = part_slices(len(series.hu), part)
    out = Path(out_dir)
    lines, rows = [], []
    for i in range(variants):
        st = inserted_study(series, seed, i, slices)
        folder = out / f"study_{i:05d}"
        write_study(st, folder)
        # the drawn blood, as generate --masks writes it (montage outlines it; localisation measures against it)
        np.savez_compressed(folder / "masks.npz", ids=np.array(["ID_" + x for x in st.meta["ids"]]), bits=st.lesion_bits)
        lines += slice_rows(st)
        rows.append(study_row(st))
    write_label_files(out, lines, rows)
    return {"studies": variants, "slices": variants * len(slices), "part": part, "source_slices": slices,
            "bleeding_slices": sum(int(l.endswith(",1")) for l in lines if "_any," in l)}
