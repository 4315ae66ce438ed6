"""Generate a whole dataset on disk: one folder per study of DICOM files, ``stage_2_train.csv`` and
``studies.csv`` at the top, in parallel worker processes.

Why processes: a study is a pure function of (seed, index), so studies can be made in any order on any
number of cores and the result is identical to a serial run.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .dicom_io import write_study
from .labels import slice_rows, study_row, write_label_files
from .study import generate_study


def _one(args):
    out_dir, seed, index, balanced, smin, smax, masks = args
    c0 = time.process_time()
    st = generate_study(seed, index, balanced=balanced, slices_min=smin, slices_max=smax)
    folder = Path(out_dir) / f"study_{index:05d}"
    write_study(st, folder)
    if masks:
        np.savez_compressed(folder / "masks.npz", ids=np.array(["ID_" + i for i in st.meta["ids"]]), bits=st.lesion_bits)
    meta = {k: v for k, v in st.meta.items() if k not in ("hard_negatives",)}
    (folder / "phantom.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    return index, slice_rows(st), study_row(st), len(st), time.process_time() - c0


def generate_dataset(out_dir: str | Path, n_studies: int, seed: int, balanced: bool = False,
                     slices_min: int = 32, slices_max: int = 40, workers: int | None = None,
                     masks: bool = False, progress: bool = False) -> dict:
    """Write ``n_studies`` studies under ``out_dir`` plus the label files. Returns a summary dict."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = workers or min(os.cpu_count() or 1, 8)
    jobs = [(str(out), seed, i, balanced, slices_min, slices_max, masks) for i in range(n_studies)]
    t0 = time.perf_counter()
    results = []
    if workers <= 1 or n_studies <= 1:
        for j in jobs:
            results.append(_one(j))
    else:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            for k, r in enumerate(ex.map(_one, jobs, chunksize=1)):
                results.append(r)
                if progress:
                    print(f"\r{k + 1}/{n_studies} studies", end="", flush=True)
        if progress:
            print()
    results.sort(key=lambda r: r[0])
    lines = [line for r in results for line in r[1]]
    write_label_files(out, lines, [r[2] for r in results])
    elapsed = time.perf_counter() - t0
    n_slices = sum(r[3] for r in results)
    cpu = sum(r[4] for r in results)
    return {"studies": n_studies, "slices": n_slices, "seconds": round(elapsed, 2), "workers": workers,
            "slices_per_second": round(n_slices / max(elapsed, 1e-9), 1),
            "cpu_ms_per_slice": round(1000 * cpu / max(n_slices, 1), 1)}
