"""What the scanner adds to the ideal anatomy: partial-volume blur (in-plane PSF), CT-like correlated
noise, beam-hardening streaks near the skull base, the head holder, the circular field of view with
its padding value, and integer storage (rounding and clipping to the stored range).

Why: a model must not learn a shortcut that only phantoms have (perfect edges, noise-free air, exact
HU), and the app must see the same tag-level variety as real scanners produce.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .shapes import F32, Grid, frac


class Scanner:
    """Per-study acquisition settings (drawn once from ``rng``)."""

    def __init__(self, rng: np.random.Generator, grid: Grid, head):
        u = rng.uniform
        self.grid = grid
        # in-plane blur (kernel sharpness) and noise grain: a real soft-tissue kernel measures a noise
        # power spectrum centred at ≈ 0.33 cycles/mm and a 1.5–2 mm inner-table edge (realism --levels);
        # 0.6–1.0 px gave 0.41 cycles/mm, finer grain and sharper edges than the real scan
        self.psf_sigma_px = u(0.7, 1.4)
        self.noise_hu = u(2.5, 5.5)                  # noise std in brain
        self.streak_level = u(0.3, 1.0) if rng.random() < 0.75 else 0.0
        # head holder: an arc behind the occiput (plastic/carbon, with a foam pad)
        self.holder = rng.random() < 0.8
        self.holder_gap = u(1.0, 8.0)
        self.holder_r = u(120.0, 190.0)
        self.holder_hu = u(-150.0, 350.0)
        self.holder_th = u(1.5, 4.0)
        self.head = head

    def holder_layer(self, img: np.ndarray, z_top_occiput: float) -> None:
        """Draw the head holder arc (in image coordinates, not rotated with the head)."""
        if not self.holder:
            return
        g = self.grid
        n = g.size
        c = (n - 1) / 2.0
        coord = (np.arange(n, dtype=F32) - F32(c)) * F32(g.ps)
        # the arc is centred above the head so that it cups the occiput
        back = z_top_occiput + self.holder_gap
        cy = back - self.holder_r
        d = np.sqrt(coord[None, :] ** 2 + (coord[:, None] - F32(cy)) ** 2) - F32(self.holder_r)
        band = frac(F32(self.holder_th / 2) - np.abs(d), g.ps) * frac(F32(0.55 * self.holder_r) - np.abs(coord[None, :]), 4.0)
        band *= (coord[:, None] > F32(cy)).astype(F32)
        img += band * (F32(self.holder_hu) - img)

    def streaks(self, img: np.ndarray, t: float, rng: np.random.Generator) -> bool:
        """Beam hardening near the skull base: a dark band between the petrous bones, a few thin
        bright/dark streaks across the slice, and bright-dark streak pairs rooted in the dense bone
        (petrous ridges; a fan from the occipital bone in the posterior fossa). Returns True when
        any were drawn."""
        if self.streak_level <= 0 or not (-0.04 < t < 0.32):
            return False
        g = self.grid
        head = self.head
        level = self.streak_level * math.sin(math.pi * (t + 0.04) / 0.36)
        x, y = g.x, g.y
        # dark interpetrous band (Hounsfield bar)
        yb = 0.05 * head.L + rng.uniform(-5, 5)
        dist = np.abs(y - F32(yb))
        band = F32(-level * rng.uniform(15, 45)) / (F32(1.0) + (dist * F32(1 / rng.uniform(3, 7))) ** 2)
        band *= frac(F32(0.6 * head.W) - np.abs(x), 10.0)
        img += band
        for _ in range(int(rng.integers(2, 6))):
            ang = rng.uniform(0, math.pi)
            off = rng.uniform(-25, 25)
            d = np.abs(F32(math.cos(ang)) * x + F32(math.sin(ang)) * y - F32(off))
            amp = level * rng.uniform(8, 35) * (1 if rng.random() < 0.45 else -1)
            img += F32(amp) / (F32(1.0) + (d * F32(1 / rng.uniform(0.6, 1.6))) ** 2)
        # streaks from the dense bone itself: lines through a petrous ridge (and, in the posterior
        # fossa, the internal occipital protuberance), bright on one side and dark on the other (the
        # undersampled edge of a very dense object), fading along the line away from the bone
        anchors = [(side * 0.35 * head.W, 0.10 * head.L, int(rng.integers(1, 4))) for side in (-1, 1)]
        if t < 0.2:  # and a fan of fine streaks across the cerebellum from the occipital bone
            anchors.append((0.0, 0.88 * head.L, int(rng.integers(3, 9))))
        for ax, ay, n in anchors:
            dx, dy = x - F32(ax), y - F32(ay)
            for _ in range(n):
                ang = rng.uniform(0, math.pi)
                c, s = F32(math.cos(ang)), F32(math.sin(ang))
                q = (c * dx + s * dy) * F32(1 / (rng.uniform(0.8, 2.0) * g.ps))   # across the line, in widths
                fade = np.exp(-np.abs(c * dy - s * dx) * F32(1 / rng.uniform(40, 90)))
                amp = level * rng.uniform(8, 30) * (1 if rng.random() < 0.5 else -1)
                img += F32(2 * amp) * q / (F32(1.0) + q * q) * fade   # a dipole: ±amp one width either side
        return True

    def blur_and_noise(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Quantum noise is added before the point-spread blur, so one filter gives both the
        partial-volume blur and noise correlated over the PSF (as in filtered back-projection,
        roughly). Uniform white noise becomes near-Gaussian after the blur (central limit)."""
        noise = rng.random(img.shape, dtype=F32)
        noise -= F32(0.5)
        # a Gaussian blur of unit-variance white noise leaves std 1 / (2 sqrt(pi) sigma)
        gain = self.noise_hu * 2.0 * math.sqrt(math.pi) * self.psf_sigma_px * math.sqrt(12.0)
        img += noise * F32(gain)
        return ndimage.gaussian_filter(img, self.psf_sigma_px, truncate=2.5)


def fov_mask(size: int) -> np.ndarray:
    """Pixels inside the circular reconstruction field of view."""
    c = (size - 1) / 2.0
    yy, xx = np.ogrid[:size, :size]
    return ((yy - c) ** 2 + (xx - c) ** 2) <= (size / 2.0) ** 2
