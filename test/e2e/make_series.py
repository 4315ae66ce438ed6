"""Test fixture: clone one real CT slice into multi-slice head-CT series (pydicom).

Reads a JSON spec on stdin:
  {"source": path, "out": dir, "studies": [{"studyUid", "seriesUid", "patientName", "patientId",
   "accession", "description", "slices": n, "lesion": bool, "window": [c, w] | null}]}
Each slice gets its own SOPInstanceUID, InstanceNumber and ImagePositionPatient (5 mm apart); with
"lesion", a 70 HU hyperdense disc whose radius peaks mid-series is drawn in, so slices differ and
a window preset visibly changes what is shown. Writes <out>/<seriesUid>/<i>.dcm.
"""
import copy
import json
import os
import sys

import numpy as np
import pydicom


def main() -> None:
    spec = json.load(sys.stdin)
    src = pydicom.dcmread(spec["source"])
    stored_dtype = src.pixel_array.dtype  # keep BitsAllocated/PixelRepresentation true
    base = src.pixel_array.astype(np.int32)
    slope = float(src.get("RescaleSlope", 1))
    intercept = float(src.get("RescaleIntercept", 0))
    yy, xx = np.mgrid[0 : base.shape[0], 0 : base.shape[1]]
    for st in spec["studies"]:
        folder = os.path.join(spec["out"], st["seriesUid"])
        os.makedirs(folder, exist_ok=True)
        n = int(st["slices"])
        for i in range(n):
            d = copy.deepcopy(src)
            d.StudyInstanceUID = st["studyUid"]
            d.SeriesInstanceUID = st["seriesUid"]
            d.SOPInstanceUID = f"{st['seriesUid']}.{i + 1}"
            d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
            d.InstanceNumber = i + 1
            d.SeriesNumber = 2
            d.PatientName = st["patientName"]
            d.PatientID = st["patientId"]
            d.AccessionNumber = st["accession"]
            d.StudyDescription = st["description"]
            x0, y0, z0 = [float(v) for v in src.ImagePositionPatient]
            d.ImagePositionPatient = [x0, y0, z0 + 5.0 * i]
            d.SliceLocation = z0 + 5.0 * i
            if st.get("window"):
                d.WindowCenter, d.WindowWidth = st["window"]
            arr = base.copy()
            # A faint per-slice gradient keeps every slice's pixels distinct.
            arr += i % 7
            if st.get("lesion"):
                r = max(0.0, 40.0 * (1 - abs(i - (n - 1) / 2) / ((n + 1) / 2)))
                mask = (yy - 230) ** 2 + (xx - 300) ** 2 <= r * r
                arr[mask] = int(round((70 - intercept) / slope))
            d.PixelData = arr.astype(stored_dtype).tobytes()
            d.save_as(os.path.join(folder, f"{i:03d}.dcm"), write_like_original=False)


if __name__ == "__main__":
    main()
