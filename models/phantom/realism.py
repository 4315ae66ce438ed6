"""Measure how close a phantom slice is to a real head CT: the yardstick is the one real axial head
CT in the shared corpus (``CT2_J2KR``: Toshiba, contrast-enhanced, 10 mm, 0.468 mm pixels, at the
level of the frontal horns and third ventricle). Phantom slices at the same level (from several
studies) are segmented by the same HU-only rules as the real one, and we compare HU histograms of the
intracranial region and of the skull (quantiles, Wasserstein-1 distance, Jensen-Shannon divergence),
the skull's thickness, and the noise; a PNG puts the real slice and a phantom slice side by side
under the same windows.

Why: every way the phantoms differ from a real head is a way the models will fail on real heads;
these figures make the differences visible and rerunnable (``python3 -m models.phantom realism``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from .contract import BONE_WINDOW, BRAIN_WINDOW, SUBDURAL_WINDOW, SUBTYPES
from .hu_masks import enclosed_by_bone
from .png import window_u8, write_png

REFERENCE = Path("/work/shared/dicom-corpus/cornerstone-wado-image-loader/CT2_J2KR")
REFERENCE_T = 0.39   # the reference's level as a fraction of the cranial height (frontal horns / 3rd ventricle)
QUANTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99]


def load_reference(path: Path = REFERENCE) -> tuple[np.ndarray, float]:
    import pydicom

    from .dicom_io import stored_to_hu

    ds = pydicom.dcmread(str(path))   # JPEG 2000: needs python3-gdcm (apt)
    hu, _ = stored_to_hu(ds, ds.pixel_array)
    return hu, float(ds.PixelSpacing[0])


def segment(hu: np.ndarray) -> dict[str, np.ndarray]:
    """Head, skull and intracranial masks from HU alone (same rules for real and phantom)."""
    head = hu > -300
    lab, n = ndimage.label(head)
    if n > 1:
        sizes = ndimage.sum(head, lab, range(1, n + 1))
        head = lab == (1 + int(np.argmax(sizes)))
    head = ndimage.binary_fill_holes(head)
    bone = (hu > 300) & head
    inner = enclosed_by_bone(bone)
    lab, n = ndimage.label(inner)
    if n > 1:
        sizes = ndimage.sum(inner, lab, range(1, n + 1))
        inner = lab == (1 + int(np.argmax(sizes)))
    intracranial = ndimage.binary_erosion(inner, iterations=3)
    return {"head": head, "skull": bone, "intracranial": intracranial, "cavity": inner}


def _hist(v: np.ndarray, lo: float, hi: float, step: float) -> np.ndarray:
    h, _ = np.histogram(v, bins=np.arange(lo, hi + step, step))
    return h / max(h.sum(), 1)


def _js(p: np.ndarray, q: np.ndarray) -> float:
    m = 0.5 * (p + q)
    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def _w1(a: np.ndarray, b: np.ndarray) -> float:
    qs = np.linspace(0.5, 99.5, 199)
    return float(np.mean(np.abs(np.percentile(a, qs) - np.percentile(b, qs))))


def describe(hu: np.ndarray, ps: float) -> dict:
    m = segment(hu)
    ic = hu[m["intracranial"]]
    sk = hu[m["skull"]]
    perim = float(np.sum(m["cavity"] & ~ndimage.binary_erosion(m["cavity"]))) * ps
    return {
        "intracranial_px": int(m["intracranial"].sum()),
        "intracranial_area_cm2": round(float(m["cavity"].sum()) * ps * ps / 100, 1),
        "intracranial_quantiles": {f"p{q}": round(float(v), 1) for q, v in zip(QUANTILES, np.percentile(ic, QUANTILES))},
        "intracranial_fractions": {
            "<0": round(float(np.mean(ic < 0)), 4), "0-20": round(float(np.mean((ic >= 0) & (ic < 20))), 4),
            "20-50": round(float(np.mean((ic >= 20) & (ic < 50))), 4), "50-100": round(float(np.mean((ic >= 50) & (ic < 100))), 4),
            ">=100": round(float(np.mean(ic >= 100)), 4)},
        "skull_quantiles": {f"p{q}": round(float(v), 1) for q, v in zip(QUANTILES, np.percentile(sk, QUANTILES))},
        "skull_mean_thickness_mm": round(float(m["skull"].sum()) * ps * ps / max(perim, 1e-6), 2),
        "noise_sigma_hu": round(_noise_sd(hu, m["intracranial"]), 2),
        "_ic": ic, "_sk": sk,
    }


#: Bleed-free prevalence: the realism figures are of normal anatomy.
NO_BLEED = {"any": 0.0, **{s: 0.0 for s in SUBTYPES}}


def phantom_indices(seed: int, n_studies: int, contrast: bool) -> list[int]:
    """The first ``n_studies`` study indices of ``seed``, or of its contrast-enhanced studies only."""
    from .study import generate_study

    indices, index = [], 0
    while len(indices) < n_studies:
        # whether a study is enhanced is drawn with its head: four slices tell it cheaply
        if not contrast or generate_study(seed, index, n_slices=4, prevalence=NO_BLEED).meta["head"]["contrast"]:
            indices.append(index)
        index += 1
    return indices


def reference_level(st) -> int:
    """The slice of a phantom study nearest the reference's level (``REFERENCE_T`` of the cranial height)."""
    t = np.asarray(st.meta["z_head"]) / st.meta["head"]["H"]
    return int(np.argmin(np.abs(t - REFERENCE_T)))


