"""A small timm-style model registry: architecture files register a builder and a default config.

Every registered model satisfies the model contract: ``forward(hu [N,1,512,512], window [N,2])``
returns sigmoid probabilities [N, 6] in the contract's label order, and ``logits(hu, window)``
returns the pre-sigmoid values used by the training loss.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

from torch import nn

_ARCH_MODULES = ("convlstm", "efficientnet_b3", "inception_resnet_v2")


@dataclass(frozen=True)
class ModelConfig:
    """Default config of an architecture (what timm calls ``default_cfg``)."""

    id: str
    architecture: str
    paper: str
    input_size: int          # the size the network itself sees, after in-graph resizing
    preprocessing: str       # plain words, copied to the manifest
    batch_size: int          # default training batch size (CPU-friendly)
    lr: float = 1e-4
    weight_decay: float = 0.0
    flips: bool = False      # horizontal + vertical flips as augmentation
    version: str = "0.1.0"
    notes: List[str] = field(default_factory=list)


_REGISTRY: Dict[str, Callable[..., nn.Module]] = {}
_CONFIGS: Dict[str, ModelConfig] = {}


def register_model(cfg: ModelConfig) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if cfg.id in _REGISTRY:
            raise ValueError(f"model {cfg.id!r} registered twice")
        _REGISTRY[cfg.id] = builder
        _CONFIGS[cfg.id] = cfg
        return builder

    return wrap


def _load_all() -> None:
    for name in _ARCH_MODULES:
        importlib.import_module(f"{__package__}.{name}")


def list_models() -> List[str]:
    _load_all()
    return sorted(_REGISTRY)


def get_config(model_id: str) -> ModelConfig:
    _load_all()
    if model_id not in _CONFIGS:
        raise KeyError(f"unknown model {model_id!r}; registered: {', '.join(sorted(_CONFIGS))}")
    return _CONFIGS[model_id]


def create_model(model_id: str, **kwargs: Any) -> nn.Module:
    _load_all()
    if model_id not in _REGISTRY:
        raise KeyError(f"unknown model {model_id!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[model_id](**kwargs)


def list_networks() -> List[str]:
    """Every network the app may ship: the registered classifiers and the lesion-map network."""
    from .lesion_unet import MODEL_ID

    return list_models() + [MODEL_ID]


def create_network(model_id: str) -> nn.Module:
    """Any shipped network by id (validation and benchmarks): a registered classifier, or the
    lesion-map network, which is no classifier and is built by its own module."""
    from .lesion_unet import MODEL_ID, LesionUNet

    return LesionUNet() if model_id == MODEL_ID else create_model(model_id)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
