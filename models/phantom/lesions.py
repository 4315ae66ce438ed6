"""Intracranial hemorrhage by subtype, as 3-D shapes placed in a ``Head``, plus their sampling.

- epidural: a biconvex lens against the inner table, confined between two sutures;
- subdural: a crescent along the convexity (crosses sutures), thin to thick, along the falx, or a
  thin layer on the tentorium;
  large ones shift the midline;
- intraparenchymal: rounded/irregular clot(s) in brain tissue (deep, lobar, cerebellar, contusions)
  with a low-density oedema rim;
- intraventricular: blood layering in the dependent (posterior) horns or casting whole ventricles;
- subarachnoid: blood in sulci, sylvian/interhemispheric fissures and basal cisterns.

Density (``sample_blood``): mostly acute (55–85 HU, heterogeneous, sometimes with hyperacute
swirls), some anaemic (45–56), subacute (38–52); subdurals may be chronic (10–26 HU, darker than
brain), acute on chronic with a fluid level, or of mixed ages (fresh patches in an old collection),
and a few haematomas of anticoagulated patients carry a level too: a network must not learn
"bright = blood" alone.

Why: the labels of a slice must follow from what is drawn on it (``study.py`` labels a slice with a
subtype exactly when the subtype's mask has pixels there), and every shape is a 3-D object so that its
run of positive slices and its size along z are plausible.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .contract import SUBTYPES
from .shapes import F32, Ellipsoid, frac, smoothstep

#: Probability that a study bleeds at all, and per subtype given that it bleeds. Chosen so that the
#: slice-level proportions land near RSNA 2019 (SEEDS.md: any 14.3 %, epidural 0.42 %,
#: intraparenchymal 4.8 %, intraventricular 3.5 %, subarachnoid 4.7 %, subdural 6.3 % of slices);
#: measured figures are in README.md.
DEFAULT_PREVALENCE = {"any": 0.42, "epidural": 0.08, "intraparenchymal": 0.55, "intraventricular": 0.32,
                      "subarachnoid": 0.30, "subdural": 0.42}
#: Balanced mode for training: most studies bleed and every subtype is equally likely.
BALANCED_PREVALENCE = {"any": 0.8, "epidural": 0.4, "intraparenchymal": 0.4, "intraventricular": 0.4,
                       "subarachnoid": 0.4, "subdural": 0.4}


def _wrap(a: np.ndarray) -> np.ndarray:
    return np.mod(a + F32(math.pi), F32(2 * math.pi)) - F32(math.pi)


@dataclass
class Layer:
    """One thing a lesion draws on a slice: alpha over ``box`` (None = whole slice) and its HU."""

    box: object
    alpha: np.ndarray
    value: object
    blood: bool = True


@dataclass
class Lesion:
    subtype: str
    kind: str
    z_lo: float
    z_hi: float
    side: int = 0              # +1 patient's left, -1 right, 0 midline / both
    shift: float = 0.0         # midline shift it causes (mm), away from ``side``
    params: dict = field(default_factory=dict)

    def describe(self) -> dict:
        p = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.params.items()
             if isinstance(v, (int, float, str))}
        return {"subtype": self.subtype, "kind": self.kind, "side": self.side,
                "z_range_mm": [round(self.z_lo, 1), round(self.z_hi, 1)], "midline_shift_mm": round(self.shift, 1), **p}

    def shift_at(self, z: float) -> float:
        if self.shift <= 0:
            return 0.0
        zc = 0.5 * (self.z_lo + self.z_hi)
        half = 0.5 * (self.z_hi - self.z_lo) + 15.0
        return self.shift * max(0.0, 1.0 - ((z - zc) / half) ** 2)

    # ---------------------------------------------------------------- drawing
    def layers(self, head, f, z: float, tex_c: np.ndarray) -> list[Layer]:
        if z < self.z_lo - 3.0 or z > self.z_hi + 3.0:
            return []
        return getattr(self, f"_draw_{self.kind}")(head, f, z, tex_c)

    def _blood_value(self, head, tex_c, box=None) -> np.ndarray | float:
        y = head.grid.y if box is None else head.grid.y[box]
        return blood_texture(self.params, tex_c if box is None else tex_c[box], y)

    def _extra_axial(self, head, f, z, tex_c, lens: bool) -> list[Layer]:
        p = self.params
        dz = (z - p["zc"]) / p["dz"]
        if abs(dz) >= 1.0:
            return []
        dth = _wrap(f.theta - F32(p["mid"])) * F32(1.0 / p["half"])
        a2 = dth * dth + F32(dz * dz)
        if lens:   # biconvex: thickness falls off quadratically to a sharp margin at the sutures
            h = F32(p["T"]) * (F32(1.0) - a2)
        else:      # crescent: nearly uniform thickness, tapering ends
            h = F32(p["T"]) * np.power(np.clip(F32(1.0) - a2, 0.0, 1.0), F32(0.35))
        alpha = frac(h - f.depth_cav, 0.8) * frac(f.depth_cav + F32(0.3), f_ps(head)) * (a2 < F32(1.0))
        return [Layer(None, alpha, self._blood_value(head, tex_c))]

    def _draw_epidural(self, head, f, z, tex_c):
        return self._extra_axial(head, f, z, tex_c, lens=True)

    def _draw_subdural(self, head, f, z, tex_c):
        return self._extra_axial(head, f, z, tex_c, lens=False)

    def _draw_interhemispheric(self, head, f, z, tex_c):
        p = self.params
        dz = (z - p["zc"]) / p["dz"]
        if abs(dz) >= 1.0:
            return []
        g = head.grid
        a2 = ((g.y - F32(p["yc"])) * F32(1.0 / p["dy"])) ** 2 + F32(dz * dz)
        h = F32(p["T"]) * np.sqrt(np.clip(F32(1.0) - a2, 0.0, 1.0))
        xs = g.x * F32(self.side) - F32(0.7)       # distance from the falx on the bleeding side
        alpha = frac(h - xs, 0.6) * frac(xs, 0.6) * frac(f.depth_cav - F32(1.0), 1.0)
        return [Layer(None, alpha, self._blood_value(head, tex_c))]

    def _draw_tentorial(self, head, f, z, tex_c):
        """A thin subdural layer on the upper surface of the tentorium, on one side: a subtle one."""
        p = self.params
        if f.pf_depth is None or not (self.z_lo <= z <= self.z_hi):
            return []
        g = head.grid
        T = F32(p["T"])
        on_tent = frac(T / F32(2.0) - np.abs(f.pf_depth + T / F32(2.0)), 0.5)
        behind = frac(g.y - F32(0.15 * head.L), 8.0) * frac(g.x * F32(self.side) + F32(2.0), 3.0)
        alpha = on_tent * behind * frac(f.depth_cav, f_ps(head))
        return [Layer(None, alpha, self._blood_value(head, tex_c))]

    def _draw_parenchymal(self, head, f, z, tex_c):
        p = self.params
        out_core, out_edema = [], []
        g = head.grid
        jit = F32(p["irregular"]) * F32(min(p["radius"], 12.0))
        for (cx, cy, cz, a, b, c, ang) in p["blobs"]:
            ell = Ellipsoid(cx, cy, cz, a, b, c, ang)
            edema = ell.section(g, z, head.slab / 2, grow=p["rim"], jitter=tex_c, jitter_mm=1.5 * jit)
            if edema is None:
                continue
            box = edema[0]
            out_edema.append(Layer(box, edema[1] * f.brain[box], F32(p["edema_hu"]) + F32(2.0) * tex_c[box], blood=False))
            core = ell.section(g, z, head.slab / 2, jitter=tex_c, jitter_mm=jit)
            if core is not None:
                cb = core[0]
                out_core.append(Layer(cb, core[1] * f.brain[cb], self._blood_value(head, tex_c, cb)))
        return out_edema + out_core

    def _draw_ventricular(self, head, f, z, tex_c):
        p = self.params
        out = []
        for name, box, va in f.ventricles:
            if not any(name.startswith(k) for k in p["parts"]):
                continue
            if p["layering"] and not name.startswith(("third", "fourth")):
                # dependent layering in a supine patient: blood sits posteriorly with a flat level
                ylevel = p["levels"].get(name.split("_")[0], 1e9)
                a = va * frac(head.grid.y[box] - F32(ylevel), 0.8)
            else:
                a = va * F32(p["fill"])
            out.append(Layer(box, a, self._blood_value(head, tex_c, box)))
        return out

    def _draw_subarachnoid(self, head, f, z, tex_c):
        p = self.params
        g = head.grid
        dzz = (z - p["cz"]) ** 2
        if dzz >= p["R"] ** 2:
            return []
        rr = math.sqrt(p["R"] ** 2 - dzz)
        box = g.box(p["cx"], p["cy"], rr + 5)
        if box is None:
            return []
        d = np.sqrt((g.x[box] - F32(p["cx"])) ** 2 + (g.y[box] - F32(p["cy"])) ** 2)
        ball = frac(F32(rr) - d, 6.0)
        sulci = frac(F32(p["w"] / 2) - f.sulcus_dist[box], g.ps) * frac(f.sulcus_depth[box] - f.depth_brain[box], 2.0)
        surface = frac(f.depth_cav[box], g.ps) * frac(F32(p["w"]) - f.depth_cav[box], g.ps) if p["surface"] else 0.0
        cist = f.cistern[box] * F32(p["cisterns"])
        a = np.maximum(np.maximum(sulci * F32(p["sulci"]), cist), surface * F32(p["sulci"])) * ball
        a *= frac(f.depth_cav[box], 0.6)
        return [Layer(box, a * F32(p["fill"]), self._blood_value(head, tex_c, box))]


def f_ps(head) -> float:
    return head.grid.ps


# ====================================================================== sampling
def _size(rng, lo, hi, skew=2.5):
    """Sizes skewed towards small: most bleeds are small, a few are large."""
    return lo + (hi - lo) * rng.beta(1.2, skew)


def sample_lesions(rng: np.random.Generator, head, prevalence: dict, single_subtype_share: float = 0.0) -> list[Lesion]:
    """Draw this study's bleeds (possibly none).

    ``single_subtype_share``: the share of bleeding studies that hold one subtype only (drawn by the
    prevalences' weights). Drawing each subtype on its own gives most bleeding studies two or more
    (in the balanced pool of seed 2, 32 of the 43 subarachnoid slices hold another subtype's blood
    too), so a network can learn "blood, so some subarachnoid" without learning what subarachnoid
    blood looks like. At 0 the draw is skipped and a seed's studies are unchanged."""
    if rng.random() >= prevalence["any"]:
        return []
    weights = np.array([prevalence[s] for s in SUBTYPES])
    if single_subtype_share > 0 and rng.random() < single_subtype_share:
        chosen = [SUBTYPES[int(rng.choice(len(SUBTYPES), p=weights / weights.sum()))]]
    else:
        chosen = [s for s in SUBTYPES if rng.random() < prevalence[s]]
    if not chosen:
        chosen = [SUBTYPES[int(rng.choice(len(SUBTYPES), p=weights / weights.sum()))]]
    out: list[Lesion] = []
    for s in chosen:
        n = 1 + int(rng.random() < (0.25 if s in ("intraparenchymal", "subarachnoid") else 0.1))
        for _ in range(n):
            out.append(SAMPLERS[s](rng, head))
    return out


def blood_texture(p: dict, t: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Blood HU over a unit-SD smooth texture ``t``: the density, its heterogeneity and, in a
    hyperacute or mixed clot, low-density swirls (``p`` from ``sample_blood``). With ``y`` (head-frame
    mm, posterior = dependent in a supine patient) a clot with a fluid level is dense below
    ``level_y`` and at ``hu_top`` above it (serum, or the chronic part of an acute-on-chronic bleed)."""
    val = F32(p["hu"]) + F32(p.get("hetero", 3.0)) * t
    if p.get("swirl", 0.0) > 0:
        val = val - F32(p["swirl"]) * frac(t - F32(0.6), 0.5)
    if "hu_patch" in p:  # fresh blood where the texture is high: patches with soft edges
        val = val + frac(t - F32(p["patch_t"]), 0.5) * (F32(p["hu_patch"]) - val)
    if "level_y" in p and y is not None:
        top = F32(p["hu_top"]) + F32(0.5 * p.get("hetero", 3.0)) * t
        val = top + frac(y - F32(p["level_y"]), 0.8) * (val - top)
    return val


def sample_blood(rng, acute_p=0.88, chronic_p=0.0, level_p=0.0, anaemia_p=0.0, mixed_p=0.0):
    """Density of one bleed.

    Acute 55–85 HU (probability ``acute_p``; with ``anaemia_p`` 45–56 HU, a low haematocrit), else
    subacute 38–52 HU. Before that, with ``chronic_p``, a chronic collection (10–26 HU: darker than
    brain, brighter than CSF) and with ``level_p`` a clot with a fluid level (dense dependent part
    50–75 HU under a 20–36 HU top: anticoagulated, or acute on chronic); the lesion's sampler places
    the level (``level_y``). With ``mixed_p``, a collection of mixed ages without a level: a chronic
    base (14–28 HU) with patches of fresh blood (55–80 HU) over a third to a half of it (a re-bleed
    into an old subdural). The defaults draw only the acute and subacute kinds, with the draws of old."""
    if mixed_p and rng.random() < mixed_p:
        return dict(hu=rng.uniform(14, 28), hu_patch=rng.uniform(55, 80), patch_t=rng.uniform(0.0, 0.45),
                    hetero=rng.uniform(1.5, 3.0), swirl=0.0, stage="acute_on_chronic")
    if chronic_p and rng.random() < chronic_p:
        return dict(hu=rng.uniform(10, 26), hetero=rng.uniform(1.5, 3.0), swirl=0.0, stage="chronic")
    if level_p and rng.random() < level_p:
        return dict(hu=rng.uniform(50, 75), hu_top=rng.uniform(20, 36), hetero=rng.uniform(2, 4), swirl=0.0,
                    stage="fluid_level")
    if rng.random() < acute_p:
        low = bool(anaemia_p) and rng.random() < anaemia_p
        return dict(hu=rng.uniform(45, 56) if low else rng.uniform(55, 85), hetero=rng.uniform(2, 5),
                    swirl=rng.uniform(15, 30) if rng.random() < 0.15 else 0.0, stage="acute_anaemic" if low else "acute")
    return dict(hu=rng.uniform(38, 52), hetero=rng.uniform(3, 6), swirl=0.0, stage="subacute")   # subacute / mixed


# inner-table angle of the sutures (theta: 0 = patient's left, +pi/2 = posterior, -pi/2 = anterior)
_CORONAL, _LAMBDOID = -0.80, 0.95


def _sample_epidural(rng, head):
    H = head.H
    side = 1 if rng.random() < 0.5 else -1
    bone = rng.choice(["temporoparietal", "frontal", "occipital"], p=[0.65, 0.2, 0.15])
    if bone == "temporoparietal":
        lo, hi = _CORONAL, _LAMBDOID
    elif bone == "frontal":
        lo, hi = -math.pi - _CORONAL, _CORONAL
    else:
        lo, hi = _LAMBDOID, math.pi - _LAMBDOID
    span = hi - lo
    want = rng.uniform(0.25, 0.6) * span
    start = lo + rng.uniform(0, span - want)
    mid, half = start + want / 2, want / 2
    if bone == "temporoparietal" and side < 0:
        mid = math.pi - mid
    elif bone != "temporoparietal":
        side = 1 if math.cos(mid) >= 0 else -1
    T = _size(rng, 4.0, 30.0, 2.0)
    zc = rng.uniform(0.35, 0.72) * H
    dz = min(rng.uniform(10.0, 28.0), 0.3 * H) * (0.6 + 0.4 * T / 30)
    shift = max(0.0, (T - 10.0) * 0.5)
    return Lesion("epidural", "epidural", zc - dz, zc + dz, side=side, shift=shift,
                  params=dict(mid=mid, half=half, T=T, zc=zc, dz=dz, bone=str(bone), **sample_blood(rng, 0.95, anaemia_p=0.1)))


def _sample_subdural(rng, head):
    H = head.H
    side = 1 if rng.random() < 0.5 else -1
    if rng.random() < 0.1:   # along the tentorium: thin, one side, at the level of the midbrain
        T = rng.uniform(1.5, 4.0)
        z_lo, z_hi = rng.uniform(0.19, 0.24) * H, rng.uniform(0.27, 0.33) * H
        return Lesion("subdural", "tentorial", z_lo, z_hi, side=side,
                      params=dict(T=T, **sample_blood(rng, 0.9, anaemia_p=0.1)))
    if rng.random() < 0.15:   # interhemispheric, along the falx
        T = rng.uniform(2.0, 6.0)
        zc, dz = rng.uniform(0.45, 0.8) * H, rng.uniform(10, 30)
        return Lesion("subdural", "interhemispheric", zc - dz, zc + dz, side=side,
                      params=dict(T=T, zc=zc, dz=dz, yc=rng.uniform(-0.2, 0.5) * head.L, dy=rng.uniform(20, 50), **sample_blood(rng)))
    mid = rng.normal(0.0, 0.45) if side > 0 else math.pi + rng.normal(0.0, 0.45)
    half = rng.uniform(0.5, 1.3)
    T = _size(rng, 2.0, 24.0, 2.2)
    zc = rng.uniform(0.38, 0.72) * H
    dz = rng.uniform(18.0, 50.0)
    shift = max(0.0, (T - 7.0) * 0.6)
    # chronic collections (older patients, hypodense) and acute-on-chronic ones with a level
    blood = sample_blood(rng, 0.85, chronic_p=0.18, level_p=0.1, anaemia_p=0.1, mixed_p=0.08)
    if "hu_top" in blood:
        ys = head.L * np.sin(mid + np.linspace(-half, half, 9))
        blood["level_y"] = float(ys.min() + rng.uniform(0.3, 0.7) * (ys.max() - ys.min()))
    return Lesion("subdural", "subdural", zc - dz, zc + dz, side=side, shift=min(shift, 14.0),
                  params=dict(mid=mid, half=half, T=T, zc=zc, dz=dz, **blood))


def _sample_parenchymal(rng, head):
    W, L, H = head.W, head.L, head.H
    u = rng.uniform
    kind = rng.choice(["deep", "lobar", "cerebellar", "contusion"], p=[0.4, 0.33, 0.1, 0.17])
    side = 1 if rng.random() < 0.5 else -1
    blobs = []
    if kind == "deep":
        site = rng.choice(["putamen", "thalamus"])
        cx, cy, cz = (0.31 * W, -0.05 * L, 0.38 * H) if site == "putamen" else (0.14 * W, 0.12 * L, 0.39 * H)
        r = _size(rng, 3.0, 26.0)
        blobs.append((side * cx, cy, cz, r * u(0.7, 1.0), r * u(1.0, 1.5), r * u(0.7, 1.0), u(-0.5, 0.5)))
    elif kind == "lobar":
        ang = u(-math.pi, math.pi)
        t = u(0.4, 0.78)
        rr = u(0.35, 0.65)
        cx, cy, cz = rr * W * math.cos(ang), rr * L * math.sin(ang), t * H
        side = 1 if cx >= 0 else -1
        r = _size(rng, 4.0, 30.0)
        blobs.append((cx, cy, cz, r * u(0.7, 1.0), r * u(0.8, 1.3), r * u(0.6, 1.0), u(0, math.pi)))
        if rng.random() < 0.4:
            blobs.append((cx + u(-0.5, 0.5) * r, cy + u(-0.5, 0.5) * r, cz + u(-0.4, 0.4) * r, r * 0.6, r * 0.5, r * 0.5, u(0, 3)))
    elif kind == "cerebellar":
        r = _size(rng, 4.0, 18.0)
        blobs.append((side * 0.3 * W, 0.45 * L, 0.13 * H, r, r * u(0.9, 1.3), r * 0.8, u(0, 3)))
    else:   # contusions: several small foci under the frontal or temporal surface
        pole = rng.choice(["frontal", "temporal"])
        for _ in range(int(rng.integers(2, 5))):
            r = u(2.5, 8.0)
            if pole == "frontal":
                cx, cy, cz = side * u(0.1, 0.45) * W, -u(0.68, 0.82) * L, u(0.25, 0.4) * H
            else:
                cx, cy, cz = side * u(0.62, 0.78) * W, -u(0.1, 0.45) * L, u(0.2, 0.32) * H
            blobs.append((cx, cy, cz, r, r * u(0.8, 1.6), r * u(0.6, 1.0), u(0, 3)))
    rmax = max(max(b[3:6]) for b in blobs)
    rim = u(1.0, 2.0) + (rmax * u(0.1, 0.25) if kind != "contusion" else u(0, 2))
    z_lo = min(b[2] - b[5] - rim for b in blobs)
    z_hi = max(b[2] + b[5] + rim for b in blobs)
    shift = max(0.0, (rmax - 14.0) * 0.45) if kind in ("deep", "lobar") else 0.0
    blood = sample_blood(rng, 0.92, level_p=0.06 if kind != "contusion" else 0.0, anaemia_p=0.1)
    if "hu_top" in blood:   # an anticoagulated patient's haematoma: a level across the first clot
        blood["level_y"] = float(blobs[0][1] + u(-0.3, 0.3) * blobs[0][4])
    return Lesion("intraparenchymal", "parenchymal", z_lo, z_hi, side=side, shift=min(shift, 10.0),
                  params=dict(site=str(kind), blobs=blobs, rim=rim, irregular=u(0.05, 0.35),
                              edema_hu=head.wm - u(6, 12), radius=rmax, **blood))


def _sample_ventricular(rng, head):
    L, H = head.L, head.H
    layering = rng.random() < 0.6
    sides = rng.choice(["left", "right", "both"], p=[0.3, 0.3, 0.4])
    sides = ["left", "right"] if sides == "both" else [str(sides)]
    if layering:
        parts = [f"{p}_{s}" for p in ("occipital", "atrium") for s in sides]
        levels = {"occipital": u_(rng, 0.50, 0.68) * L, "atrium": u_(rng, 0.40, 0.50) * L}
        z_lo, z_hi = 0.31 * H, 0.53 * H
    else:
        choice = rng.choice(["lateral", "third_fourth", "all"], p=[0.45, 0.2, 0.35])
        parts = []
        if choice in ("lateral", "all"):
            parts += [f"{p}_{s}" for p in ("frontal", "body", "atrium", "occipital", "temporal") for s in sides]
        if choice in ("third_fourth", "all"):
            parts += ["third", "fourth"]
        levels = {}
        z_lo, z_hi = (0.07 * H, 0.6 * H)
    return Lesion("intraventricular", "ventricular", z_lo, z_hi, side=0,
                  params=dict(parts=parts, layering=layering, levels=levels, fill=rng.uniform(0.8, 1.0),
                              mode="layering" if layering else "cast", **sample_blood(rng, 0.9, anaemia_p=0.1)))


def u_(rng, a, b):
    return float(rng.uniform(a, b))


def _sample_subarachnoid(rng, head):
    W, L, H = head.W, head.L, head.H
    kind = rng.choice(["basal", "convexity", "perimesencephalic"], p=[0.45, 0.4, 0.15])
    if kind == "basal":
        cx, cy, cz, R = 0.0, -0.1 * L, 0.27 * H, rng.uniform(30, 65)
        cist, sulci, surface = 1.0, rng.uniform(0.6, 1.0), False
    elif kind == "perimesencephalic":
        cx, cy, cz, R = 0.0, 0.05 * L, 0.27 * H, rng.uniform(14, 24)
        cist, sulci, surface = 1.0, 0.0, False
    else:
        ang = rng.uniform(-math.pi, math.pi)
        t = rng.uniform(0.45, 0.85)
        cx, cy, cz = 0.85 * W * math.cos(ang), 0.85 * L * math.sin(ang), t * H
        R = rng.uniform(15, 40)
        cist, sulci, surface = 0.0, 1.0, True
    w = max(head.sulcus_w, rng.uniform(1.2, 2.6))
    side = 0 if abs(cx) < 5 else (1 if cx > 0 else -1)
    return Lesion("subarachnoid", "subarachnoid", cz - R, cz + R, side=side,
                  params=dict(site=str(kind), cx=cx, cy=cy, cz=cz, R=R, w=w, cisterns=cist, sulci=sulci,
                              surface=surface, fill=rng.uniform(0.85, 1.0), **sample_blood(rng, 0.95, anaemia_p=0.1)))


SAMPLERS = {
    "epidural": _sample_epidural,
    "subdural": _sample_subdural,
    "intraparenchymal": _sample_parenchymal,
    "intraventricular": _sample_ventricular,
    "subarachnoid": _sample_subarachnoid,
}
assert set(SAMPLERS) == set(SUBTYPES)
