"""Tests of the phantom generator: DICOM files readable by pydicom and dcmtk with the same HU as in
memory, labels that follow the drawn blood, determinism, hard negatives, RSNA CSV format.

Run from the repo root: /usr/bin/python3 -m unittest discover -s models -t . -p 'test_*.py'
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import tempfile
import unittest
import warnings
from pathlib import Path

import numpy as np
import pydicom
from scipy import ndimage

from models.phantom import LABELS, generate_dataset, generate_study, write_study
from models.phantom.contract import CONTRACT_PATH, DEFAULT_WINDOW, SUBTYPES
from models.phantom.anatomy import Head
from models.phantom.lesions import BALANCED_PREVALENCE, blood_texture, sample_blood, sample_lesions
from models.phantom.shapes import Grid
from models.phantom.study import STORAGE_VARIANTS, sop_id

# the RSNA-style SOP Instance UID 'ID_<id>' is deliberately not a valid UI value
warnings.filterwarnings("ignore", message="Invalid value for VR UI")

NO_BLEED = {"any": 0.0, **{s: 0.0 for s in SUBTYPES}}


def _first_positive(seed: int, n_slices: int, balanced: bool = True, start: int = 0):
    for index in range(start, start + 40):
        st = generate_study(seed, index, balanced=balanced, n_slices=n_slices)
        if st.labels[:, 0].any():
            return st
    raise AssertionError("no positive study found")


def _read_hu(path: Path) -> np.ndarray:
    ds = pydicom.dcmread(str(path))
    return ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


class TestContract(unittest.TestCase):
    def test_labels_come_from_contract(self):
        contract = json.loads(CONTRACT_PATH.read_text())
        self.assertEqual(list(LABELS), contract["labels"])
        self.assertEqual(DEFAULT_WINDOW, (contract["defaultWindow"]["center"], contract["defaultWindow"]["width"]))

    def test_ids_unique_and_rsna_shaped(self):
        ids = {sop_id(3, i, k) for i in range(1500) for k in range(40)}
        self.assertEqual(len(ids), 1500 * 40)
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{9}", i) for i in list(ids)[:500]))


class TestStudy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = _first_positive(11, 16)
        cls.tmp = Path(tempfile.mkdtemp(prefix="phantom-test-"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_shapes_and_types(self):
        st = self.st
        Z = st.hu.shape[0]
        self.assertEqual(st.hu.shape, (Z, 512, 512))
        self.assertEqual(st.hu.dtype, np.float32)
        self.assertEqual(st.labels.shape, (Z, 6))
        self.assertEqual(st.window.shape, (Z, 2))
        self.assertEqual(st.study_labels.tolist(), st.labels.max(0).tolist())
        self.assertEqual(set(st.masks), set(SUBTYPES))

    def test_labels_follow_masks(self):
        st = self.st
        masks = st.masks
        for k, s in enumerate(LABELS):
            if s == "any":
                continue
            has = masks[s].reshape(len(st), -1).any(1)
            np.testing.assert_array_equal(st.labels[:, k].astype(bool), has, err_msg=s)
            if has.any():   # the mask covers drawn blood, not air or bone
                med = float(np.median(st.hu[masks[s]]))
                self.assertTrue(35.0 <= med <= 100.0, f"{s}: median HU {med}")
        np.testing.assert_array_equal(st.labels[:, 0], st.labels[:, 1:].max(1))

    def test_pure_function_of_seed_and_index(self):
        again = generate_study(self.st.meta["seed"], self.st.meta["index"], balanced=True, n_slices=16)
        np.testing.assert_array_equal(again.hu, self.st.hu)
        np.testing.assert_array_equal(again.labels, self.st.labels)
        other = generate_study(self.st.meta["seed"] + 1, self.st.meta["index"], balanced=True, n_slices=16)
        self.assertFalse(np.array_equal(other.hu, self.st.hu))

    def test_pydicom_and_dcmdump_read_same_hu(self):
        folder = self.tmp / "roundtrip"
        paths = write_study(self.st, folder)
        self.assertEqual(len(paths), len(self.st))
        by_id = {("ID_" + i): k for k, i in enumerate(self.st.ids)}
        for p in paths:
            ds = pydicom.dcmread(str(p))
            k = by_id[ds.SOPInstanceUID]
            self.assertEqual(p.name, ds.SOPInstanceUID + ".dcm")
            self.assertEqual(ds.Modality, "CT")
            self.assertEqual(ds.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
            self.assertEqual(ds.PhotometricInterpretation, "MONOCHROME2")
            self.assertTrue(str(ds.PatientName).startswith("PHANTOM^"))
            np.testing.assert_array_equal(_read_hu(p), self.st.hu[k])
        # dcmtk: parse the tags and dump the raw pixels of one slice
        p = paths[len(paths) // 2]
        k = by_id[p.stem]
        rawdir = self.tmp / "raw"
        rawdir.mkdir()
        out = subprocess.run(["dcmdump", "+W", str(rawdir), str(p)], capture_output=True, text=True, check=True).stdout
        tag = lambda t: re.search(rf"^\({t}\) \w\w \[?([^\]\s]+)", out, re.M).group(1)
        self.assertEqual(int(tag("0028,0010")), 512)
        slope, icpt = float(tag("0028,1053")), float(tag("0028,1052"))
        pr = int(tag("0028,0103"))
        raw_file = next(rawdir.glob("*.raw"))
        raw = np.fromfile(raw_file, dtype="<i2" if pr else "<u2").reshape(512, 512)
        np.testing.assert_array_equal(raw.astype(np.float32) * slope + icpt, self.st.hu[k])

    def test_window_tags_match_study_window(self):
        for mode in ("none", "single", "multi"):
            st = generate_study(5, 2, n_slices=4, overrides={"windows": mode})
            p = write_study(st, self.tmp / f"win-{mode}")[0]
            ds = pydicom.dcmread(str(p))
            k = st.ids.index(p.stem[3:])
            if mode == "none":
                self.assertNotIn("WindowCenter", ds)
                self.assertEqual(tuple(st.window[k]), DEFAULT_WINDOW)
            else:
                wc, ww = ds.WindowCenter, ds.WindowWidth
                first = (float(wc[0]), float(ww[0])) if mode == "multi" else (float(wc), float(ww))
                self.assertEqual(tuple(float(v) for v in st.window[k]), first)


class TestStorageVariants(unittest.TestCase):
    def test_every_variant_round_trips(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name, pr, bits, icpt, pad in STORAGE_VARIANTS:
                for ts in ("explicit", "implicit"):
                    st = generate_study(9, 0, n_slices=5, overrides={"storage": name, "transfer_syntax": ts})
                    paths = write_study(st, Path(tmp) / f"{name}-{ts}")
                    ds = pydicom.dcmread(str(paths[0]))
                    self.assertEqual((ds.PixelRepresentation, ds.BitsStored, float(ds.RescaleIntercept)), (pr, bits, icpt))
                    self.assertEqual(ds.file_meta.TransferSyntaxUID, "1.2.840.10008.1.2" if ts == "implicit" else "1.2.840.10008.1.2.1")
                    if pad is not None:
                        self.assertEqual(int(ds[0x00280120].value), pad)
                        self.assertEqual(float(_read_hu(paths[0])[0, 0]), pad + icpt)   # corner: outside the FOV
                    k = st.ids.index(paths[0].stem[3:])
                    np.testing.assert_array_equal(_read_hu(paths[0]), st.hu[k])

    def test_gantry_tilt_geometry(self):
        st = generate_study(9, 1, n_slices=6, overrides={"gantry_tilt": 12.0})
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_study(st, tmp)
            dss = sorted((pydicom.dcmread(str(p)) for p in paths), key=lambda d: float(d.ImagePositionPatient[2]))
            self.assertAlmostEqual(float(dss[0].GantryDetectorTilt), 12.0)
            iop = np.array([float(v) for v in dss[0].ImageOrientationPatient])
            normal = np.cross(iop[:3], iop[3:])
            pos = [float(np.dot(normal, [float(v) for v in d.ImagePositionPatient])) for d in dss]
            np.testing.assert_allclose(np.diff(pos), 5.0 * np.cos(np.radians(12.0)), atol=1e-3)


class TestNegativeStudy(unittest.TestCase):
    def test_hard_negatives_present(self):
        st = generate_study(21, 3, n_slices=36, prevalence=NO_BLEED)
        self.assertEqual(int(st.labels.sum()), 0)
        self.assertFalse(st.lesion_bits.any())
        calc = [i for i, names in enumerate(st.meta["hard_negatives"]) if any(n.startswith(("pineal", "choroid")) for n in names)]
        self.assertTrue(calc, "no calcification drawn")
        # a calcification shows as 100..400 HU pixels well inside the skull (not bone)
        found = False
        for i in calc:
            hu = st.hu[i]
            c = hu.shape[0] // 2
            centre = hu[c - 90:c + 90, c - 90:c + 90]
            if ((centre > 90) & (centre < 450)).sum() >= 4:
                found = True
        self.assertTrue(found)
        self.assertTrue(any("falx" in names for names in st.meta["hard_negatives"]))
        self.assertTrue(any("vessels" in names for names in st.meta["hard_negatives"]))

    def test_contrast_studies_have_bright_vessels_and_no_label(self):
        st = next(s for s in (generate_study(22, i, n_slices=36, prevalence=NO_BLEED) for i in range(60))
                  if s.meta["head"]["contrast"])
        self.assertEqual(int(st.labels.sum()), 0)
        H = st.meta["head"]["H"]
        willis = int(np.argmin(np.abs(np.asarray(st.meta["z_head"]) / H - 0.25)))   # the circle of Willis
        self.assertIn("contrast", st.meta["hard_negatives"][willis])
        c = st.hu.shape[1] // 2
        centre = st.hu[willis, c - 60:c + 60, c - 60:c + 60]   # the basal cisterns, away from the skull base
        # enhanced arteries: white in a brain window as blood is, far below bone
        self.assertGreaterEqual(int(((centre > 120) & (centre < 400)).sum()), 20)
        # its DICOM says so, as a scanner's would (the Contrast/Bolus module); a plain study's does not
        with tempfile.TemporaryDirectory() as tmp:
            enhanced = pydicom.dcmread(write_study(st, Path(tmp) / "enhanced")[0])
            plain = next(s for s in (generate_study(22, i, n_slices=4, prevalence=NO_BLEED) for i in range(60))
                         if not s.meta["head"]["contrast"])
            unenhanced = pydicom.dcmread(write_study(plain, Path(tmp) / "plain")[0])
        self.assertEqual((enhanced.ContrastBolusAgent, enhanced.ContrastBolusRoute), ("IODINATED CONTRAST (synthetic)", "IV"))
        self.assertIn("WITH CONTRAST", enhanced.StudyDescription)
        self.assertNotIn("ContrastBolusAgent", unenhanced)
        self.assertIn("WO CONTRAST", unenhanced.StudyDescription)

    def test_a_contrast_share_enhances_more_heads_and_keeps_those_enhanced_at_the_default(self):
        grid = Grid(512, 0.45, 0.0, 0.0, 0.0)
        default = [Head(np.random.default_rng(seed), grid, 5.0).contrast for seed in range(30)]
        more = [Head(np.random.default_rng(seed), grid, 5.0, contrast_share=0.5).contrast for seed in range(30)]
        self.assertTrue(all(m for d, m in zip(default, more) if d))   # the same draw: enhanced stays enhanced
        self.assertGreater(sum(more), sum(default))
        self.assertEqual(sum(Head(np.random.default_rng(seed), grid, 5.0, contrast_share=0.0).contrast
                             for seed in range(30)), 0)

    def test_contrast_lights_up_small_vessels_in_blood_s_range_above_the_skull_base(self):
        grid = Grid(512, 0.45, 0.0, 0.0, 0.0)
        heads = [Head(np.random.default_rng(seed), grid, 5.0) for seed in range(40)]
        plain = next(h for h in heads if not h.contrast)
        self.assertEqual(plain.small_vessels, [])   # without contrast: none drawn, the study as before
        head = next(h for h in heads if h.contrast)
        self.assertGreater(len(head.small_vessels), 50)
        z = 0.6 * head.H   # the centrum semiovale: no artery of the circle of Willis reaches it
        with_vessels = head.render(z, key=3)
        kept, head.small_vessels = head.small_vessels, []
        without = head.render(z, key=3)
        head.small_vessels = kept
        lit = (with_vessels.hu - without.hu) > 20
        self.assertGreater(int(lit.sum()), 100)
        # inside the cranial cavity, and at densities a brain window shows as white as fresh blood
        self.assertTrue(np.all(with_vessels.depth_cav[lit] > -1.0))
        self.assertGreater(float(np.mean((with_vessels.hu[lit] > 60) & (with_vessels.hu[lit] < 300))), 0.8)
        # thin winding lines, not blobs: most lit pixels lie within 1 mm of unlit brain
        core = ndimage.binary_erosion(lit, iterations=3)
        self.assertLess(int(core.sum()), 0.05 * int(lit.sum()))


class TestBloodDensity(unittest.TestCase):
    def test_the_stages_span_chronic_to_acute(self):
        rng = np.random.default_rng(0)
        chronic = [sample_blood(rng, chronic_p=1.0)["hu"] for _ in range(200)]
        self.assertTrue(10 <= min(chronic) and max(chronic) <= 26)   # darker than brain, brighter than CSF
        anaemic = [sample_blood(rng, acute_p=1.0, anaemia_p=1.0)["hu"] for _ in range(200)]
        self.assertTrue(45 <= min(anaemic) and max(anaemic) <= 56)
        stages = {sample_blood(rng, 0.85, chronic_p=0.18, level_p=0.1, anaemia_p=0.1)["stage"] for _ in range(400)}
        self.assertEqual(stages, {"chronic", "fluid_level", "acute", "acute_anaemic", "subacute"})

    def test_a_fluid_level_is_dense_below_and_light_above(self):
        p = sample_blood(np.random.default_rng(1), level_p=1.0)
        p["level_y"] = 0.0
        y = np.linspace(-20, 20, 41, dtype=np.float32)[:, None] * np.ones((1, 8), np.float32)
        val = blood_texture(p, np.zeros_like(y), y)
        np.testing.assert_allclose(val[:10], p["hu_top"], atol=1e-3)    # anterior: serum / chronic part
        np.testing.assert_allclose(val[-10:], p["hu"], atol=1e-3)       # posterior, dependent: the cells
        # without positions (drawing into a real series) the clot is homogeneous at its dense value
        np.testing.assert_allclose(blood_texture(p, np.zeros((4, 4), np.float32)), p["hu"], atol=1e-3)

    def test_default_draws_are_unchanged_for_the_real_series_inserts(self):
        # insert.py draws with the defaults: the held-out real-anatomy sets must stay reproducible
        a = sample_blood(np.random.default_rng(7), acute_p=0.85)
        rng = np.random.default_rng(7)
        acute = rng.random() < 0.85
        self.assertTrue(acute)
        self.assertAlmostEqual(a["hu"], rng.uniform(55, 85))


class TestSingleSubtypeShare(unittest.TestCase):
    """Training pools may hold more bleeds of one subtype alone; every other pool stays as it was."""

    head = Head(np.random.default_rng(0), Grid(512, 0.45, 0.0, 0.0, 0.0), 5.0)

    def draw(self, seed, share=None):
        kw = {} if share is None else {"single_subtype_share": share}
        return sorted({les.subtype for les in sample_lesions(np.random.default_rng(seed), self.head,
                                                            BALANCED_PREVALENCE, **kw)})

    def test_share_zero_draws_what_the_generator_always_drew(self):
        # the subtypes of these draws, pinned before the option existed: held-out pools stay reproducible
        pinned = [["epidural", "intraparenchymal", "intraventricular"], ["intraparenchymal", "subarachnoid"],
                  ["epidural", "intraventricular"], ["epidural", "subarachnoid"], [], [],
                  ["epidural", "intraparenchymal", "intraventricular"], ["intraventricular", "subarachnoid"]]
        self.assertEqual([self.draw(s) for s in range(8)], pinned)
        self.assertEqual([self.draw(s, 0.0) for s in range(8)], pinned)

    def test_at_share_one_every_bleeding_study_holds_one_subtype_and_the_same_studies_bleed(self):
        plain = [self.draw(s) for s in range(60)]
        single = [self.draw(s, 1.0) for s in range(60)]
        self.assertEqual([bool(p) for p in plain], [bool(x) for x in single])
        self.assertTrue(all(len(x) == 1 for x in single if x))
        self.assertGreater(sum(len(p) > 1 for p in plain), 20)   # the plain mix: mostly several at once
        self.assertEqual({x[0] for x in single if x}, set(SUBTYPES))
        half = [self.draw(s, 0.5) for s in range(60)]
        alone = sum(len(x) == 1 for x in half if x) / sum(bool(x) for x in half)
        self.assertTrue(sum(len(p) == 1 for p in plain if p) / sum(bool(p) for p in plain) < alone < 1.0)


class TestDataset(unittest.TestCase):
    def test_csv_format_and_determinism(self):
        with tempfile.TemporaryDirectory() as tmp:
            a, b = Path(tmp) / "a", Path(tmp) / "b"
            generate_dataset(a, 2, seed=4, slices_min=6, slices_max=7, workers=1)
            generate_dataset(b, 2, seed=4, slices_min=6, slices_max=7, workers=2)
            files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
            files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
            self.assertEqual(files_a, files_b)
            for rel in files_a:
                self.assertEqual((a / rel).read_bytes(), (b / rel).read_bytes(), str(rel))
            lines = (a / "stage_2_train.csv").read_text().splitlines()
            self.assertEqual(lines[0], "ID,Label")
            pat = re.compile(r"ID_([0-9a-f]{9})_(any|epidural|intraparenchymal|intraventricular|subarachnoid|subdural),([01])")
            rows = [pat.fullmatch(x) for x in lines[1:]]
            self.assertTrue(all(rows))
            ids = [m.group(1) for m in rows]
            self.assertEqual(len(ids) % 6, 0)
            for k in range(0, len(rows), 6):
                self.assertEqual([m.group(2) for m in rows[k:k + 6]], list(LABELS))
                self.assertEqual(len(set(ids[k:k + 6])), 1)
                vals = [int(m.group(3)) for m in rows[k:k + 6]]
                self.assertEqual(vals[0], max(vals[1:]))
            dcm = {p.stem for p in a.rglob("*.dcm")}
            self.assertEqual({"ID_" + i for i in ids}, dcm)
            with (a / "studies.csv").open() as f:
                studies = list(csv.DictReader(f))
            self.assertEqual(len(studies), 2)
            self.assertEqual(sum(int(s["n_slices"]) for s in studies), len(dcm))
            for s in studies:
                self.assertTrue(set(LABELS) <= set(s))


if __name__ == "__main__":
    unittest.main()
