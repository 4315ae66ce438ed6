"""Write a ``Study`` as CT Image Storage DICOM files (one per slice, named ``ID_<id>.dcm``), and
read a folder of one series back (``read_series``: the montage and the drawing into real CT).

Every tag the app and ordinary viewers need, with the variety real scanners show: signed or unsigned
pixels, intercept -1024 or 0, BitsStored 12 or 16, PixelPaddingValue outside the field of view,
window tags single-valued / multi-valued / absent (and GE's zero-padded "00040" strings), explicit or
implicit VR little endian, instance numbers counting up or down, an occasional gantry tilt (slices
sheared along the table, as tilted acquisitions are). The SOP Instance UID is ``ID_<id>``, exactly as
in the RSNA 2019 files (not a valid UID there either; the app must cope). Patient data are fake.

Why here: one writer, deterministic (no clocks, no random), so the same seed gives byte-identical files.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
IMPLEMENTATION_UID = "2.25.207466383592395622211612412718131522145"   # fixed: models.phantom
IMPLEMENTATION_VERSION = "ICH_PHANTOM_1"


def _ds(v: float, zero_pad: bool) -> str:
    """A DS string; GE-style zero padding ("00040") when asked."""
    if zero_pad and float(v).is_integer() and v >= 0:
        return f"{int(v):05d}"
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def slice_geometry(study, i: int) -> tuple[list[float], list[float], float]:
    """(ImagePositionPatient, ImageOrientationPatient, SliceLocation) of slice i (0 = most inferior)."""
    m = study.meta
    ps, n = m["pixel_spacing"], study.hu.shape[1]
    tilt = math.radians(m["gantry_tilt"])
    thick = m["slice_thickness"]
    # The table moves along z_patient; with a tilted gantry the rows run along (0, cos a, sin a), so
    # the image centre C_i = (0, 0, z_i) and IPP = C_i + x0 * row_dir + y0 * col_dir. study.py slides the
    # head by -thickness * sin(a) per slice along the columns to match (the classic tilt shear).
    iop = [1.0, 0.0, 0.0, 0.0, round(math.cos(tilt), 6), round(math.sin(tilt), 6)]
    z = m["table_z0"] + i * thick
    x0 = y0 = -ps * (n - 1) / 2.0
    ipp = [round(x0, 4), round(y0 * math.cos(tilt), 4), round(z + y0 * math.sin(tilt), 4)]
    return ipp, iop, round(z, 4)


def build_dataset(study, i: int) -> FileDataset:
    """Slice i of ``study`` as a CT Image Storage dataset, its tags set module by module (PS3.3 A.3)."""
    m = study.meta
    sop = "ID_" + m["ids"][i]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if m["transfer_syntax"] == "implicit" else ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    implicit = m["transfer_syntax"] == "implicit"
    ds.is_little_endian, ds.is_implicit_VR = True, implicit
    _set_study_and_patient(ds, m, sop)
    _set_acquisition(ds, study)
    _set_image_plane(ds, study, i)
    _set_pixels(ds, study, i)
    return ds


def _set_study_and_patient(ds: Dataset, m: dict, sop: str) -> None:
    """SOP common, general study and series, equipment and patient: the same for every slice but the SOP
    Instance UID."""
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = m["study_date"]
    ds.StudyTime = ds.SeriesTime = m["study_time"]
    ds.AcquisitionTime = ds.ContentTime = m["study_time"]
    ds.AccessionNumber = m["accession"]
    ds.Modality = "CT"
    ds.Manufacturer = "ICH-PHANTOM"
    ds.InstitutionName = "SYNTHETIC"
    ds.ReferringPhysicianName = ""
    ds.StationName = "PHANTOM"
    enhanced = bool(m.get("head", {}).get("contrast"))
    default = f"CT HEAD {'WITH' if enhanced else 'WO'} CONTRAST (synthetic phantom)"
    ds.StudyDescription = m.get("description", default)
    if enhanced:
        # the Contrast/Bolus module, which a scanner writes when contrast was given: the app reads
        # a study's non-contrast series first and cautions when it reads an enhanced one
        ds.ContrastBolusAgent = "IODINATED CONTRAST (synthetic)"
        ds.ContrastBolusRoute = "IV"
    ds.SeriesDescription = "AXIAL (real anatomy, synthetic hemorrhage)" if "description" in m else "AXIAL 5mm (synthetic phantom)"
    ds.ManufacturerModelName = "models.phantom"
    ds.PatientName = m["patient_name"]
    ds.PatientID = m["patient_id"]
    ds.PatientBirthDate = ""
    ds.PatientSex = m["patient_sex"]
    ds.PatientAge = m["patient_age"]
    ds.PatientIdentityRemoved = "YES"
    ds.BodyPartExamined = "HEAD"
    ds.StudyInstanceUID = m["study_uid"]
    ds.SeriesInstanceUID = m["series_uid"]
    ds.StudyID = m["accession"][-6:]
    ds.SeriesNumber = 2
    ds.AcquisitionNumber = 1


def _set_acquisition(ds: Dataset, study) -> None:
    """CT image acquisition: thickness, tube, reconstruction, tilt."""
    m = study.meta
    ds.SliceThickness = _ds(m["slice_thickness"], False)
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.SoftwareVersions = m["generator"]
    ds.ReconstructionDiameter = _ds(round(m["pixel_spacing"] * study.hu.shape[2], 3), False)
    ds.GantryDetectorTilt = _ds(m["gantry_tilt"], False)
    ds.ConvolutionKernel = "SOFT"
    ds.PatientPosition = "HFS"


def _set_image_plane(ds: Dataset, study, i: int) -> None:
    """Where slice i lies: instance number (counting up or down), position, orientation, spacing."""
    m = study.meta
    Z = study.hu.shape[0]
    ipp, iop, loc = slice_geometry(study, i)
    ds.InstanceNumber = (Z - i) if m["reverse_instance_numbers"] else (i + 1)
    ds.ImagePositionPatient = [_ds(v, False) for v in ipp]
    ds.ImageOrientationPatient = [_ds(v, False) for v in iop]
    ds.FrameOfReferenceUID = m["frame_uid"]
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = _ds(loc, False)
    ds.ImageComments = m.get("comment", "Synthetic phantom, not a patient (models.phantom)")
    ps = _ds(m["pixel_spacing"], False)
    ds.PixelSpacing = [ps, ps]


def _set_pixels(ds: Dataset, study, i: int) -> None:
    """Image pixel, padding, window (VOI LUT) and rescale tags, and slice i's stored values."""
    m = study.meta
    st = m["storage"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = study.hu.shape[1], study.hu.shape[2]
    ds.BitsAllocated = 16
    ds.BitsStored = st["bits_stored"]
    ds.HighBit = st["bits_stored"] - 1
    ds.PixelRepresentation = st["pixel_representation"]
    if st["padding_raw"] is not None:
        ds.add_new(0x00280120, "SS" if st["pixel_representation"] else "US", int(st["padding_raw"]))
    zp = m["zero_padded_ds"]
    if m["windows"]:
        centres = [_ds(c, zp) for c, _w in m["windows"]]
        widths = [_ds(w, zp) for _c, w in m["windows"]]
        ds.WindowCenter = centres if len(centres) > 1 else centres[0]
        ds.WindowWidth = widths if len(widths) > 1 else widths[0]
    ds.RescaleIntercept = _ds(st["intercept"], False)
    ds.RescaleSlope = _ds(st["slope"], False)
    ds.RescaleType = "HU"
    raw = study.raw[i]
    ds.PixelData = raw.astype("<i2" if st["pixel_representation"] else "<u2").tobytes()
    ds["PixelData"].VR = "OW"


def write_study(study, out_dir: str | Path) -> list[Path]:
    """Write every slice of ``study`` into ``out_dir`` as ``ID_<id>.dcm``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with warnings.catch_warnings():
        # 'ID_<id>' is not a valid UI value; RSNA's files carry exactly that, on purpose here too
        warnings.filterwarnings("ignore", message="Invalid value for VR UI")
        for i in range(study.hu.shape[0]):
            ds = build_dataset(study, i)
            p = out / f"ID_{study.meta['ids'][i]}.dcm"
            ds.save_as(str(p), write_like_original=False)
            paths.append(p)
    return paths


@dataclass
class DicomSeries:
    """One series read back, slices in order along the slice normal (inferior to superior for an
    axial head CT), HU as a DICOM reader gets them."""

    hu: np.ndarray            # float32 [Z, rows, columns]
    sops: list[str]           # SOPInstanceUID per slice
    window: np.ndarray        # float32 [Z, 2]: the first WindowCenter/WindowWidth, else the default
    pixel_mm: np.ndarray      # float32 [Z]: row spacing
    position: np.ndarray      # float32 [Z]: ImagePositionPatient on the slice normal (InstanceNumber when absent)
    files: list[str]


def first_value(value) -> float | None:
    """A DICOM number that may be multi-valued (WindowCenter/Width: RSNA has many): the first value."""
    if value is None:
        return None
    try:
        return float(value[0] if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else value)
    except (TypeError, ValueError, IndexError):
        return None


#: Some scanners write HU as 12-bit two's complement under a header that says unsigned with an
#: intercept near 0 (a share of the RSNA 2019 head-CT files, among others): read as the header says,
#: air (stored 3096) is +3096 HU. The app's reader (src/main/dicom/read.ts, wrappedTwelveBitShare)
#: reads such a slice as two's complement when the header cannot hold air (unsigned 12-bit values,
#: intercept above WRAPPED_AIR_CEILING_HU) and at least WRAPPED_SHARE_MIN of the values have the
#: 12-bit sign bit set (no head slice is that much bone); this is the same rule, so training,
#: evaluation and the app read one file alike.
WRAPPED_AIR_CEILING_HU = -100.0
WRAPPED_SHARE_MIN = 0.05


def stored_to_hu(ds, raw: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(HU float32, why the values were not read as the header says or None) for a dataset's stored
    values ``raw`` (its ``pixel_array``, or one frame of it): raw x RescaleSlope + RescaleIntercept,
    with 12-bit two's complement values labelled unsigned read as what they are."""
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    values = np.asarray(raw)
    note = None
    if (int(getattr(ds, "BitsAllocated", 0) or 0) == 16 and int(getattr(ds, "BitsStored", 0) or 0) == 12
            and int(getattr(ds, "PixelRepresentation", 0) or 0) == 0 and intercept > WRAPPED_AIR_CEILING_HU):
        shift = max(0, int(getattr(ds, "HighBit", 11) or 11) - 11)
        twelve = (values.astype(np.uint16) >> shift) & 0xFFF
        negative = twelve >= 2048
        share = float(negative.mean()) if twelve.size else 0.0
        if share >= WRAPPED_SHARE_MIN:
            values = twelve.astype(np.int32) - 4096 * negative
            note = (f"stored values read as 12-bit two's complement: the header says unsigned (PixelRepresentation 0) "
                    f"with RescaleIntercept {intercept:g}, which cannot hold air and would put {round(share * 100)} % "
                    "of the pixels at +2048 HU or more (air read as bone)")
    return values.astype(np.float32) * np.float32(slope) + np.float32(intercept), note


def read_series(folder: str | Path) -> DicomSeries:
    """Every ``*.dcm`` of ``folder`` as one series, ordered by position along the slice normal (right
    for a tilted gantry too), by InstanceNumber when a slice lacks its geometry."""
    from .contract import DEFAULT_WINDOW

    items = []
    for p in sorted(Path(folder).glob("*.dcm")):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Invalid value for VR UI")   # RSNA-style 'ID_<id>' UIDs
            ds = pydicom.dcmread(str(p))
            sop = str(ds.SOPInstanceUID)
        hu, _ = stored_to_hu(ds, ds.pixel_array)
        iop, ipp = ds.get("ImageOrientationPatient"), ds.get("ImagePositionPatient")
        if iop is not None and ipp is not None:
            normal = np.cross([float(v) for v in iop[:3]], [float(v) for v in iop[3:]])
            pos = float(np.dot(normal, [float(v) for v in ipp]))
        else:
            pos = float(ds.get("InstanceNumber", len(items)))
        c, w = first_value(ds.get("WindowCenter")), first_value(ds.get("WindowWidth"))
        window = (c, w) if c is not None and w is not None and w > 0 else DEFAULT_WINDOW
        spacing = ds.get("PixelSpacing")
        items.append((pos, sop, hu.astype(np.float32), window,
                      float(spacing[0]) if spacing else float("nan"), str(p)))
    if not items:
        raise FileNotFoundError(f"{folder}: no *.dcm files")
    items.sort(key=lambda t: t[0])
    return DicomSeries(hu=np.stack([t[2] for t in items]), sops=[t[1] for t in items],
                       window=np.asarray([t[3] for t in items], np.float32),
                       pixel_mm=np.asarray([t[4] for t in items], np.float32),
                       position=np.asarray([t[0] for t in items], np.float32), files=[t[5] for t in items])
