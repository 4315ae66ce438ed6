"""The realism gate: figures of bleed-free phantoms, measured as ``realism --levels`` measures them,
must stay inside the bounds below (published non-contrast head-CT figures, widened by what the real
series in ../shared/real-head-ct measures), so a later change to the generator cannot drift back to
a head that no scanner makes. Runs in a fresh clone: no real data needed.
"""
from __future__ import annotations

import unittest

import numpy as np

from models.phantom import generate_study
from models.phantom.contract import SUBTYPES
from models.phantom.realism import level_slices, measure_level

NO_BLEED = {"any": 0.0, **{s: 0.0 for s in SUBTYPES}}

#: measure -> (low, high) at the level of the ventricles and the centrum semiovale
BOUNDS = {
    "intracranial HU p50": (22.0, 36.0),        # real 28–30
    "parenchyma HU p25": (19.0, 30.0),          # white matter, published 20–30; real 24–25
    "parenchyma HU p75": (28.0, 45.0),          # grey matter side, published 35–45; real 35–37
    "noise σ (HU)": (1.5, 6.0),                 # published 3–6 at 5 mm; real 2.2–2.3 (soft kernel, 7 mm)
    "NPS mean frequency (cycles/mm)": (0.25, 0.48),  # real 0.37–0.41
    "inner-table edge width (mm)": (0.8, 3.0),  # real 2.0–2.1
    "skull HU p50": (600.0, 1500.0),            # published cortical bone 700–2000+; real 970–1020
    "cavity area (cm²)": (100.0, 260.0),        # adult cranial cavity at these levels; real 159–171
}


class TestRealismGate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.measured = []
        for index in range(3):
            st = generate_study(0, index, n_slices=34, prevalence=NO_BLEED)
            lv = level_slices(st.hu)
            for level in ("ventricles", "centrum semiovale"):
                m = measure_level(st.hu[lv[level]], st.meta["pixel_spacing"])
                m["intracranial HU p50"] = m["intracranial HU p5/p50/p95"][1]
                m["parenchyma HU p25"], m["parenchyma HU p75"] = m["parenchyma HU p25/p75 (≈ white/grey)"]
                cls.measured.append((index, level, m))

    def test_every_figure_stays_inside_its_bounds(self):
        for measure, (lo, hi) in BOUNDS.items():
            values = [m[measure] for _, _, m in self.measured]
            mean = float(np.mean(values))
            with self.subTest(measure=measure):
                self.assertTrue(lo <= mean <= hi, f"{measure}: mean {mean:.2f} outside [{lo}, {hi}] ({values})")

    def test_grey_and_white_matter_are_told_apart(self):
        contrast = [m["parenchyma HU p75"] - m["parenchyma HU p25"] for _, _, m in self.measured]
        self.assertGreater(float(np.mean(contrast)), 6.0)   # real 11–12; the first generator gave 6.5


class TestContrastEnhancedGate(unittest.TestCase):
    """Contrast-enhanced phantoms against the corpus's contrast-enhanced slice (``realism --contrast``):
    their enhancing vessels must fill blood's density range about as the real slice's do (3.8 % of
    the intracranial pixels at 50–100 HU), or a network learns that real enhancing vessels are blood."""

    def test_the_enhancing_tail_at_the_reference_level(self):
        from models.phantom.realism import describe, phantom_indices, reference_level

        enhanced = phantom_indices(0, 3, contrast=True)
        tails = []
        for index in enhanced:
            st = generate_study(0, index, n_slices=34, prevalence=NO_BLEED)
            self.assertTrue(st.meta["head"]["contrast"])
            tails.append(describe(st.hu[reference_level(st)], st.meta["pixel_spacing"])["intracranial_fractions"]["50-100"])
        # real 3.8 %; generator v4, whose contrast lit only the circle of Willis and the sinuses, 1.8 %
        self.assertTrue(0.025 <= float(np.mean(tails)) <= 0.06, f"50–100 HU fractions {tails}")
