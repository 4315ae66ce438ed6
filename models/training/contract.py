"""The model contract's constants for training and export, from the one Python reader
(models/contract.py, which reads src/shared/model-contract.json). Nothing here retypes a label, a
window or an input size; TypeScript imports the same JSON file.
"""
from __future__ import annotations

from pathlib import Path

from models.contract import (  # noqa: F401  (re-exported for the training modules)
    CONTRACT,
    CONTRACT_PATH,
    DEFAULT_WINDOW,
    ENSEMBLE_STACK_WINDOW_NAMES,
    ENSEMBLE_STACK_WINDOWS,
    INPUT_SIZE,
    INPUTS,
    LABELS,
    MODELS_DIR,
    NUM_LABELS,
    OUTPUTS,
    REPO_ROOT,
    SYSTEMATIC_WINDOW_NAMES,
    SYSTEMATIC_WINDOWS,
)

#: Checkpoints, logs and scratch data of training runs (ignored by git).
RUNS_DIR = Path(__file__).resolve().parent / "runs"
#: gpu_run.py's work folder on a lent GPU machine (pools, runs, pieces); commands recorded there name it
GPU_WORK = "/tmp/ich-gpu"
