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

from .contract import BONE_WINDOW, BRAIN_WINDOW, SUBDURAL_WINDOW
from .png import window_u8, write_png

REFERENCE = Path("/work/shared/dicom-corpus/cornerstone-wado-image-loader/CT2_J2KR")
REFERENCE_T = 0.39   # the reference's level as a fraction of the cranial height (frontal horns / 3rd ventricle)
QUANTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99]


def load_reference(path: Path = REFERENCE) -> tuple[np.ndarray, float]:
    import pydicom

    ds = pydicom.dcmread(str(path))   # JPEG 2000: needs python3-gdcm (apt)
    hu = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
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
    closed = ndimage.binary_closing(bone, iterations=3)
    inner = ndimage.binary_fill_holes(closed) & ~closed
    lab, n = ndimage.label(inner)
    if n > 1:
        sizes = ndimage.sum(inner, lab, range(1, n + 1))
        inner = lab == (1 + int(np.argmax(sizes)))
    intracranial = ndimage.binary_erosion(inner, iterations=3)
    return {"head": head, "skull": bone, "intracranial": intracranial, "cavity": inner}


def _noise(hu: np.ndarray, region: np.ndarray) -> float:
    """Robust noise estimate: MAD of (pixel - 5x5 median) in soft tissue 10..60 HU, in HU (sigma)."""
    sel = region & (hu > 10) & (hu < 60)
    if sel.sum() < 100:
        return float("nan")
    diff = (hu - ndimage.median_filter(hu, size=5))[sel]
    return float(1.4826 * np.median(np.abs(diff - np.median(diff))))


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
        "noise_sigma_hu": round(_noise(hu, m["intracranial"]), 2),
        "_ic": ic, "_sk": sk,
    }


def compare(out_dir: str | Path, seed: int = 0, n_studies: int = 6) -> dict:
    from .study import generate_study

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ref_hu, ref_ps = load_reference()
    ref = describe(ref_hu, ref_ps)
    picks = []
    for index in range(n_studies):
        st = generate_study(seed, index, n_slices=34, prevalence={"any": 0.0, **{s: 0.0 for s in ("epidural", "intraparenchymal", "intraventricular", "subarachnoid", "subdural")}})
        H = st.meta["head"]["H"]
        t = np.array(st.meta["z_head"]) / H
        k = int(np.argmin(np.abs(t - REFERENCE_T)))
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
        "command": f"/usr/bin/python3 -m models.phantom realism --out {out_dir} --seed {seed} --studies {n_studies}",
    }
    (out / "realism.json").write_text(json.dumps(report, indent=1))
    (out / "realism.md").write_text(_markdown(report))
    # side by side: real | phantom, under brain, subdural and bone windows
    ph_hu = picks[0][0]
    rows = []
    for c, w in (BRAIN_WINDOW, SUBDURAL_WINDOW, BONE_WINDOW):
        rows.append(np.concatenate([window_u8(ref_hu, c, w), np.full((512, 4), 128, np.uint8), window_u8(ph_hu, c, w)], 1))
    write_png(out / "realism.png", np.concatenate(rows, 0)[::2, ::2])
    return report


def _markdown(r: dict) -> str:
    ref, ph, d = r["reference"], r["phantom"], r["distances"]
    lines = ["# Phantom vs real head CT (one slice level)", "",
             f"Reference: `{ref['file']}` ({ref['note']}). Phantom: seed {ph['seed']}, {ph['studies']} studies, "
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
