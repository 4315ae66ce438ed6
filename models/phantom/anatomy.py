"""Normal head anatomy for one study: an analytic 3-D head cut into axial slices, in Hounsfield units.

What: scalp and temporalis, skull with cortical tables and diploe (thicker front/back, thin temporal
squama), the skull base (anterior/middle/posterior fossae, petrous ridges, sphenoid/ethmoid/frontal/
maxillary sinuses, mastoid air cells, orbits with globes and lenses), the face and upper neck (C1/C2,
airway, mandible), and the brain: cortex with sulci that wander along z, grey/white matter, deep grey
nuclei, lateral/third/fourth ventricles with choroid plexus, basal and perimesencephalic cisterns,
sylvian and interhemispheric fissures, falx and tentorium, venous sinuses, cerebellum and brainstem.
Calcified pineal gland, choroid plexus and basal ganglia and falx plaques are the classic hard negatives.

Why: models trained on these phantoms are judged on real heads, so anatomy changes with z as in a
real scan from the skull base to the vertex, every size/shape/density is drawn per study, and all
structures are 3-D so that what a slice shows agrees with its neighbours.
All lengths are mm in the head frame (x to the patient's left, y posterior, z up from the foramen
magnum); ``t = z / H`` is the height as a fraction of the cranial cavity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .shapes import F32, Ellipsoid, Grid, capsule, composite, frac, smooth_noise, smoothstep

AIR = -1000.0
CONTRAST_SHARE = 0.12   # studies done with intravenous contrast (hard negatives); real ICH work-ups see some


def _dome(t: float, tc: float, p: float) -> float:
    """Radius scale of the cranial vault at height fraction t (1 at the widest level, 0 at the vertex)."""
    if t >= 1.0:
        return 0.0
    if t >= tc:
        return (1.0 - ((t - tc) / (1.0 - tc)) ** p) ** (1.0 / p)
    return 1.0 - 0.3 * ((tc - t) / tc) ** 2


@dataclass
class SliceFields:
    """One rendered slice of normal anatomy plus the fields the lesion models need."""

    hu: np.ndarray                 # float32 HU before scanner effects
    depth_cav: np.ndarray          # mm inside the inner table (< 0 outside the cranial cavity)
    depth_brain: np.ndarray        # mm inside the brain surface (pial)
    brain: np.ndarray              # parenchyma fraction 0..1 (excludes CSF spaces)
    sulcus_dist: np.ndarray        # mm to the nearest sulcus centre line (convexity)
    sulcus_depth: np.ndarray       # mm, how deep sulci reach at this angle
    cistern: np.ndarray            # basal cisterns / fissures CSF fraction (SAH goes there)
    theta: np.ndarray              # angle around the head centre (rad), shared with the lesions
    radius: np.ndarray             # mm from the head centre (ellipse-normalised)
    ventricles: list = field(default_factory=list)   # (name, box, alpha) of each ventricle part
    t: float = 0.0
    supratentorial: bool = False
    midline_shift: float = 0.0
    hard_negatives: set = field(default_factory=set)
    #: mm inside the posterior fossa (< 0 above it): the tentorium is where it crosses 0; None away from it
    pf_depth: np.ndarray | None = None


@dataclass
class _Slab:
    """The slab being cut, as each structure's drawing sees it: where it lies, its texture crops, the
    midline shift, the image drawn so far and the hard negatives it shows."""

    z: float
    hs: float                      # half the slab thickness (mm)
    t: float                       # z / H
    shift: float
    shift_side: int
    tex_c: np.ndarray
    tex_f: np.ndarray
    tex_vl: np.ndarray
    img: np.ndarray
    hard: set


@dataclass
class _Cavity:
    """The cranial cavity at one level."""

    scale: float                   # inner table's radius at this level, as a share of the widest level's
    parts: list                    # (depth map, ramp width) of the vault and each fossa cut
    depth: np.ndarray              # mm inside the cavity (the deepest part)
    depth_main: np.ndarray | None  # mm inside the vault's inner table; None below the vault
    pf_depth: np.ndarray | None    # mm inside the posterior fossa; None where it is not cut
    inside_skull: np.ndarray
    petrous: list                  # (box, alpha) of the petrous ridges
    alpha: np.ndarray = field(init=False)   # the cavity's share of each pixel


class Head:
    """One study's head: parameters drawn from ``rng`` once; ``render(z)`` cuts a slice."""

    def __init__(self, rng: np.random.Generator, grid: Grid, slab: float, contrast_share: float = CONTRAST_SHARE):
        # contrast_share: the chance this head was scanned with contrast (training pools may ask for
        # more hard negatives; the draw is the same, so a head enhanced at 0.12 is enhanced at more)
        self.grid, self.slab, self.contrast_share = grid, slab, contrast_share
        g = grid
        u = rng.uniform
        # --- size and shape (inner table) ---
        self.W = u(59.0, 70.0)             # half-width of the cranial cavity
        self.L = u(76.0, 90.0)             # half-length
        self.H = u(122.0, 142.0)           # foramen magnum -> inner vertex
        self.tc = u(0.40, 0.50)            # height of the widest level
        self.p_dome = u(2.0, 2.6)
        self.T0 = u(4.5, 7.5)              # skull thickness
        self.scalp0 = u(4.0, 7.0)
        self.age = u(0.0, 1.0)             # 0 young, 1 old (atrophy, calcification)
        self.atrophy = float(np.clip(self.age * u(0.4, 1.1) + u(-0.1, 0.15), 0.0, 1.0))
        # small-vessel disease: periventricular white matter a few HU darker, patchy, with age
        self.wm_disease = float(np.clip(self.age * u(0.0, 1.4) - 0.35, 0.0, 1.0))
        self.wm_disease_hu = u(4.0, 9.0)
        self.wm_disease_reach = u(5.0, 12.0)   # mm beyond the ventricle wall
        # tissue densities: white 26–32 and grey 9–15 HU above it (published 20–30 / 35–45; the
        # real series in ../shared measures ≈ 24 / 35, where the first generator had too little contrast)
        self.wm = u(26.0, 32.0)
        self.gm = min(46.0, self.wm + u(9.0, 15.0))
        self.csf = u(2.0, 12.0)
        self.cortical = u(1150.0, 1650.0)
        self.diploe = u(450.0, 850.0)
        self.fat = u(-110.0, -70.0)
        self.soft = u(30.0, 55.0)

        W, L = self.W, self.L
        x, y = g.x, g.y
        xn, yn = x / F32(W), y / F32(L)
        self.theta = np.arctan2(yn, xn).astype(F32)
        cth, sth = np.cos(self.theta), np.sin(self.theta)
        rho = np.sqrt(xn * xn + yn * yn)
        rloc = np.sqrt((W * cth) ** 2 + (L * sth) ** 2).astype(F32)
        self.r = (rho * rloc).astype(F32)          # mm, ellipse-normalised radius
        # harmonic head shape (asymmetry, flattening); egg shape: narrower forehead
        f = np.ones_like(rho)
        for k in (1, 2, 3, 4, 5):
            f += F32(u(-1, 1) * (0.02 if k > 1 else 0.015)) * np.cos(k * self.theta + F32(u(0, 2 * math.pi)))
        f += F32(u(0.02, 0.05)) * sth * np.abs(cth)   # occiput wider than forehead
        self.A_i = (f * rloc).astype(F32)                    # inner-table radius at the widest level
        T = F32(self.T0) * (F32(1.0) - F32(u(0.2, 0.4)) * cth * cth) * (F32(1.0) + F32(0.15) * sth * sth)
        self.T_map = T
        self.front = np.clip(-sth, 0, None) ** 6               # forehead weight (frontal sinus)
        self.A_o = (self.A_i + T).astype(F32)
        temporalis = F32(u(3.0, 8.0)) * (cth * cth) ** 3
        self.scalp_map = (F32(self.scalp0) + F32(1.5) * sth * sth).astype(F32)
        self.temporalis = temporalis.astype(F32)
        self.A_s = (self.A_o + self.scalp_map).astype(F32)

        # --- cortex and sulci ---
        self.ctx = u(3.0, 4.5)                      # cortical ribbon (widened by the 5 mm slab)
        self.rim = 0.3 + 2.6 * self.atrophy * u(0.6, 1.0)   # convexity CSF
        self.sulcus_w = 0.6 + 2.4 * self.atrophy * u(0.6, 1.0)
        self.sulcus_contrast = u(0.4, 0.7) + 0.2 * self.atrophy   # partial volume across the 5 mm slab
        self.sulci = []
        for n0, amp in ((u(20, 28), 1.0), (u(34, 46), 0.6)):
            n = int(n0)
            phase = np.full_like(self.theta, u(0, 2 * math.pi))
            phase += F32(n) * self.theta
            for k in (1, 2, 3, 5):
                phase += F32(u(-1, 1) * n / (4.0 * k)) * np.sin(k * self.theta + F32(u(0, 2 * math.pi)))
            self.sulci.append(dict(phase=phase, n=n, amp=amp, omega=u(0.25, 0.5), kappa=u(0.05, 0.2),
                                   phi0=u(0, 2 * math.pi)))
        self.sulcus_depth = (F32(u(9, 13)) + F32(u(3, 6)) * np.cos(3 * self.theta + F32(u(0, 6.3)))
                             + F32(2.0) * np.cos(7 * self.theta + F32(u(0, 6.3)))).astype(F32)
        self.r_over_n = [(self.r / F32(s["n"])).astype(F32) for s in self.sulci]

        # textures (sliced per z so neighbouring slices differ)
        big = g.size + 128
        self.tex_coarse = smooth_noise(rng, (big, big), 6.0)
        self.tex_fine = smooth_noise(rng, (big, big), 1.2)
        self.tex_vlow = smooth_noise(rng, (big, big), 22.0)
        self.tex_offsets = rng.integers(0, 128, size=(512, 2))

        self._build_primitives(rng)

    # ------------------------------------------------------------------ structures
    def _build_primitives(self, rng):
        """Every structure's shape and density. The order of the calls is the order of the random draws,
        so it is part of what a seed gives: a new structure draws after the existing ones."""
        u = rng.uniform
        self._build_ventricles(u)
        self._build_deep_grey_and_stem()
        self._build_csf_spaces()
        self._build_fossae()
        self._build_skull_base(u)
        self._build_face_and_neck()
        self._build_vessels(rng)
        self._build_calcifications(rng)
        self._build_enhancing_small_vessels(rng)

    def _build_ventricles(self, u) -> None:
        """Lateral ventricles by horn (frontal, body, atrium, occipital, temporal), third and fourth,
        larger with atrophy."""
        W, L, H = self.W, self.L, self.H
        vs = 0.6 + 1.0 * self.atrophy * u(0.7, 1.1)          # ventricle size
        vs3 = 0.8 + 2.5 * self.atrophy
        self.vent = []
        for s in (-1, 1):
            side = "right" if s < 0 else "left"
            self.vent += [
                (f"frontal_{side}", Ellipsoid(s * 0.105 * W * (0.8 + 0.3 * vs), -0.30 * L, 0.42 * H, 0.065 * W * vs, 0.20 * L, 0.075 * H, s * math.radians(28))),
                (f"body_{side}", Ellipsoid(s * 0.13 * W * (0.8 + 0.3 * vs), 0.05 * L, 0.52 * H, 0.075 * W * vs, 0.36 * L, 0.07 * H, s * math.radians(-6))),
                (f"atrium_{side}", Ellipsoid(s * 0.25 * W, 0.36 * L, 0.44 * H, 0.10 * W * vs, 0.13 * L, 0.10 * H, s * math.radians(30))),
                (f"occipital_{side}", Ellipsoid(s * 0.22 * W, 0.58 * L, 0.41 * H, 0.045 * W * vs, 0.16 * L, 0.05 * H, s * math.radians(-20))),
                (f"temporal_{side}", Ellipsoid(s * 0.43 * W, -0.10 * L, 0.28 * H, 0.035 * W * vs, 0.17 * L, 0.04 * H, s * math.radians(-10))),
            ]
        self.vent += [
            ("third", Ellipsoid(0.0, 0.02 * L, 0.37 * H, 0.018 * W * vs3, 0.19 * L, 0.065 * H)),
            ("fourth", Ellipsoid(0.0, 0.25 * L, 0.15 * H, 0.07 * W * (0.8 + 0.3 * vs), 0.045 * L, 0.06 * H)),
        ]

    def _build_deep_grey_and_stem(self) -> None:
        """Deep grey nuclei (value = offset from 'gm') and the brainstem."""
        W, L, H = self.W, self.L, self.H
        self.nuclei = []
        for s in (-1, 1):
            self.nuclei += [
                ("caudate", Ellipsoid(s * 0.19 * W, -0.27 * L, 0.43 * H, 0.055 * W, 0.10 * L, 0.08 * H, s * math.radians(25)), -1.0),
                ("lentiform", Ellipsoid(s * 0.33 * W, -0.07 * L, 0.38 * H, 0.085 * W, 0.17 * L, 0.075 * H, s * math.radians(12)), -2.0),
                ("thalamus", Ellipsoid(s * 0.13 * W, 0.13 * L, 0.39 * H, 0.095 * W, 0.13 * L, 0.075 * H), -1.5),
            ]
        self.stem = [
            ("midbrain", Ellipsoid(0.0, 0.06 * L, 0.275 * H, 0.17 * W, 0.14 * L, 0.065 * H)),
            ("pons", Ellipsoid(0.0, 0.08 * L, 0.13 * H, 0.19 * W, 0.13 * L, 0.08 * H)),
            ("medulla", Ellipsoid(0.0, 0.15 * L, 0.02 * H, 0.12 * W, 0.10 * L, 0.07 * H)),
        ]

    def _build_csf_spaces(self) -> None:
        """Basal cisterns (the brainstem sits inside them, the interpeduncular cistern in front of it) and
        the width of the sylvian fissures, all wider with atrophy."""
        W, L, H = self.W, self.L, self.H
        csf_grow = 1.0 + 3.0 * self.atrophy
        self.cisterns = [
            ("suprasellar", Ellipsoid(0.0, -0.14 * L, 0.245 * H, 0.15 * W + csf_grow, 0.09 * L + csf_grow, 0.035 * H)),
            ("perimesencephalic", Ellipsoid(0.0, 0.06 * L, 0.275 * H, 0.17 * W + 0.6 * csf_grow, 0.14 * L + 0.6 * csf_grow, 0.06 * H)),
            ("quadrigeminal", Ellipsoid(0.0, 0.26 * L, 0.31 * H, 0.06 * W + csf_grow, 0.05 * L + 0.5 * csf_grow, 0.04 * H)),
            ("prepontine", Ellipsoid(0.0, -0.03 * L, 0.13 * H, 0.14 * W + csf_grow, 0.035 * L + 0.5 * csf_grow, 0.09 * H)),
            ("cisterna_magna", Ellipsoid(0.0, 0.78 * L, 0.06 * H, 0.12 * W + csf_grow, 0.09 * L + csf_grow, 0.07 * H)),
        ]
        self.cisterns_after_stem = [
            ("interpeduncular", Ellipsoid(0.0, -0.06 * L, 0.27 * H, 0.035 * W + 0.3 * csf_grow, 0.06 * L + 0.3 * csf_grow, 0.05 * H)),
        ]
        self.syl_w = 1.2 + 2.8 * self.atrophy

    def _build_fossae(self) -> None:
        """Fossae of the skull base: (name, cx, cy, a, b, t_start, t_full, t_end), with each one's
        ellipse-normalised radius over the grid."""
        W, L = self.W, self.L
        self.fossae = [
            ("posterior", 0.0, 0.36 * L, 0.68 * W, 0.46 * L, -0.02, 0.13, 0.32),
            ("middle_r", -0.55 * W, -0.12 * L, 0.38 * W, 0.40 * L, 0.09, 0.21, 0.32),
            ("middle_l", 0.55 * W, -0.12 * L, 0.38 * W, 0.40 * L, 0.09, 0.21, 0.32),
            ("anterior", 0.0, -0.52 * L, 0.62 * W, 0.42 * L, 0.20, 0.27, 0.32),
        ]
        self.fossa_rho = []
        for (_, cx, cy, a, b, *_r) in self.fossae:
            self.fossa_rho.append(np.sqrt(((self.grid.x - F32(cx)) / F32(a)) ** 2 + ((self.grid.y - F32(cy)) / F32(b)) ** 2).astype(F32))

    def _build_skull_base(self, u) -> None:
        """Air cells and sinuses in the skull base bone, the petrous ridges, and the orbits (fat, globe, lens)."""
        W, L, H = self.W, self.L, self.H
        Lo = L + self.T0
        self.air_cells = [
            ("sphenoid", Ellipsoid(0.0, -0.30 * L, 0.11 * H, 0.18 * W, 0.14 * L, 0.07 * H), 1.0),
            ("ethmoid", Ellipsoid(0.0, -0.80 * L, 0.15 * H, 0.12 * W, 0.20 * L, 0.075 * H), 0.35),
            ("frontal_sinus", Ellipsoid(u(-3, 3), -(L + 0.5 * (self.T0 + 7.0)), 0.27 * H, 0.17 * W * u(0.5, 1.2), max(1.5, 0.5 * (self.T0 + 7.0) - 1.8), 0.06 * H * u(0.6, 1.2)), 1.0),
            ("nasal", Ellipsoid(0.0, -0.86 * L, -0.02 * H, 0.09 * W, 0.26 * L, 0.12 * H), 0.8),
            ("mastoid_r", Ellipsoid(-0.80 * W, 0.16 * L, 0.07 * H, 0.15 * W, 0.17 * L, 0.08 * H), 0.45),
            ("mastoid_l", Ellipsoid(0.80 * W, 0.16 * L, 0.07 * H, 0.15 * W, 0.17 * L, 0.08 * H), 0.45),
        ]
        self.maxillary = [Ellipsoid(s * 0.36 * W, -0.74 * L, -0.1 * H, 0.19 * W, 0.2 * L, 0.12 * H) for s in (-1, 1)]
        self.petrous = [Ellipsoid(s * 0.52 * W, 0.10 * L, 0.13 * H, 0.48 * W, 0.07 * L, 0.085 * H, s * math.radians(-38)) for s in (-1, 1)]
        self.orbits = []
        for s in (-1, 1):
            self.orbits.append((Ellipsoid(s * 0.42 * W, -0.80 * L, 0.155 * H, 0.22 * W, 0.34 * L, 0.08 * H, s * math.radians(-12)),
                                Ellipsoid(s * 0.45 * W, -(Lo - 4.0), 0.155 * H, 12.0, 12.0, 12.0),
                                Ellipsoid(s * 0.45 * W, -(Lo + 6.5), 0.155 * H, 4.5, 1.6, 3.5)))

    def _build_face_and_neck(self) -> None:
        """Face, nose, the soft tissue below the cranium, and the upper neck (vertebra, canal, airway)."""
        W, L, H = self.W, self.L, self.H
        Lo = L + self.T0
        self.face = Ellipsoid(0.0, -0.45 * L, 0.0, 0.80 * W, 0.62 * L, 0.30 * H)
        self.nose = Ellipsoid(0.0, -(Lo + 5), -0.04 * H, 9.0, 17.0, 0.14 * H)
        # soft tissue that replaces the skull base bone anteriorly and laterally below the cranium
        self.infratemporal = [Ellipsoid(s * 0.58 * W, -0.30 * L, -0.02 * H, 0.30 * W, 0.34 * L, 0.13 * H) for s in (-1, 1)]
        self.nasopharynx = Ellipsoid(0.0, -0.42 * L, -0.03 * H, 0.16 * W, 0.12 * L, 0.08 * H)
        self.neck = Ellipsoid(0.0, 0.08 * L, -0.25 * H, 0.78 * W, 0.78 * L, 0.30 * H)
        self.vertebra = Ellipsoid(0.0, 0.20 * L, -0.25 * H, 16.0, 15.0, 0.24 * H)
        self.canal = Ellipsoid(0.0, 0.26 * L, -0.25 * H, 10.0, 9.0, 0.26 * H)
        self.airway = Ellipsoid(0.0, -0.12 * L, -0.30 * H, 12.0, 7.0, 0.24 * H)

    def _build_vessels(self, rng) -> None:
        """Dural sinuses and the arteries of the circle of Willis, with or without intravenous contrast."""
        u = rng.uniform
        W, L, H = self.W, self.L, self.H
        # dural sinuses: superior sagittal (triangle at the posterior/anterior midline), transverse
        self.sinus_hu = u(38.0, 62.0)
        # Vessels: flowing blood is as dense as a fresh clot (40-55 HU, higher with a high
        # haematocrit), so arteries in the basal cisterns and the sylvian fissures mimic subarachnoid
        # blood. A contrast-enhanced study makes them and the sinuses bright (130-280 HU: white in
        # every brain window, as blood is) and enhances the choroid plexus, the dura and, a little,
        # the grey matter: the classic hard negative of a triage network that never saw contrast.
        self.contrast = bool(rng.random() < self.contrast_share)
        self.artery_r = u(1.2, 1.7)
        if self.contrast:
            self.vessel_hu = u(130.0, 280.0)
            self.sinus_hu = self.vessel_hu * u(0.75, 1.0)
            self.choroid_hu = u(60.0, 110.0)
            self.dura_boost = u(30.0, 70.0)
            self.gm += u(2.0, 5.0)
        else:
            self.vessel_hu = u(38.0, 55.0)
            self.choroid_hu = None
            self.dura_boost = 0.0
        self.arteries = []   # straight vessels: (name, (x0, y0, z0), (x1, y1, z1)) in the head frame
        for s in (-1, 1):
            side = "left" if s > 0 else "right"
            ica = (s * 0.20 * W, -0.17 * L)
            self.arteries += [
                (f"carotid_{side}", (*ica, 0.17 * H), (*ica, 0.245 * H)),
                (f"mca_m1_{side}", (*ica, 0.245 * H), (s * 0.50 * W, -0.11 * L, 0.26 * H)),
                (f"mca_m2_{side}", (s * 0.50 * W, -0.11 * L, 0.26 * H), (s * 0.52 * W, -0.02 * L, 0.36 * H)),
                (f"aca_a1_{side}", (*ica, 0.245 * H), (s * 1.5, -0.24 * L, 0.25 * H)),
                (f"aca_a2_{side}", (s * 1.5, -0.24 * L, 0.25 * H), (s * 1.5, -0.36 * L, 0.45 * H)),
                # the posterior cerebral artery wraps round the midbrain in the ambient cistern
                (f"pca_p1_{side}", (0.0, -0.06 * L, 0.245 * H), (s * 0.13 * W, -0.07 * L, 0.25 * H)),
                (f"pca_p2_{side}", (s * 0.13 * W, -0.07 * L, 0.25 * H), (s * 0.21 * W, 0.05 * L, 0.26 * H)),
                (f"pca_p3_{side}", (s * 0.21 * W, 0.05 * L, 0.26 * H), (s * 0.15 * W, 0.22 * L, 0.27 * H)),
            ]
        self.arteries.append(("basilar", (0.0, -0.07 * L, 0.05 * H), (0.0, -0.05 * L, 0.245 * H)))

    def _build_enhancing_small_vessels(self, rng) -> None:
        """With intravenous contrast the small vessels light up too: cortical arteries and veins
        winding over the convexity a few mm under the inner table, the middle cerebral branches
        running out of the sylvian fissures, and the internal cerebral veins over the third ventricle
        to the vein of Galen. One to two mm across and lying in the slab, they come out at 50-145 HU
        (blood's own range) in curved lines next to the sulci and the ventricles: what makes a real
        contrast study read as subarachnoid or intraventricular blood. Without contrast they are
        as dense as grey matter and are not drawn; the draws come after every other structure's,
        so a seed's other structures stay as they were."""
        self.small_vessels = []   # (head-frame points (x, y, z) mm along the vessel, radius mm, HU)
        if not self.contrast:
            return
        u = rng.uniform
        W, L, H = self.W, self.L, self.H
        arc_mm = 0.5 * (W + L) * math.pi / 180.0   # mm of convexity a degree, at the widest level
        for _ in range(int(rng.integers(50, 91))):
            # over the surface and down into the sulci: from 3-12 mm under the inner table, wandering 2.5-16
            sgn, deg, z, inset = (1 if rng.random() < 0.5 else -1), u(8.0, 172.0), u(0.30, 0.90) * H, u(3.0, 12.0)
            heading, points = u(0.0, 2.0 * math.pi), []
            for _ in range(int(rng.integers(6, 15))):
                points.append(self._convexity_point(sgn, deg, z, inset))
                step = u(3.0, 6.0)
                heading += u(-1.2, 1.2)   # winding, not straight
                deg = min(max(deg + step * math.cos(heading) / (arc_mm * max(self.S_inner(z), 0.3)), 2.0), 178.0)
                z = min(max(z + 0.6 * step * math.sin(heading), 0.28 * H), 0.93 * H)
                inset = min(max(inset + u(-2.0, 2.0), 2.5), 16.0)
            self.small_vessels.append((points, u(0.45, 0.9), self.vessel_hu * u(0.45, 0.85)))
        for sgn in (-1, 1):
            # middle cerebral branches: from the insula out through the sylvian fissure to the surface
            for _ in range(int(rng.integers(3, 6))):
                x, y, z = sgn * 0.49 * W, u(-0.22, 0.0) * L, u(0.28, 0.42) * H
                points = [(x, y, z)]
                heading = u(-0.6, 0.6)   # from straight out (0) towards the front or the back
                for _ in range(int(rng.integers(5, 10))):
                    step, heading = u(2.5, 5.0), heading + u(-0.8, 0.8)
                    x, y, z = x + sgn * step * abs(math.cos(heading)), y + step * math.sin(heading), z + u(-1.0, 2.0)
                    points.append((x, y, z))
                self.small_vessels.append((points, u(0.5, 0.9), self.vessel_hu * u(0.7, 1.0)))
            # the internal cerebral vein, in the roof of the third ventricle, to the vein of Galen
            self.small_vessels.append(([(sgn * 2.0, -0.16 * L, 0.45 * H), (sgn * 2.5, 0.05 * L, 0.44 * H),
                                        (sgn * 1.5, 0.24 * L, 0.40 * H), (0.0, 0.32 * L, 0.37 * H)],
                                       0.9, self.sinus_hu * u(0.8, 1.0)))

    def _convexity_point(self, sgn: int, deg: float, z: float, inset: float) -> tuple[float, float, float]:
        """Head-frame point ``inset`` mm under the inner table at height ``z``, ``deg`` degrees from the
        posterior midline on side ``sgn`` (as ``_inner_point``)."""
        S = max(self.S_inner(z), 0.3)
        x, y = self._inner_point(sgn, deg, inset / S)
        return (x * S, y * S, z)

    def _build_calcifications(self, rng) -> None:
        """Calcifications (the hard negatives; age makes them likelier), the falx with its plaques, and
        the choroid plexus soft tissue in the atria."""
        u = rng.uniform
        W, L, H = self.W, self.L, self.H
        self.calc = []
        if rng.random() < 0.45 + 0.4 * self.age:
            r = u(1.5, 4.0)
            self.calc.append(("pineal", Ellipsoid(u(-1, 1), 0.22 * L, 0.36 * H, r, r * u(0.7, 1.2), r * u(0.6, 1.0)), u(100, 400)))
        if rng.random() < 0.35 + 0.5 * self.age:
            for s in (-1, 1):
                r = u(1.5, 4.0)
                self.calc.append((f"choroid_{'left' if s > 0 else 'right'}", Ellipsoid(s * 0.26 * W, 0.38 * L, 0.43 * H, r, r * u(0.8, 1.6), r * 0.8), u(80, 300)))
        if rng.random() < 0.08 + 0.1 * self.age:
            for s in (-1, 1):
                r = u(1.2, 3.0)
                self.calc.append(("basal_ganglia", Ellipsoid(s * 0.27 * W, -0.05 * L, 0.375 * H, r, r * 1.3, r), u(100, 250)))
        if not any(name.startswith(("pineal", "choroid")) for name, *_ in self.calc):
            r = u(1.5, 3.0)   # every head gets at least one calcification: hard negatives in every study
            self.calc.append(("pineal", Ellipsoid(0.0, 0.22 * L, 0.36 * H, r, r, r * 0.8), u(100, 300)))
        self.falx_hu = u(40.0, 70.0) + 30.0 * self.age * u(0, 1)
        self.falx_plaques = []
        if rng.random() < 0.1 + 0.25 * self.age:
            for _ in range(rng.integers(1, 3)):
                self.falx_plaques.append((Ellipsoid(0.0, u(-0.6, 0.6) * L, u(0.55, 0.85) * H, 1.2, u(2, 6), u(2, 5)), u(150, 450)))
        # choroid plexus soft tissue in the atria
        self.choroid = [Ellipsoid(s * 0.26 * W, 0.38 * L, 0.43 * H, 0.05 * W, 0.07 * L, 0.06 * H) for s in (-1, 1)]
    # ------------------------------------------------------------------ helpers
    def _tex(self, tex: np.ndarray, key: int) -> np.ndarray:
        oy, ox = self.tex_offsets[key % len(self.tex_offsets)]
        n = self.grid.size
        return tex[oy:oy + n, ox:ox + n]

    def top(self) -> float:
        """z (mm) of the scalp at the vertex."""
        return self.H + self.T0 + self.scalp0

    def S_inner(self, z: float) -> float:
        t = z / self.H
        return _dome(t, self.tc, self.p_dome) * smoothstep((t - 0.17) / 0.08)

    def S_outer(self, z: float, extra: float) -> float:
        t = z / (self.H + extra)
        return _dome(max(t, -0.02), self.tc, self.p_dome) * smoothstep((t + 0.06) / 0.06)

    # ------------------------------------------------------------------ slice
    def render(self, z: float, key: int, shift: float = 0.0, shift_side: int = 0) -> SliceFields:
        """Cut the slab centred at height z (mm). ``shift`` (mm, sign = towards +x) moves midline
        structures away from a mass; ``key`` picks this slice's texture crops.

        Drawn from the outside in, each structure over what lies beneath it: scalp, skull, the air
        spaces, orbits, face and neck of the skull base, then the contents of the cranial cavity."""
        s = _Slab(z=z, hs=self.slab / 2.0, t=z / self.H, shift=shift, shift_side=shift_side,
                  tex_c=self._tex(self.tex_coarse, key), tex_f=self._tex(self.tex_fine, key + 7),
                  tex_vl=self._tex(self.tex_vlow, key // 2 + 3),
                  img=np.full((self.grid.size, self.grid.size), AIR, dtype=F32), hard=set())
        self._draw_scalp(s)
        depth_o, wo = self._outer_table(s)
        cav = self._cavity(s, depth_o, wo)
        bone_alpha = self._draw_skull(s, depth_o, wo, cav)
        if s.t < 0.45:
            self._draw_air_spaces(s, bone_alpha)
            self._draw_orbits(s)
            self._draw_face_and_neck(s, bone_alpha)
        depth_b = cav.depth - F32(self.rim)
        brain = self._walled(cav, self._cavity_fraction(cav, self.rim))
        sulcus_dist = np.full_like(self.r, 99.0)
        cistern = np.zeros_like(self.r)
        ventricles: list = []
        if float(cav.alpha.max()) > 0.0:
            self._draw_cavity_contents(s, cav, depth_b, brain, sulcus_dist, cistern, ventricles)
        brain *= (F32(1.0) - cistern)
        return SliceFields(hu=s.img, depth_cav=cav.depth, depth_brain=depth_b, brain=brain,
                           sulcus_dist=sulcus_dist, sulcus_depth=self.sulcus_depth, cistern=cistern,
                           theta=self.theta, radius=self.r, ventricles=ventricles, t=s.t,
                           supratentorial=s.t > 0.22, midline_shift=shift, hard_negatives=s.hard,
                           pf_depth=cav.pf_depth if 0.18 < s.t < 0.34 else None)

    # ---------------- outer surfaces: scalp, skull, skull base ----------------------------------
    def _draw_scalp(self, s: _Slab) -> None:
        """Scalp and temporalis, joined below the vault by the soft tissue of the face, nose and neck."""
        g, z, hs, t = self.grid, s.z, s.hs, s.t
        Ss = self.S_outer(z, self.T0 + self.scalp0)
        ws = max(g.ps, abs(self.S_outer(z + hs, self.T0 + self.scalp0) - self.S_outer(z - hs, self.T0 + self.scalp0)) * 0.5 * (self.W + self.L))
        temporal_level = smoothstep((t - 0.1) / 0.1) * smoothstep((0.65 - t) / 0.15)
        A_s = self.A_s + F32(temporal_level) * self.temporalis
        depth_s = A_s * F32(Ss) - self.r
        extra_soft = []
        for ell in (self.face, self.nose, self.neck):
            sec = ell.section(g, z, hs)
            if sec is not None:
                extra_soft.append(sec)
        scalp_alpha = frac(depth_s, ws)
        for box, a in extra_soft:
            np.maximum(scalp_alpha[box], a, out=scalp_alpha[box])
        # skin 45, subcutaneous fat layer, galea/muscle
        soft_val = F32(self.soft) + F32(6.0) * s.tex_c
        fat_layer = frac(F32(1.5) - np.abs(depth_s - F32(0.55 * self.scalp0 + 1.0)), 1.0) * F32(0.35)
        soft_val = soft_val + fat_layer * (F32(self.fat) - soft_val)
        composite(s.img, None, scalp_alpha, soft_val)

    def _outer_table(self, s: _Slab) -> tuple[np.ndarray, float]:
        """mm inside the skull's outer table at this level (thicker over the frontal sinus), and the
        width of its partial-volume ramp."""
        z, hs, t = s.z, s.hs, s.t
        So = self.S_outer(z, self.T0)
        wo = max(self.grid.ps, abs(self.S_outer(z + hs, self.T0) - self.S_outer(z - hs, self.T0)) * 0.5 * (self.W + self.L))
        front_boost = F32(7.0 * smoothstep((t - 0.17) / 0.05) * smoothstep((0.40 - t) / 0.06))
        A_o = self.A_o + front_boost * self.front if front_boost > 0 else self.A_o
        return A_o * F32(So) - self.r, wo

    def _cavity(self, s: _Slab, depth_o: np.ndarray, wo: float) -> _Cavity:
        """The cranial cavity = supratentorial vault U fossae of the skull base; each part keeps its own
        partial-volume ramp (the vault floor is cut obliquely, the fossae walls are steep). The cavity
        stays inside the skull, and the petrous ridges wall off the posterior fossa."""
        g, z, hs, t = self.grid, s.z, s.hs, s.t
        ps, H = g.ps, self.H
        Si = self.S_inner(z)
        wi = max(ps, abs(self.S_inner(z + hs) - self.S_inner(z - hs)) * 0.5 * (self.W + self.L))
        depth_main = self.A_i * F32(Si) - self.r if Si > 0 else None
        parts = []   # (depth map, ramp width)
        if depth_main is not None:
            parts.append((depth_main, wi))
        pf_depth = None
        for (name, cx, cy, a, b, t0, t1, t2), rho in zip(self.fossae, self.fossa_rho):
            if t <= t0 or t >= t2 + 0.05:
                continue

            def gk_at(tt, name=name, t0=t0, t1=t1):
                v = smoothstep((tt - t0) / (t1 - t0))
                return 0.32 + 0.68 * v if name == "posterior" else v

            gk = gk_at(t)
            if gk <= 0:
                continue
            m = min(a, b)
            wk = max(ps, abs(gk_at(t + hs / H) - gk_at(t - hs / H)) * m)
            dk = (F32(gk) - rho) * F32(m)
            if name == "posterior":
                pf_depth = dk
            parts.append((dk, wk))
        if parts:
            depth_cav = parts[0][0]
            for dk, _ in parts[1:]:
                depth_cav = np.maximum(depth_cav, dk)
        else:
            depth_cav = np.full_like(self.r, -100.0)
        petrous = []
        for ell in self.petrous:
            sec = ell.section(g, z, hs)
            if sec is not None:
                petrous.append(sec)
        cav = _Cavity(scale=Si, parts=parts, depth=depth_cav, depth_main=depth_main, pf_depth=pf_depth,
                      inside_skull=frac(depth_o - F32(2.5), wo), petrous=petrous)
        cav.alpha = self._walled(cav, self._cavity_fraction(cav, 0.0))
        return cav

    def _cavity_fraction(self, cav: _Cavity, offset: float) -> np.ndarray:
        """Share of each pixel more than ``offset`` mm inside any part of the cavity."""
        out = np.zeros_like(self.r)
        for dk, wk in cav.parts:
            np.maximum(out, frac(dk - F32(offset), wk), out=out)
        return out

    @staticmethod
    def _walled(cav: _Cavity, a: np.ndarray) -> np.ndarray:
        """``a`` (in place) kept inside the skull and out of the petrous ridges."""
        a *= cav.inside_skull
        for box, pa in cav.petrous:
            a[box] *= (F32(1.0) - pa)
        return a

    def _draw_skull(self, s: _Slab, depth_o: np.ndarray, wo: float, cav: _Cavity) -> np.ndarray:
        """Bone between the outer table and the cavity: cortical tables and diploe, the thin squama all
        cortex, the petrous ridges very dense. Returns the bone's share of each pixel."""
        t = s.t
        L = self.L
        bone_alpha = frac(depth_o, wo)
        if t < 0.12:
            # below the anterior skull base the vault gives way to the face: keep bone behind y_cut
            y_cut = -1.3 * L + (1.3 * L - 0.05 * L) * smoothstep((0.12 - t) / 0.14)
            bone_alpha *= frac(self.grid.y - F32(y_cut), 6.0)
        thick = depth_o - cav.depth + F32(1e-3)
        uu = np.abs(F32(2.0) * depth_o / thick - F32(1.0))
        cort = np.clip((uu - F32(0.35)) * F32(1 / 0.35), 0.0, 1.0)
        thin = np.clip((F32(4.5) - thick) * F32(0.3), 0.0, 1.0)      # thin squama is all cortex
        cort = np.maximum(cort, thin)
        bone_val = F32(self.diploe) + F32(220.0) * s.tex_f
        bone_val += cort * (F32(self.cortical) + F32(90.0) * s.tex_c - bone_val)
        # petrous ridges: very dense
        for box, a in cav.petrous:
            bone_val[box] += a * F32(500.0)
        composite(s.img, None, bone_alpha, bone_val)
        return bone_alpha

    def _draw_air_spaces(self, s: _Slab, bone_alpha: np.ndarray) -> None:
        """Air cells and sinuses inside the bone; the maxillary sinuses with their walls."""
        g, z, hs = self.grid, s.z, s.hs
        for name, ell, solid in self.air_cells:
            sec = ell.section(g, z, hs)
            if sec is None:
                continue
            box, a = sec
            if solid < 1.0:   # honeycomb of cells: air where the fine texture is high
                a = a * frac(s.tex_f[box] - F32(1.0 - 2.0 * solid), 0.4)
            a = a * bone_alpha[box]
            composite(s.img, box, a, AIR)
        for ell in self.maxillary:
            sec = ell.section(g, z, hs)
            if sec is not None:
                box, a = sec
                wall = ell.section(g, z, hs, grow=2.0)
                composite(s.img, wall[0], wall[1], self.cortical * 0.7)
                box, a = ell.section(g, z, hs)
                composite(s.img, box, a, AIR)

    def _draw_orbits(self, s: _Slab) -> None:
        """Orbital fat, then the globe and the lens in it."""
        g, z, hs = self.grid, s.z, s.hs
        for fat_ell, globe, lens in self.orbits:
            sec = fat_ell.section(g, z, hs)
            if sec is not None:
                box, a = sec
                composite(s.img, box, a, self.fat + 20.0 * s.tex_c[box])
            for ell, val in ((globe, 12.0), (lens, 105.0)):
                sec = ell.section(g, z, hs)
                if sec is not None:
                    composite(s.img, sec[0], sec[1], val)

    def _draw_face_and_neck(self, s: _Slab, bone_alpha: np.ndarray) -> None:
        """Soft tissue where the skull base bone gives way below the cranium, the nasopharynx, and the
        neck: vertebra with its canal, and the airway."""
        g, z, hs = self.grid, s.z, s.hs
        for ell in self.infratemporal:
            sec = ell.section(g, z, hs)
            if sec is not None:
                composite(s.img, sec[0], sec[1] * bone_alpha[sec[0]], self.soft + 6.0 * s.tex_c[sec[0]])
        sec = self.nasopharynx.section(g, z, hs)
        if sec is not None:
            composite(s.img, sec[0], sec[1], AIR)
        sec = self.vertebra.section(g, z, hs)
        if sec is not None:
            composite(s.img, sec[0], sec[1], self.diploe + 150 * s.tex_f[sec[0]])
            sec2 = self.canal.section(g, z, hs)
            if sec2 is not None:
                composite(s.img, sec2[0], sec2[1], 25.0)
        sec = self.airway.section(g, z, hs)
        if sec is not None:
            composite(s.img, sec[0], sec[1], AIR)

    # ---------------- cranial cavity contents ---------------------------------------------------
    def _draw_cavity_contents(self, s: _Slab, cav: _Cavity, depth_b: np.ndarray, brain: np.ndarray,
                              sulcus_dist: np.ndarray, cistern: np.ndarray, ventricles: list) -> None:
        """Brain and CSF spaces, then what lies over them (ventricles, dura, vessels, calcifications);
        the cavity goes into the image last, through its own partial-volume edge. Fills
        ``sulcus_dist``, ``cistern`` and ``ventricles`` for the lesion models."""
        self._measure_sulci(s, depth_b, sulcus_dist)
        cavity_val = self._brain_tissue(s, depth_b, brain, sulcus_dist, cav.pf_depth)
        self._draw_deep_grey(s, cavity_val, brain)
        self._fill_cisterns(s, cistern, cav.alpha)
        self._fill_sylvian_fissures(s, cistern, cav)
        xw, fis_depth = self._midline(s)
        if s.t > 0.25:
            fis = frac(F32(0.6 + 1.6 * self.atrophy) - np.abs(xw), self.grid.ps) * frac(F32(fis_depth) - depth_b, 3.0) * cav.alpha
            np.maximum(cistern, fis, out=cistern)
        cavity_val += cistern * (F32(self.csf) - cavity_val)
        # periventricular white-matter hypodensity (before the ventricles: they overwrite it)
        if self.wm_disease > 0 and 0.34 < s.t < 0.64:
            self._darken_white_matter(s, cavity_val, brain)
        self._draw_ventricles(s, cavity_val, cav.alpha, ventricles)
        self._draw_dura(s, cavity_val, cav, depth_b, xw, fis_depth)
        self._draw_venous_sinuses(s, cavity_val, cav)
        self._draw_vessels(s, cavity_val, cav.alpha)
        self._draw_calcifications(s, cavity_val, cav.alpha)
        composite(s.img, None, cav.alpha, cavity_val)

    def _measure_sulci(self, s: _Slab, depth_b: np.ndarray, sulcus_dist: np.ndarray) -> None:
        """mm to the nearest sulcus centre line, into ``sulcus_dist`` (a sulcus is CSF lined by cortex;
        its course drifts with z)."""
        sd_full = self.sulcus_depth
        for k, sul in enumerate(self.sulci):
            ph = sul["phase"] + F32(sul["omega"] * s.z + sul["phi0"]) + F32(sul["kappa"]) * depth_b + F32(1.8) * s.tex_vl
            c = np.cos(ph)
            d = np.sqrt(np.maximum(F32(2.0) - F32(2.0) * c, 0)) * self.r_over_n[k]
            # each sulcus gets its own depth (quasi-random in the sulcus index); secondary ones are short
            reach = F32(0.55 if k == 0 else 0.25) + F32(0.45) * np.cos(F32(0.809) * ph + F32(1.3 + k))
            d = d + F32(40.0) * frac(depth_b - reach * sd_full, 3.0)
            np.minimum(sulcus_dist, d, out=sulcus_dist)

    def _brain_tissue(self, s: _Slab, depth_b: np.ndarray, brain: np.ndarray, sulcus_dist: np.ndarray,
                      pf_depth: np.ndarray | None) -> np.ndarray:
        """The cavity's value before its CSF spaces: cortex ribbon and sulci over white matter (the
        cerebellum's folia in the posterior fossa), CSF where there is no brain."""
        t, shift, ps = s.t, s.shift, self.grid.ps
        gm, wm, csf = F32(self.gm), F32(self.wm), F32(self.csf)
        sd = self.sulcus_depth
        in_sulcal_zone = frac(sd - depth_b, 2.0)
        sulc = frac(F32(self.sulcus_w / 2) - sulcus_dist, ps) * in_sulcal_zone * F32(self.sulcus_contrast)
        if s.shift_side and shift:
            # mass effect beyond the shift: the swollen hemisphere presses its sulci shut
            # (effacement), fading across the midline so the other side keeps its CSF
            effaced = F32(min(0.85, abs(shift) / 10.0)) * frac(self.grid.x * F32(s.shift_side) - F32(shift), 8.0)
            sulc = sulc * (F32(1.0) - effaced)
        gm_w = np.maximum(frac(F32(self.ctx) - depth_b, 1.5),
                          frac(F32(self.sulcus_w / 2 + self.ctx) - sulcus_dist, 1.2) * frac(sd + F32(self.ctx) - depth_b, 2.0))
        if pf_depth is not None and t < 0.3:
            # cerebellum: folia instead of gyri, grey-ish overall
            cereb = frac(pf_depth, 2.0) * F32(smoothstep((0.3 - t) / 0.06))
            folia = F32(0.5) + F32(0.5) * np.cos(self.r * F32(1.4) + F32(2.0) * s.tex_c)
            sulc = sulc * (F32(1.0) - cereb)
            gm_w = gm_w + cereb * (F32(0.55) + F32(0.3) * folia - gm_w)
        tissue = wm + (gm - wm) * gm_w + F32(1.2) * s.tex_c + F32(0.6) * s.tex_f
        tissue += sulc * (csf - tissue)
        return csf + brain * (tissue - csf)

    def _draw_deep_grey(self, s: _Slab, cavity_val: np.ndarray, brain: np.ndarray) -> None:
        """Deep grey nuclei, moved with the midline."""
        gm = F32(self.gm)
        for name, ell, off in self.nuclei:
            dx = s.shift * 0.8
            sec = ell.section(self.grid, s.z, s.hs, dx=dx)
            if sec is not None:
                box, a = sec
                composite(cavity_val, box, a * brain[box], gm + F32(off))

    def _fill_cisterns(self, s: _Slab, cistern: np.ndarray, cav_alpha: np.ndarray) -> None:
        """Basal cisterns (CSF) with the brainstem inside them, into ``cistern``."""
        g, z, hs = self.grid, s.z, s.hs
        for name, ell in self.cisterns:
            sec = ell.section(g, z, hs)
            if sec is not None:
                box, a = sec
                a = a * cav_alpha[box]
                np.maximum(cistern[box], a, out=cistern[box])
        for name, ell in self.stem:
            sec = ell.section(g, z, hs)
            if sec is not None:
                box, a = sec
                cistern[box] *= (F32(1.0) - a)
        for name, ell in self.cisterns_after_stem:
            sec = ell.section(g, z, hs)
            if sec is not None:
                box, a = sec
                np.maximum(cistern[box], a * cav_alpha[box], out=cistern[box])

    def _fill_sylvian_fissures(self, s: _Slab, cistern: np.ndarray, cav: _Cavity) -> None:
        """Sylvian fissures and insular cisterns, into ``cistern``."""
        W, L, ps = self.W, self.L, self.grid.ps
        syl_level = smoothstep((s.t - 0.26) / 0.04) * smoothstep((0.44 - s.t) / 0.05)
        if syl_level <= 0:
            return
        for sgn in (-1, 1):
            outer = self.W * 0.92 * cav.scale
            for p0, p1 in (((sgn * outer, -0.04 * L), (sgn * 0.74 * W, -0.12 * L)),
                           ((sgn * 0.74 * W, -0.12 * L), (sgn * 0.50 * W, -0.10 * L)),
                           ((sgn * 0.47 * W, -0.24 * L), (sgn * 0.49 * W, 0.02 * L))):
                cap = capsule(self.grid, p0, p1, self.syl_w * 0.5 * syl_level + 0.3, ps)
                if cap is not None:
                    box, a = cap
                    np.maximum(cistern[box], a * cav.alpha[box] * F32(self.sulcus_contrast + 0.15), out=cistern[box])

    def _midline(self, s: _Slab) -> tuple[np.ndarray, float]:
        """x measured from the shifted midline (the falx bows with the shift, less at the back), and how
        deep the interhemispheric fissure reaches (all the way above the callosum)."""
        x, y = self.grid.x, self.grid.y
        xw = x - F32(s.shift) * np.clip(F32(0.9) - y * F32(0.5 / self.L), 0.0, 1.0) if s.shift else x
        fis_depth = 200.0 if s.t > 0.58 else 22.0 + 10.0 * self.atrophy
        return xw, fis_depth

    def _darken_white_matter(self, s: _Slab, cavity_val: np.ndarray, brain: np.ndarray) -> None:
        """Small-vessel disease: patchy hypodensity in a halo round the lateral ventricles."""
        halo = np.zeros_like(cavity_val)   # the union of the halos: overlapping parts darken once
        for name, ell in self.vent:
            if name.startswith(("frontal", "body", "atrium", "occipital")):
                sec = ell.section(self.grid, s.z, s.hs, dx=s.shift * 0.8, grow=self.wm_disease_reach)
                if sec is not None:
                    np.maximum(halo[sec[0]], sec[1], out=halo[sec[0]])
        patch = np.clip(F32(0.5) + s.tex_vl, 0.0, 1.0) * F32(self.wm_disease * self.wm_disease_hu)
        cavity_val -= halo * brain * patch
        s.hard.add("white_matter_disease")

    def _draw_ventricles(self, s: _Slab, cavity_val: np.ndarray, cav_alpha: np.ndarray, ventricles: list) -> None:
        """Ventricles (compressed on the side of a mass, moved with the midline) with the choroid plexus;
        each part's (name, box, alpha) into ``ventricles``."""
        g, z, hs, shift = self.grid, s.z, s.hs, s.shift
        csf = F32(self.csf)
        for name, ell in self.vent:
            side = 1 if name.endswith("left") else (-1 if name.endswith("right") else 0)
            dx = shift * (0.9 if side == 0 else 0.8)
            shrink = 1.0
            if s.shift_side and side == s.shift_side:   # compressed on the side of the mass
                shrink = max(0.35, 1.0 - abs(shift) / 14.0)
            sec = ell.section(g, z, hs, dx=dx, shrink_x=shrink)
            if sec is not None:
                box, a = sec
                a = a * cav_alpha[box]
                ventricles.append((name, box, a))
                composite(cavity_val, box, a, csf)
        for ell in self.choroid:
            sec = ell.section(g, z, hs, dx=shift * 0.8)
            if sec is not None:
                composite(cavity_val, sec[0], sec[1] * cav_alpha[sec[0]], F32(self.gm) - 4.0 if self.choroid_hu is None else self.choroid_hu)

    def _draw_dura(self, s: _Slab, cavity_val: np.ndarray, cav: _Cavity, depth_b: np.ndarray, xw: np.ndarray,
                   fis_depth: float) -> None:
        """Falx (a dense line in the interhemispheric fissure) and tentorium (dense rim of the posterior fossa)."""
        t, ps, y = s.t, self.grid.ps, self.grid.y
        if t > 0.25:
            falx = frac(F32(0.45) - np.abs(xw), ps * 0.8) * frac(F32(fis_depth + 4.0) - depth_b, 3.0) * cav.alpha
            composite(cavity_val, None, falx * F32(0.9), F32(self.falx_hu + self.dura_boost))
            s.hard.add("falx")
        if cav.pf_depth is not None and 0.18 < t < 0.34 and cav.depth_main is not None:
            tent = frac(F32(0.6) - np.abs(cav.pf_depth), ps) * frac(cav.depth_main, 2.0) * frac(y - F32(0.15 * self.L), 8.0)
            composite(cavity_val, None, tent * F32(0.35), F32(self.falx_hu + self.dura_boost))

    def _draw_venous_sinuses(self, s: _Slab, cavity_val: np.ndarray, cav: _Cavity) -> None:
        """Superior sagittal sinus along the inner table at the midline; the transverse sinuses from the
        torcula round the occiput, sloping down to the sigmoid sinuses."""
        g, z, hs, t, H, ps = self.grid, s.z, s.hs, s.t, self.H, self.grid.ps
        Si = cav.scale
        if t > 0.3:
            for sgn in (1, -1) if t > 0.6 else (1,):
                ypos = sgn * float(self.A_i_at(sgn)) * Si
                sinus = Ellipsoid(0.0, ypos - sgn * 2.5, z, 3.5, 3.0, 10.0)
                sec = sinus.section(g, z, hs, dx=0.0)
                if sec is not None:
                    composite(cavity_val, sec[0], sec[1] * cav.alpha[sec[0]], self.sinus_hu)
        if 0.17 < t < 0.33:
            for s_ in (-1, 1):
                for k in range(12):
                    a0, a1 = k * 5.0, (k + 1) * 5.0   # degrees from the posterior midline
                    zc = (0.285 - 0.09 * (a0 + a1) / 120.0) * H
                    w_z = self._slab_overlap(z, hs, zc, 3.0)
                    if w_z > 0:
                        Sl = max(Si, 0.3)
                        p0, p1 = self._inner_point(s_, a0, 3.0 / Sl), self._inner_point(s_, a1, 3.0 / Sl)
                        cap = capsule(g, (p0[0] * Sl, p0[1] * Sl), (p1[0] * Sl, p1[1] * Sl), 3.0, ps)
                        if cap is not None:
                            composite(cavity_val, cap[0], cap[1] * cav.alpha[cap[0]] * F32(w_z), self.sinus_hu)
                            s.hard.add("venous_sinus")

    def _draw_vessels(self, s: _Slab, cavity_val: np.ndarray, cav_alpha: np.ndarray) -> None:
        """The straight sinus (vein of Galen to the torcula) and the arteries, moved half the midline shift."""
        L, H, shift = self.L, self.H, s.shift
        St = max(self.S_inner(0.285 * H), 0.3)
        galen, torcula = (0.0, 0.32 * L, 0.37 * H), (0.0, self._inner_point(1, 0.0, 3.0 / St)[1] * St, 0.285 * H)
        for name, p0, p1, radius, val in ([("straight_sinus", galen, torcula, 2.2, self.sinus_hu)] +
                                          [(n, a, b, self.artery_r * (1.3 if n == "basilar" or n.startswith("carotid") else 1.0),
                                            self.vessel_hu) for n, a, b in self.arteries]):
            seg = self._vessel_section(s.z, s.hs, p0, p1, radius)
            if seg is not None:
                (q0, q1), w_z = seg
                cap = capsule(self.grid, (q0[0] + shift * 0.5, q0[1]), (q1[0] + shift * 0.5, q1[1]), radius, self.grid.ps)
                if cap is not None:
                    composite(cavity_val, cap[0], cap[1] * cav_alpha[cap[0]] * F32(w_z), F32(val))
                    s.hard.add("vessels")
        for points, radius, val in self.small_vessels:
            # the deep veins by the midline move half the midline shift, as the arteries do; the
            # cortical vessels stay by the skull
            for p0, p1 in zip(points, points[1:]):
                seg = self._vessel_section(s.z, s.hs, p0, p1, radius)
                if seg is not None:
                    (q0, q1), w_z = seg
                    cap = capsule(self.grid, (q0[0] + shift * 0.5 * (abs(q0[0]) < 8.0), q0[1]),
                                  (q1[0] + shift * 0.5 * (abs(q1[0]) < 8.0), q1[1]), radius, self.grid.ps)
                    if cap is not None:
                        composite(cavity_val, cap[0], cap[1] * cav_alpha[cap[0]] * F32(w_z), F32(val))
                        s.hard.add("small_vessels")
        if self.contrast:
            s.hard.add("contrast")

    def _draw_calcifications(self, s: _Slab, cavity_val: np.ndarray, cav_alpha: np.ndarray) -> None:
        """Calcifications and falx plaques (hard negatives)."""
        for name, ell, val in self.calc:
            sec = ell.section(self.grid, s.z, s.hs, dx=s.shift * 0.8)
            if sec is not None:
                composite(cavity_val, sec[0], sec[1], val)
                s.hard.add(name)
        for ell, val in self.falx_plaques:
            sec = ell.section(self.grid, s.z, s.hs, dx=s.shift * 0.5)
            if sec is not None:
                composite(cavity_val, sec[0], sec[1] * cav_alpha[sec[0]], val)
                s.hard.add("falx_plaque")

    @staticmethod
    def _slab_overlap(z: float, hs: float, zc: float, radius: float) -> float:
        """Share of a slab (centre z, half-thickness hs) filled by a horizontal tube at height zc: partial volume."""
        lo, hi = max(z - hs, zc - radius), min(z + hs, zc + radius)
        return max(0.0, hi - lo) / (2.0 * hs) if hi > lo else 0.0

    def _vessel_section(self, z: float, hs: float, p0, p1, radius: float):
        """Where a straight vessel p0-p1 (head frame, mm) crosses the slab: its in-plane segment and weight.

        A steep vessel crosses as a disc of full density; a vessel lying in the slab as a line of
        partial density (its diameter over the slab thickness)."""
        z0, z1 = p0[2], p1[2]
        lo, hi = min(z0, z1) - radius, max(z0, z1) + radius
        if z + hs < lo or z - hs > hi:
            return None
        dz = z1 - z0
        if abs(dz) < 1e-6:
            return ((p0[:2], p1[:2]), self._slab_overlap(z, hs, z0, radius))
        ta = float(np.clip((z - hs - z0) / dz, 0.0, 1.0))
        tb = float(np.clip((z + hs - z0) / dz, 0.0, 1.0))
        ta, tb = min(ta, tb), max(ta, tb)
        q = lambda tt: (p0[0] + tt * (p1[0] - p0[0]), p0[1] + tt * (p1[1] - p0[1]))
        # the length of vessel inside the slab against the slab's thickness: a steep vessel fills
        # it, a shallow one fills only its own diameter of it
        seg_len = math.dist(p0, p1) * (tb - ta)
        horiz = math.hypot(*(np.subtract(q(tb), q(ta))))
        w = 1.0 if horiz < 1e-6 else min(1.0, (2.0 * radius) / max(2.0 * hs * horiz / max(seg_len, 1e-6), 1e-6))
        return (q(ta), q(tb)), w

    def _inner_point(self, sgn: int, deg: float, inset: float) -> tuple[float, float]:
        """Head-frame point ``inset`` mm inside the inner table at the widest level, ``deg`` degrees from the
        posterior midline (sgn=+1 towards the left). For a level whose inner table is scaled by S, pass
        ``inset / S`` and multiply the point by S."""
        th = math.radians(90.0 - sgn * deg)   # 90 deg is posterior (+y); +x is the left
        row, col = self.grid.to_pixel(self.W * math.cos(th), self.L * math.sin(th))
        ri = int(min(max(round(row), 0), self.grid.size - 1))
        ci = int(min(max(round(col), 0), self.grid.size - 1))
        scale = float(self.A_i[ri, ci]) / max(float(self.r[ri, ci]), 1e-3)   # inner table, as a share of the probe
        rho = scale - inset / max(math.hypot(self.W * math.cos(th), self.L * math.sin(th)), 1e-3)
        return (rho * self.W * math.cos(th), rho * self.L * math.sin(th))

    def A_i_at(self, sgn: int) -> float:
        """Inner-table radius (mm, widest level) at the posterior (+1) or anterior (-1) midline."""
        row, col = self.grid.to_pixel(0.0, sgn * self.L)
        ri = int(min(max(round(row), 0), self.grid.size - 1))
        ci = int(min(max(round(col), 0), self.grid.size - 1))
        return float(self.A_i[ri, ci]) * (self.L / max(float(self.r[ri, ci]), 1e-3))
