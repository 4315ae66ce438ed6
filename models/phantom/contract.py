"""The model contract's constants (label order, default window), READ from src/shared/model-contract.json.

Why: ARCHITECTURE.md makes that JSON the one source of labels and windows; the phantom must never
retype them, so a change there reaches the generated labels and window fallbacks automatically.
"""
from __future__ import annotations

import json
from pathlib import Path

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "src" / "shared" / "model-contract.json"

with CONTRACT_PATH.open(encoding="utf-8") as _f:
    CONTRACT = json.load(_f)

#: Project label order: ``any`` first, then the five subtypes (RSNA 2019 names).
LABELS: tuple[str, ...] = tuple(CONTRACT["labels"])
#: The five subtypes (every label but ``any``), in project order.
SUBTYPES: tuple[str, ...] = tuple(label for label in LABELS if label != "any")
#: Window (centre, width) the contract uses when a slice carries no window tags.
DEFAULT_WINDOW: tuple[float, float] = (float(CONTRACT["defaultWindow"]["center"]), float(CONTRACT["defaultWindow"]["width"]))
#: Named windows of the contract (systematic + ensemble stack), name -> (centre, width).
NAMED_WINDOWS: dict[str, tuple[float, float]] = {
    w["name"]: (float(w["center"]), float(w["width"]))
    for w in CONTRACT["systematicWindows"] + CONTRACT["ensembleStackWindows"]
    if w["center"] is not None
}
BRAIN_WINDOW = NAMED_WINDOWS["brain"]
SUBDURAL_WINDOW = NAMED_WINDOWS["subdural"]
BONE_WINDOW = NAMED_WINDOWS["bone"]

assert LABELS[0] == "any" and len(SUBTYPES) == 5, "contract label order changed: update the phantom's lesion set"
