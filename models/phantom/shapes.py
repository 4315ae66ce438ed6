"""Geometry helpers shared by the anatomy and lesion models: the slice grid, soft (partial-volume)
membership, and 3-D ellipsoid / capsule primitives evaluated only inside their bounding boxes.

Why: every structure is an analytic 3-D shape cut by a 5 mm slab, so a structure's extent along z
and its labels are consistent from slice to slice, and evaluating small shapes in their own boxes
keeps a 512x512 slice down to a few tens of milliseconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

F32 = np.float32


def frac(d: np.ndarray, w: float) -> np.ndarray:
    """Fraction of a pixel inside a surface, from the signed distance ``d`` (mm, > 0 inside) and
    the transition width ``w`` (mm): the partial-volume ramp of a blurred, slab-averaged edge."""
    out = d * F32(1.0 / max(w, 1e-3))
    out += F32(0.5)
    np.maximum(out, F32(0.0), out=out)   # (np.clip is several times slower on float32 here)
    np.minimum(out, F32(1.0), out=out)
    return out


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


class Grid:
    """The 512x512 pixel grid expressed in the head frame (mm): x to the patient's left, y posterior,
    origin at the head centre; the head sits rotated by ``angle`` and offset by (ox, oy) in the image."""

    def __init__(self, size: int, ps: float, ox: float, oy: float, angle: float):
        self.size, self.ps, self.ox, self.oy, self.angle = size, ps, ox, oy, angle
        c = (size - 1) / 2.0
        coord = (np.arange(size, dtype=np.float64) - c) * ps
        X = coord[None, :] - ox
        Y = coord[:, None] - oy
        ca, sa = math.cos(angle), math.sin(angle)
        self.x = (ca * X + sa * Y).astype(F32)
        self.y = (-sa * X + ca * Y).astype(F32)
        self._c = c

    def to_pixel(self, xh: float, yh: float) -> tuple[float, float]:
        """Head-frame mm -> (row, col) pixel coordinates."""
        ca, sa = math.cos(self.angle), math.sin(self.angle)
        X = self.ox + ca * xh - sa * yh
        Y = self.oy + sa * xh + ca * yh
        return Y / self.ps + self._c, X / self.ps + self._c

    def box(self, xh: float, yh: float, radius: float) -> tuple[slice, slice] | None:
        """Pixel bounding box (rows, cols) of a head-frame disc, or None when off the grid."""
        r, c = self.to_pixel(xh, yh)
        rp = radius / self.ps + 2
        r0, r1 = max(int(r - rp), 0), min(int(r + rp) + 1, self.size)
        c0, c1 = max(int(c - rp), 0), min(int(c + rp) + 1, self.size)
        if r0 >= r1 or c0 >= c1:
            return None
        return slice(r0, r1), slice(c0, c1)


@dataclass
class Ellipsoid:
    """A 3-D ellipsoid (mm, head frame) rotated by ``angle`` about z."""

    cx: float
    cy: float
    cz: float
    a: float
    b: float
    c: float
    angle: float = 0.0

    def scale_at(self, z: float) -> float:
        q = 1.0 - ((z - self.cz) / self.c) ** 2
        return math.sqrt(q) if q > 0 else 0.0

    def section(self, grid: Grid, z: float, half_slab: float, dx: float = 0.0, grow: float = 0.0,
                shrink_x: float = 1.0, jitter: np.ndarray | None = None, jitter_mm: float = 0.0):
        """Soft membership of the slab [z - half_slab, z + half_slab] in this ellipsoid.

        Returns (box, alpha) with alpha float32 over the box, or None when the slab misses it.
        The edge ramp widens where the surface runs oblique to the slab (partial volume along z).
        ``dx`` shifts it sideways (midline shift), ``grow`` adds mm to both in-plane semi-axes,
        ``jitter`` (a full-slice texture) times ``jitter_mm`` roughens the surface.
        """
        s = self.scale_at(z)
        if s <= 0.0:
            # the slab may still clip the tip of the ellipsoid
            s_edge = max(self.scale_at(z - half_slab), self.scale_at(z + half_slab))
            if s_edge <= 0.0:
                return None
            s = 0.5 * s_edge
        s_lo, s_hi = self.scale_at(z - half_slab), self.scale_at(z + half_slab)
        a = self.a * shrink_x * s + grow
        b = self.b * s + grow
        if a <= 0.05 or b <= 0.05:
            return None
        w = max(grid.ps, abs(s_hi - s_lo) * min(self.a * shrink_x, self.b))
        box = grid.box(self.cx + dx, self.cy, max(a, b) + w)
        if box is None:
            return None
        x = grid.x[box] - F32(self.cx + dx)
        y = grid.y[box] - F32(self.cy)
        if self.angle:
            ca, sa = F32(math.cos(self.angle)), F32(math.sin(self.angle))
            x, y = ca * x + sa * y, -sa * x + ca * y
        u = x * F32(1.0 / a)
        v = y * F32(1.0 / b)
        F = u * u + v * v
        # first-order signed distance to the ellipse: (1 - F) / |grad F|
        g = np.sqrt((u * F32(1.0 / a)) ** 2 + (v * F32(1.0 / b)) ** 2) * F32(2.0) + F32(1e-3)
        d = (F32(1.0) - F) / g
        if jitter is not None and jitter_mm:
            d += jitter[box] * F32(jitter_mm)
        return box, frac(d, w)


def capsule(grid: Grid, p0: tuple[float, float], p1: tuple[float, float], radius: float, w: float):
    """Soft membership of a 2-D capsule (thick segment p0-p1, head-frame mm). Returns (box, alpha)."""
    cx, cy = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
    half = math.hypot(p1[0] - p0[0], p1[1] - p0[1]) / 2
    box = grid.box(cx, cy, half + radius + w)
    if box is None or radius <= 0:
        return None
    x = grid.x[box] - F32(p0[0])
    y = grid.y[box] - F32(p0[1])
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    L2 = dx * dx + dy * dy + 1e-9
    t = np.clip((x * F32(dx) + y * F32(dy)) * F32(1.0 / L2), 0.0, 1.0)
    ex = x - t * F32(dx)
    ey = y - t * F32(dy)
    d = F32(radius) - np.sqrt(ex * ex + ey * ey)
    return box, frac(d, w)


def composite(img: np.ndarray, box, alpha: np.ndarray, value) -> None:
    """img[box] <- img[box] * (1 - alpha) + value * alpha, in place (value scalar or array)."""
    region = img[box] if box is not None else img
    region += alpha * (value - region)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise normalised to unit standard deviation (float32)."""
    from scipy import ndimage

    n = rng.standard_normal(shape, dtype=F32)
    n = ndimage.gaussian_filter(n, sigma, mode="wrap", truncate=3.0)
    n *= F32(1.0 / (float(n.std()) + 1e-6))
    return n