def compare(out_dir: str | Path, seed: int = 0, n_studies: int = 6, contrast: bool = False) -> dict:
    """The reference slice against the matching slice of ``n_studies`` phantoms of ``seed``; with
    ``contrast``, of the seed's first ``n_studies`` contrast-enhanced phantoms, as the reference is
    (written as ``realism-contrast.*`` beside the plain report)."""
    from .study import generate_study

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ref_hu, ref_ps = load_reference()
    ref = describe(ref_hu, ref_ps)
    picks = []
    for index in phantom_indices(seed, n_studies, contrast):
        st = generate_study(seed, index, n_slices=34, prevalence=NO_BLEED)
        k = reference_level(st)
        picks.append((st.hu[k], st.meta["pixel_spacing"], index, k))
    ph = [describe(h, ps) for h, ps, _, _ in picks]
    ic = np.concatenate([d["_ic"] for d in ph])
    sk = np.concatenate([d["_sk"] for d in ph])
    pooled = {
        "intracranial_quantiles": {f"p{q}": round(float(v), 1) for q, v in zip(QUANTILES, np.percentile(ic, QUANTILES))},
        "skull_quantiles": {f"p{q}": round(float(v), 1) for q, v in zip(QUANTILES, np.percentile(sk, QUANTILES))},
        "skull_mean_thickness_mm": round(float(np.mean([d["skull_mean_thickness_mm"] for d in ph])), 2),
        "noise_sigma_hu": round(float(np.nanmean([d["noise_sigma_hu"] for d in ph])), 2),
        "intracranial_area_cm2": round(float(np.mean([d["intracranial_area_cm2"] for d in ph])), 1),
        "intracranial_fractions": {k: round(float(np.mean([d["intracranial_fractions"][k] for d in ph])), 4)
                                   for k in ref["intracranial_fractions"]},
    }
    distances = {
        "intracranial_w1_hu": round(_w1(ref["_ic"], ic), 2),
        "intracranial_js_bits": round(_js(_hist(ref["_ic"], -20, 120, 2), _hist(ic, -20, 120, 2)), 4),
        "skull_w1_hu": round(_w1(ref["_sk"], sk), 1),
        "skull_js_bits": round(_js(_hist(ref["_sk"], 300, 2000, 50), _hist(sk, 300, 2000, 50)), 4),
    }
    # the same distances between the brain-only part (20..60 HU) of the two, to set aside contrast
    report = {
        "reference": {"file": str(REFERENCE), "pixel_spacing_mm": ref_ps, "note": "contrast-enhanced, 10 mm slice",
                      **{k: v for k, v in ref.items() if not k.startswith("_")}},
        "phantom": {"seed": seed, "studies": n_studies, "level_t": REFERENCE_T,
                    "slices": [{"index": i, "slice": k} for _, _, i, k in picks], **pooled},
        "distances": distances,
        "command": f"/usr/bin/python3 -m models.phantom realism --out {out_dir} --seed {seed} --studies {n_studies}"
                   + (" --contrast" if contrast else ""),
    }
    stem = "realism-contrast" if contrast else "realism"
    report["phantom"]["contrast_enhanced_only"] = contrast
    (out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    (out / f"{stem}.md").write_text(_markdown(report))
    # side by side: real | phantom, under brain, subdural and bone windows
    ph_hu = picks[0][0]
    rows = []
    for c, w in (BRAIN_WINDOW, SUBDURAL_WINDOW, BONE_WINDOW):
        rows.append(np.concatenate([window_u8(ref_hu, c, w), np.full((512, 4), 128, np.uint8), window_u8(ph_hu, c, w)], 1))
    write_png(out / f"{stem}.png", np.concatenate(rows, 0)[::2, ::2])
    return report


def _markdown(r: dict) -> str:
    ref, ph, d = r["reference"], r["phantom"], r["distances"]
    lines = ["# Phantom vs real head CT (one slice level)", "",
             f"Reference: `{ref['file']}` ({ref['note']}). Phantom: seed {ph['seed']}, {ph['studies']} "
             f"{'contrast-enhanced ' if ph.get('contrast_enhanced_only') else ''}studies, "
             f"the slice nearest t = {ph['level_t']} of the cranial height in each (no hemorrhage).", "",
             f"Command: `{r['command']}`", "",
             "| measure | real | phantom |", "|---|---|---|"]
    for q in ref["intracranial_quantiles"]:
        lines.append(f"| intracranial HU {q} | {ref['intracranial_quantiles'][q]} | {ph['intracranial_quantiles'][q]} |")
    for k in ref["intracranial_fractions"]:
        lines.append(f"| intracranial fraction {k} HU | {ref['intracranial_fractions'][k]} | {ph['intracranial_fractions'][k]} |")
    for q in ref["skull_quantiles"]:
        lines.append(f"| skull HU {q} | {ref['skull_quantiles'][q]} | {ph['skull_quantiles'][q]} |")
    for k in ("skull_mean_thickness_mm", "noise_sigma_hu", "intracranial_area_cm2"):
        lines.append(f"| {k} | {ref[k]} | {ph[k]} |")
    lines += ["", "| distance | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in d.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- level by level

#: The real non-contrast series beside the checkout (see ../shared/real-head-ct/README.md).
REAL_SERIES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-head-ct" / "ge-hispeed-dual"
LEVELS = ("posterior fossa", "ventricles", "centrum semiovale", "high convexity")

#: Published figures for non-contrast head CT, beside which the measured ones are shown.
PUBLISHED = {
    "grey matter HU": "35–45", "white matter HU": "20–30", "CSF HU": "0–15", "acute blood HU": "50–90",
    "bone HU": "700–2000+", "noise σ at 5 mm (HU)": "3–6",
}


def level_slices(volume: np.ndarray) -> dict[str, int]:
    """The slice of each level, found the same way in a real and a phantom volume (no geometry):
    the ventricles where deep CSF is largest; the posterior fossa below and the convexity above where
    the cranial cavity shrinks to 40 %, the centrum semiovale at 85 % above the ventricles. A skull-base
    slice whose cavity the HU rules cannot close (foramina, a tilted cut) is passed over: below 10 %."""
    areas, vent = [], []
    for hu in volume:
        m = segment(hu)
        cav = m["cavity"]
        areas.append(float(cav.sum()))
        depth = ndimage.distance_transform_edt(cav)
        vent.append(float(((hu > -10) & (hu < 15) & (depth > 25) & m["intracranial"]).sum()))
    a = np.asarray(areas) / max(max(areas), 1.0)
    v = int(np.argmax(np.asarray(vent) * (a > 0.7)))
    below = [z for z in range(v) if 0.1 <= a[z] <= 0.4]
    above = [z for z in range(v + 1, len(a)) if a[z] <= 0.4 and a[z] > 0.05]
    semi = [z for z in range(v + 1, len(a)) if a[z] <= 0.85]
    return {"posterior fossa": below[-1] if below else 0, "ventricles": v,
            "centrum semiovale": semi[0] if semi else min(v + 2, len(a) - 1),
            "high convexity": above[0] if above else len(a) - 1}


def _noise_sd(hu: np.ndarray, region: np.ndarray) -> float:
    """Noise σ in brain (10–60 HU): the standard deviation of (pixel − 5×5 median), trimmed to the
    central 98 % (a median absolute deviation would be quantised by integer HU)."""
    sel = region & (hu > 10) & (hu < 60)
    if sel.sum() < 100:
        return float("nan")
    diff = (hu - ndimage.median_filter(hu, size=5))[sel]
    lo, hi = np.percentile(diff, [1, 99])
    return float(diff[(diff >= lo) & (diff <= hi)].std())


def _nps_centroid(hu: np.ndarray, region: np.ndarray, ps: float, size: int = 24) -> float:
    """Mean frequency (cycles/mm) of the noise power spectrum in the four most homogeneous
    size × size squares of brain: a texture measure that a plain noise σ misses (white noise
    has a high centroid, a soft kernel a low one)."""
    cand = []
    for y in range(0, hu.shape[0] - size, size // 2):
        for x in range(0, hu.shape[1] - size, size // 2):
            if region[y:y + size, x:x + size].mean() >= 0.9:   # the flattest squares are kept below
                roi = hu[y:y + size, x:x + size].astype(np.float64)
                yy, xx = np.mgrid[0:size, 0:size]
                A = np.c_[yy.ravel(), xx.ravel(), np.ones(size * size)]
                resid = roi.ravel() - A @ np.linalg.lstsq(A, roi.ravel(), rcond=None)[0]
                cand.append((float(resid.std()), resid.reshape(size, size)))
    if not cand:
        return float("nan")
    cand.sort(key=lambda c: c[0])
    power = np.mean([np.abs(np.fft.fftshift(np.fft.fft2(r))) ** 2 for _, r in cand[:4]], axis=0)
    f = np.fft.fftshift(np.fft.fftfreq(size, d=ps))
    fr = np.hypot(*np.meshgrid(f, f, indexing="ij"))
    return float((fr * power).sum() / power.sum())


def _edge_width_mm(hu: np.ndarray, cavity: np.ndarray, ps: float) -> float:
    """Inner-table sharpness: the brain-to-bone step divided by the steepest gradient across it (mm)."""
    edge = cavity & ~ndimage.binary_erosion(cavity)
    g = np.hypot(ndimage.sobel(hu, 0), ndimage.sobel(hu, 1)) / 8.0   # HU per pixel
    gmax = ndimage.maximum_filter(g, size=5)[edge]
    inside = ndimage.binary_erosion(cavity, iterations=4) & ~ndimage.binary_erosion(cavity, iterations=8)
    outside = ndimage.binary_dilation(cavity, iterations=6) & ~ndimage.binary_dilation(cavity, iterations=3)
    step = float(np.median(hu[outside])) - float(np.median(hu[inside]))
    return round(step / max(float(np.median(gmax)), 1e-6) * ps, 2) if edge.any() else float("nan")


def measure_level(hu: np.ndarray, ps: float) -> dict:
    m = segment(hu)
    ic = hu[m["intracranial"]]
    parenchyma = ic[(ic > 15) & (ic < 60)]
    ys, xs = np.nonzero(m["cavity"])
    brain = m["intracranial"] & (hu > 15) & (hu < 60)
    brain = ndimage.binary_erosion(brain, iterations=2)
    return {
        "intracranial HU p5/p50/p95": [round(float(v), 1) for v in np.percentile(ic, [5, 50, 95])],
        "parenchyma HU p25/p75 (≈ white/grey)": [round(float(v), 1) for v in np.percentile(parenchyma, [25, 75])]
        if len(parenchyma) else None,
        "CSF fraction (0–15 HU)": round(float(np.mean((ic >= 0) & (ic < 15))), 3),
        "noise σ (HU)": round(_noise_sd(hu, m["intracranial"]), 2),
        "NPS mean frequency (cycles/mm)": round(_nps_centroid(hu, brain, ps), 3),
        "inner-table edge width (mm)": _edge_width_mm(hu, m["cavity"], ps),
        "cavity area (cm²)": round(float(m["cavity"].sum()) * ps * ps / 100, 1),
        "cavity AP × LR (mm)": [round(float(np.ptp(ys) + 1) * ps, 0), round(float(np.ptp(xs) + 1) * ps, 0)]
        if len(ys) else None,
        "skull HU p50": round(float(np.median(hu[m["skull"]])), 0) if m["skull"].any() else None,
    }


def _mean_of(values: list):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    if isinstance(vals[0], list):
        return [round(float(np.nanmean([v[i] for v in vals])), 2) for i in range(len(vals[0]))]
    return round(float(np.nanmean(vals)), 3)


def compare_levels(out_dir: str | Path, series: str | Path = REAL_SERIES, seed: int = 0, n_studies: int = 6) -> dict:
    """Real vs phantom at four levels (``LEVELS``): the real non-contrast series against
    ``n_studies`` bleed-free phantoms; writes ``levels.json``, ``levels.md`` and ``levels.png``."""
    from .insert import load_series
    from .study import generate_study

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    real = load_series(series)
    real_levels = level_slices(real.hu)
    report = {"command": f"/usr/bin/python3 -m models.phantom realism --levels --out {out_dir} --seed {seed} "
                         f"--studies {n_studies}",
              "real": {"series": str(Path(series).resolve()), "slices": real_levels,
                       "levels": {k: measure_level(real.hu[z], real.pixel_mm) for k, z in real_levels.items()}},
              "phantom": {"seed": seed, "studies": n_studies, "slices": [], "levels": {}},
              "published": PUBLISHED}
    none = {"any": 0.0, **{s: 0.0 for s in ("epidural", "intraparenchymal", "intraventricular", "subarachnoid",
                                            "subdural")}}
    per_level: dict[str, list] = {k: [] for k in LEVELS}
    first = None
    for index in range(n_studies):
        st = generate_study(seed, index, n_slices=34, prevalence=none)
        lv = level_slices(st.hu)
        report["phantom"]["slices"].append(lv)
        first = first or (st.hu, lv)
        for k, z in lv.items():
            per_level[k].append(measure_level(st.hu[z], st.meta["pixel_spacing"]))
    for k in LEVELS:
        keys = per_level[k][0].keys()
        report["phantom"]["levels"][k] = {m: _mean_of([d[m] for d in per_level[k]]) for m in keys}
    (out / "levels.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out / "levels.md").write_text(_levels_markdown(report))
    rows = []
    for k in LEVELS:  # real | phantom at each level, brain window
        rows.append(np.concatenate([window_u8(real.hu[real_levels[k]], *BRAIN_WINDOW), np.full((512, 4), 128, np.uint8),
                                    window_u8(first[0][first[1][k]], *BRAIN_WINDOW)], 1))
    write_png(out / "levels.png", np.concatenate(rows, 0)[::2, ::2])
    return report


def _levels_markdown(r: dict) -> str:
    lines = ["# Phantom vs real non-contrast head CT, level by level", "",
             f"Real: `{Path(r['real']['series']).name}` (one patient, GE HiSpeed Dual, 120 kVp, STD+ kernel, "
             f"4/7 mm; slices {r['real']['slices']}). Phantom: seed {r['phantom']['seed']}, "
             f"{r['phantom']['studies']} bleed-free studies (mean). Levels are found the same way in both "
             "(cavity area and deep CSF; see `level_slices`).", "", f"Command: `{r['command']}`", ""]
    for k in LEVELS:
        lines += [f"## {k}", "", "| measure | real | phantom |", "|---|---|---|"]
        for m, v in r["real"]["levels"][k].items():
            lines.append(f"| {m} | {v} | {r['phantom']['levels'][k].get(m)} |")
        lines.append("")
    lines += ["## Published figures (for comparison)", "", "| tissue | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r["published"].items()]
    return "\n".join(lines) + "\n"
