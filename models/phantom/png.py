"""Minimal PNG writer (zlib + struct) so montages need no imaging library.

Why: the generator must run wherever training runs, with only numpy/scipy/pydicom installed;
matplotlib/Pillow are not guaranteed there.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write a uint8 image, [H, W] (grey) or [H, W, 3] (RGB), as an 8-bit PNG."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim == 2:
        color_type, channels = 0, 1
    elif img.ndim == 3 and img.shape[2] == 3:
        color_type, channels = 2, 3
    else:
        raise ValueError(f"unsupported image shape {img.shape}")
    h, w = img.shape[:2]
    rows = img.reshape(h, w * channels)
    # Filter type 0 (None) on every row: simple and deterministic.
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def window_u8(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Linear window to 0..255 (the same clip-and-normalise rule as SEEDS.md)."""
    lo = center - width / 2.0
    return (np.clip((hu - lo) / width, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
