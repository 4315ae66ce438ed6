"""The model contract's constants, read from their one source: ``src/shared/model-contract.json``.

Every Python module (phantoms, training, export) takes labels, windows and input size from here;
TypeScript imports the same JSON file (src/shared/labels.ts, src/shared/windows.ts). Nothing
retypes a label or a window.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACT_PATH = REPO_ROOT / "src" / "shared" / "model-contract.json"
MODELS_DIR = REPO_ROOT / "models"

with CONTRACT_PATH.open(encoding="utf-8") as _f:
    CONTRACT = json.load(_f)

#: Project label order: ``any`` first, then the five subtypes (RSNA 2019 names).
LABELS: Tuple[str, ...] = tuple(CONTRACT["labels"])
NUM_LABELS = len(LABELS)
#: The five subtypes (every label but ``any``), in project order.
SUBTYPES: Tuple[str, ...] = tuple(label for label in LABELS if label != "any")
INPUT_SIZE: int = int(CONTRACT["inputSize"])
#: Window (centre, width) used when a slice carries no window tags.
DEFAULT_WINDOW: Tuple[float, float] = (
    float(CONTRACT["defaultWindow"]["center"]),
    float(CONTRACT["defaultWindow"]["width"]),
)
#: Rajagopal et al.'s sequence; None marks "the slice's own default window" (the `window` input).
SYSTEMATIC_WINDOWS: List[Optional[Tuple[float, float]]] = [
    None if w["center"] is None else (float(w["center"]), float(w["width"])) for w in CONTRACT["systematicWindows"]
]
SYSTEMATIC_WINDOW_NAMES: List[str] = [w["name"] for w in CONTRACT["systematicWindows"]]
#: Barin et al.'s three-channel stack (brain, subdural, soft tissue).
ENSEMBLE_STACK_WINDOWS: List[Tuple[float, float]] = [
    (float(w["center"]), float(w["width"])) for w in CONTRACT["ensembleStackWindows"]
]
ENSEMBLE_STACK_WINDOW_NAMES: List[str] = [w["name"] for w in CONTRACT["ensembleStackWindows"]]
#: Every named window with fixed values, name -> (centre, width).
NAMED_WINDOWS: Dict[str, Tuple[float, float]] = {
    w["name"]: (float(w["center"]), float(w["width"]))
    for w in CONTRACT["systematicWindows"] + CONTRACT["ensembleStackWindows"]
    if w["center"] is not None
}
INPUTS = CONTRACT["inputs"]
OUTPUTS = CONTRACT["outputs"]
