"""The contract constants the phantom uses, from the one Python reader (models/contract.py).

The phantom must never retype a label or a window: a change in src/shared/model-contract.json
reaches the generated labels and the window fallback automatically.
"""
from __future__ import annotations

from models.contract import CONTRACT, CONTRACT_PATH, DEFAULT_WINDOW, LABELS, NAMED_WINDOWS, SUBTYPES

BRAIN_WINDOW = NAMED_WINDOWS["brain"]
SUBDURAL_WINDOW = NAMED_WINDOWS["subdural"]
BONE_WINDOW = NAMED_WINDOWS["bone"]

__all__ = ["CONTRACT", "CONTRACT_PATH", "DEFAULT_WINDOW", "LABELS", "NAMED_WINDOWS", "SUBTYPES", "BRAIN_WINDOW", "SUBDURAL_WINDOW", "BONE_WINDOW"]

assert LABELS[0] == "any" and len(SUBTYPES) == 5, "contract label order changed: update the phantom's lesion set"
