"""Masks from Hounsfield units alone, shared by the two readers of real slices: the realism report
(``realism.py``, which measures phantom and real heads by the same rules) and the lesion insertion
(``insert.py``, which draws bleeds into a real series).

Why one place: both find the cranial cavity the same way — close the bone ring, fill it, keep what
the bone encloses — and a change to that rule must change both, or the realism figures would
describe a different cavity from the one bleeds are drawn into.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Closing iterations that seal the skull ring's gaps (sutures, foramina, partial volume).
SKULL_CLOSING = 3


def enclosed_by_bone(bone: np.ndarray) -> np.ndarray:
    """What the bone ring encloses, once its gaps are closed (the ring itself left out)."""
    closed = ndimage.binary_closing(bone, iterations=SKULL_CLOSING)
    return ndimage.binary_fill_holes(closed) & ~closed
