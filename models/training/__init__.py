"""Training, evaluation and ONNX export of the workstation's seed models (../../shared/SEEDS.md).

timm-style layout: one architecture per file (``convlstm.py``, ``efficientnet_b3.py``,
``inception_resnet_v2.py``), a registry (``registry.py``), the in-graph preprocessing written once
(``windowing.py``), and thin scripts (``train.py``, ``evaluate.py``, ``onnx_export.py``,
``onnx_validate.py``).
"""
