"""The RSNA-format reader (HU, windows, labels, study split) and the phantom stream."""
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pydicom
import torch
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from models.training import data as D
from models.training.contract import DEFAULT_WINDOW, LABELS
from models.training.tests.helpers import phantom_or_standin


def write_ct(path: Path, raw: np.ndarray, study_uid: str, slope: float = 1.0, intercept: float = -1024.0,
             window=None) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.StudyInstanceUID, ds.SeriesInstanceUID = "CT", study_uid, study_uid + ".1"
    ds.Rows, ds.Columns = raw.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = raw.astype("<i2").tobytes()
    ds.save_as(str(path), write_like_original=False)


class RsnaReaderTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        rng = np.random.default_rng(0)
        rows = ["ID,Label"]
        self.truth = {}
        for s in range(6):
            uid = f"1.2.3.{s}"
            for k in range(3):
                sop = f"ID_{s:02d}{k:02d}abc"
                size = 256 if (s, k) == (0, 0) else 512
                window = (["40", "50"], ["80", "100"]) if k == 0 else ((35, 90) if k == 1 else None)
                write_ct(self.root / f"{sop}.dcm", rng.integers(900, 1200, (size, size)), uid, window=window)
                lab = (rng.random(len(LABELS)) < 0.3).astype(int)
                self.truth[sop] = lab
                rows += [f"{sop}_{label},{v}" for label, v in zip(LABELS, lab)]
        (self.root / "stage_2_train.csv").write_text("\n".join(rows) + "\n")

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def test_hu_window_and_resample(self) -> None:
        path = self.root / "ID_0001abc.dcm"
        s = D.read_dicom(path)
        raw = pydicom.dcmread(str(path)).pixel_array.astype(np.float32)
        np.testing.assert_array_equal(s.hu, raw - 1024)
        self.assertEqual(s.window.tolist(), [35.0, 90.0])
        multi = D.read_dicom(self.root / "ID_0000abc.dcm")  # 256x256, multi-valued window
        self.assertEqual(multi.hu.shape, (512, 512))
        self.assertEqual(multi.window.tolist(), [40.0, 80.0])
        bare = D.read_dicom(self.root / "ID_0002abc.dcm")
        self.assertEqual(tuple(bare.window.tolist()), DEFAULT_WINDOW)
        self.assertEqual(bare.study_uid, "1.2.3.0")

    def test_labels_and_split_by_study(self) -> None:
        full = D.RsnaFolder(self.root, cache_dir=self.root)
        self.assertEqual(len(full), 18)
        for (sop, _, _), lab in zip(full.entries, full.labels):
            self.assertEqual(lab.tolist(), self.truth[sop].tolist())
        splits = {name: D.RsnaFolder(self.root, split=name, val_fraction=0.3, test_fraction=0.3,
                                           cache_dir=self.root)
                  for name in ("train", "val", "test")}
        self.assertEqual(sum(len(s) for s in splits.values()), 18)
        studies = {name: set(s.study_uids) for name, s in splits.items()}
        self.assertFalse(studies["train"] & studies["val"])
        self.assertFalse(studies["train"] & studies["test"])
        self.assertFalse(studies["val"] & studies["test"])
        hu, window, labels = full[0]
        self.assertEqual((tuple(hu.shape), tuple(window.shape), tuple(labels.shape)), ((1, 512, 512), (2,), (6,)))
        self.assertEqual(hu.dtype, torch.float32)


def write_twelve_bit(path: Path, stored: np.ndarray, intercept: float) -> None:
    """An unsigned 12-bit CT file (BitsStored 12 at HighBit 11) holding ``stored`` under ``intercept``."""
    write_ct(path, np.zeros(stored.shape, np.int16), "1.2.3.99", intercept=intercept)
    ds = pydicom.dcmread(str(path))
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
    ds.PixelData = stored.astype("<u2").tobytes()
    ds.save_as(str(path), write_like_original=False)


class WrappedTwelveBitTest(unittest.TestCase):
    """12-bit two's complement labelled unsigned with intercept 0 (a share of the RSNA 2019 files):
    read as what it is, as the app reads it (test/main/dicom/wrapped-twelve-bit.test.ts)."""

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        yy, xx = np.mgrid[:512, :512]
        head = (yy - 256) ** 2 + (xx - 256) ** 2 < 180 ** 2
        rng = np.random.default_rng(1)
        self.hu = np.where(head, rng.integers(0, 80, (512, 512)), -1000).astype(np.int32)
        self.hu[250:260, 100:110] = 1800   # dense bone stays bone

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def test_wrapped_values_read_as_twos_complement(self) -> None:
        path = self.root / "ID_wrapped.dcm"
        write_twelve_bit(path, self.hu & 0xFFF, 0.0)
        s = D.read_dicom(path)
        np.testing.assert_array_equal(s.hu, self.hu.astype(np.float32))
        self.assertRegex(s.hu_correction, r"^stored values read as 12-bit two's complement: the header says unsigned "
                                          r"\(PixelRepresentation 0\) with RescaleIntercept 0, which cannot hold air "
                                          r"and would put \d+ % of the pixels at \+2048 HU or more \(air read as bone\)$")

    def test_headers_that_hold_air_or_few_sign_bits_read_as_they_say(self) -> None:
        offset = self.root / "ID_offset.dcm"
        write_twelve_bit(offset, self.hu + 1024, -1024.0)
        s = D.read_dicom(offset)
        np.testing.assert_array_equal(s.hu, self.hu.astype(np.float32))
        self.assertIsNone(s.hu_correction)
        # intercept 0 and only the bone patch at 2048 or above (0.04 % of the slice): as the header says
        bright = self.root / "ID_bright.dcm"
        stored = np.where(self.hu < 0, 0, self.hu) + np.where(self.hu == 1800, 400, 0)
        write_twelve_bit(bright, stored, 0.0)
        s = D.read_dicom(bright)
        np.testing.assert_array_equal(s.hu, stored.astype(np.float32))
        self.assertIsNone(s.hu_correction)


class PhantomStreamTest(unittest.TestCase):
    def test_stream_and_arrays(self) -> None:
        with phantom_or_standin():
            ds = D.PhantomSlices(seed=5, n_studies=2, balanced=True, slices_per_study=2, passes=1, buffer=2)
            items = list(ds)
            self.assertEqual(len(items), 4)
            hu, window, labels = items[0]
            self.assertEqual((tuple(hu.shape), tuple(window.shape), tuple(labels.shape)), ((1, 512, 512), (2,), (6,)))
            a = D.phantom_arrays(seed=5, n_studies=2, slices_per_study=2)
            b = D.phantom_arrays(seed=5, n_studies=2, slices_per_study=2)
            np.testing.assert_array_equal(a["hu"], b["hu"])  # pure function of (seed, index)
            self.assertEqual(a["hu"].shape, (4, 1, 512, 512))
            self.assertEqual(a["study"].tolist(), [0, 0, 1, 1])

    def test_flips_and_class_weights(self) -> None:
        hu = torch.arange(4.0).reshape(1, 1, 2, 2).repeat(8, 1, 1, 1)
        out = D.flip_batch(hu, torch.Generator().manual_seed(0))
        self.assertEqual(sorted(out.flatten().tolist()), sorted(hu.flatten().tolist()))
        w = D.positive_weights(np.array([[1, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0], [0] * 6]))
        self.assertEqual(w[0], 1.0)
        self.assertEqual(w[1], 10.0)  # absent label: capped


if __name__ == "__main__":
    unittest.main()
