"""Synthetic non-contrast head-CT studies in the RSNA 2019 format (issue 9).

    from models.phantom import generate_study, write_study, generate_dataset, LABELS

``generate_study(seed, index)`` is pure: the same (seed, index) gives the same study on any machine
(with the same numpy/scipy versions). See README.md in this folder.
"""
from .contract import DEFAULT_WINDOW, LABELS, SUBTYPES
from .dataset import generate_dataset
from .dicom_io import write_study
from .study import Study, generate_study

__all__ = ["LABELS", "SUBTYPES", "DEFAULT_WINDOW", "Study", "generate_study", "write_study", "generate_dataset"]
