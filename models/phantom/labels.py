"""Label files in the RSNA 2019 format, plus a study-level table.

``stage_2_train.csv``: header ``ID,Label``; per slice six rows ``ID_<id>_<label>,<0|1>`` with the
labels in project order (any, epidural, intraparenchymal, intraventricular, subarachnoid, subdural:
read from the model contract). NB the real Kaggle file lists ``any`` last in each group of six: parse
by label name, never by row position. ``studies.csv``: StudyInstanceUID, SeriesInstanceUID,
PatientID, slice count and the six study-level labels (1 if any slice has it).

Why: training and evaluation code written against these files must run unchanged on the real download.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from .contract import LABELS

STUDY_COLUMNS = ["StudyInstanceUID", "SeriesInstanceUID", "PatientID", "n_slices", "first_id", *LABELS]


def slice_rows(study) -> list[str]:
    rows = []
    for sid, lab in zip(study.meta["ids"], study.labels):
        for k, name in enumerate(LABELS):
            rows.append(f"ID_{sid}_{name},{int(lab[k])}")
    return rows


def study_row(study) -> dict:
    m = study.meta
    row = {"StudyInstanceUID": m["study_uid"], "SeriesInstanceUID": m["series_uid"], "PatientID": m["patient_id"],
           "n_slices": len(m["ids"]), "first_id": "ID_" + m["ids"][0]}
    row.update({name: int(v) for name, v in zip(LABELS, study.study_labels)})
    return row


def write_label_files(out_dir: str | Path, slice_lines: Iterable[str], study_rows: Iterable[dict]) -> tuple[Path, Path]:
    out = Path(out_dir)
    p1 = out / "stage_2_train.csv"
    with p1.open("w", newline="") as f:
        f.write("ID,Label\n")
        for line in slice_lines:
            f.write(line + "\n")
    p2 = out / "studies.csv"
    with p2.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=STUDY_COLUMNS, lineterminator="\n")
        w.writeheader()
        for row in study_rows:
            w.writerow(row)
    return p1, p2
