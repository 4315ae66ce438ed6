"""Synthetic non-contrast head-CT studies in the RSNA 2019 format.

    from models.phantom import generate_study, write_study, generate_dataset, LABELS

``generate_study(seed, index)`` is pure: the same (seed, index) gives the same study on any machine
(with the same numpy/scipy versions). See README.md in this folder.

The DICOM writers (``write_study``, ``generate_dataset``) are imported on first use: generating
studies in memory needs numpy and scipy only, so training runs where pydicom is not installed
(the GPU machine).
"""
from .contract import DEFAULT_WINDOW, LABELS, SUBTYPES
from .study import Study, generate_study

__all__ = ["LABELS", "SUBTYPES", "DEFAULT_WINDOW", "Study", "generate_study", "write_study", "generate_dataset"]


def __getattr__(name: str):
    if name == "write_study":
        from .dicom_io import write_study

        return write_study
    if name == "generate_dataset":
        from .dataset import generate_dataset

        return generate_dataset
    raise AttributeError(f"module 'models.phantom' has no attribute {name!r}")
