"""Reading a phantom pool for training, and the augmentation applied to each batch on the device.

Why augmentation runs on the batch, on the training device, and not in the loader: per-slice
augmentation in loader processes (a 512 x 512 warp, noise and blur) costs milliseconds of CPU per
slice, which is again what starved the GPU. On the device it is a few batched tensor operations,
and the loader only copies int16 slices out of memory maps.

Every augmentation acts on Hounsfield units, the model contract's input, so it is the same for
every network and happens before the in-graph windowing. Why so much of it: the networks learn from
phantoms and one real series, and must read scans from any scanner (domain randomisation: they
never see one fixed acquisition):

* flips, horizontal and vertical, each p = 1/2 (Barin et al. 2021);
* an affine warp: in-plane rotation ±20° (head position in the holder), isotropic zoom 0.75–1.3,
  log-uniform (with the phantoms' own 0.42–0.49 mm pixels this spans pixel spacings of about
  0.35–0.6 mm, and head sizes), shift ±8 %;
* truncation on 8 % of the slices: the reconstruction circle cuts the head (a small field of view),
  outside it the scanner's padding value, -1024 HU;
* motion streaks on 5 %: two to five faint straight bright or dark bands, 1–4 px wide, across the
  slice, ±10–35 HU (a patient who moved during the rotation; kept faint so that a thin bright line
  along the skull, which may be a subdural, is not taught away);
* HU calibration: scale 1 ± 3 % and offset ±4 HU (scanners differ by a few HU on water);
* blur: Gaussian, σ 0.3–1.0 px on a quarter of the slices (softer kernels, partial volume);
* noise on half the slices, σ up to 6 HU, with the texture of a reconstruction kernel: white noise
  low-passed by a Gaussian of σ 0–1.2 px (sharp to soft kernels give fine or blotchy grain), then
  scaled back to the drawn σ.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler

from .pool import PoolIndex, shard_path


class PoolSlices(Dataset):
    """Slices of one or more pools by (pool, study, slice) key: ``(hu [1,512,512] int16, window [2], labels [6])``.

    Keyed by study number rather than by position, so the sampler (in the training process) can
    re-read the pools' indices while loader processes keep their open memory maps: a pool that is
    still being built is trained on as it grows.
    """

    def __init__(self, roots: Sequence[os.PathLike]) -> None:
        self.roots = list(roots)
        self._maps: Dict[Tuple[int, int], np.ndarray] = {}
        self._meta: Dict[Tuple[int, int], Dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return sum(len(PoolIndex.open(r)) for r in self.roots)

    def __getitem__(self, key):
        pool, study, z = int(key[0]), int(key[1]), int(key[2])
        m = self._maps.get((pool, study))
        if m is None:  # opened once per loader process; the OS page cache does the rest
            root = self.roots[pool]
            m = self._maps[(pool, study)] = np.load(shard_path(root, "hu", study), mmap_mode="r")
            with np.load(shard_path(root, "meta", study)) as f:
                self._meta[(pool, study)] = {"labels": f["labels"], "window": f["window"]}
        meta = self._meta[(pool, study)]
        # int16 as stored: half the bytes through the loader's shared memory, and the conversion
        # to float happens once per batch on the training device.
        hu = torch.from_numpy(np.array(m[z]))[None]
        return hu, torch.from_numpy(meta["window"][z].copy()), torch.from_numpy(meta["labels"][z].astype(np.float32))


class EndlessSampler(Sampler):
    """Keys forever, one fresh permutation per pass, so one DataLoader serves the whole run.

    ``keys`` is called at the start of every pass (a pool being built grows between passes)."""

    def __init__(self, keys, seed: int) -> None:
        self.keys, self.seed = keys, seed

    def __iter__(self) -> Iterator:
        p = 0
        while True:
            keys = self.keys()
            for i in np.random.default_rng([self.seed, p]).permutation(len(keys)).tolist():
                yield keys[i]
            p += 1

    def __len__(self) -> int:  # an endless stream; DataLoader only needs a number
        return 2 ** 31


class MixtureSampler(Sampler):
    """Keys forever from several pools, each drawn with its share of the slices whatever its size.

    Why shares and not sizes: a small pool of real slices with drawn bleeds must weigh in a
    training run beside a large phantom pool without being copied. Each pool walks its own
    permutations (re-read when a pass ends, so growing pools are followed)."""

    def __init__(self, pools: Sequence[os.PathLike], shares: Sequence[float], seed: int) -> None:
        total = float(sum(shares))
        if total <= 0 or any(s < 0 for s in shares):
            raise ValueError(f"pool shares must be non-negative and not all zero: {list(shares)}")
        self.pools, self.p, self.seed = list(pools), np.asarray(shares, np.float64) / total, seed

    def __iter__(self) -> Iterator:
        rng = np.random.default_rng([self.seed, 0x5A3])
        walks = [self._walk(i) for i in range(len(self.pools))]
        while True:
            yield next(walks[int(rng.choice(len(walks), p=self.p))])

    def _walk(self, i: int) -> Iterator:
        p = 0
        while True:
            keys = [(i, s, z) for s, z in pool_keys(self.pools[i])]
            for k in np.random.default_rng([self.seed, i, p]).permutation(len(keys)).tolist():
                yield keys[k]
            p += 1

    def __len__(self) -> int:
        return 2 ** 31


def pool_keys(root: os.PathLike):
    """(study number, slice) of every slice of the pool's complete studies, read now."""
    idx = PoolIndex.open(root)
    return list(zip(idx.studies[idx.study_of].tolist(), idx.slice_of.tolist()))


def parse_pool(spec: str) -> Tuple[str, float]:
    """``PATH`` or ``PATH:SHARE`` (the share of training slices drawn from that pool; default 1)."""
    head, sep, tail = spec.rpartition(":")
    if sep:
        try:
            return head, float(tail)
        except ValueError:
            pass
    return spec, 1.0


def pool_loader(pools: Sequence[str], batch_size: int, workers: int, seed: int, pin: bool = False,
                dataset=PoolSlices) -> DataLoader:
    """One endless DataLoader over ``pools`` (each ``PATH`` or ``PATH:SHARE``; one path alone is fine);
    ``dataset``: PoolSlices or a subclass that yields more per slice (the lesion masks)."""
    if isinstance(pools, (str, os.PathLike)):
        pools = [str(pools)]
    parsed = [parse_pool(p) for p in pools]
    extra = {"persistent_workers": True, "prefetch_factor": 4} if workers > 0 else {}
    return DataLoader(dataset([p for p, _ in parsed]), batch_size=batch_size,
                      sampler=MixtureSampler([p for p, _ in parsed], [s for _, s in parsed], seed),
                      num_workers=workers, drop_last=True, pin_memory=pin, **extra)


@dataclass(frozen=True)
class AugmentConfig:
    flip: float = 0.5
    rotate_deg: float = 20.0
    scale: Tuple[float, float] = (0.75, 1.3)   # zoom factor, drawn log-uniformly
    shift: float = 0.08
    truncate_p: float = 0.08
    truncate_radius: Tuple[float, float] = (0.62, 0.9)  # of the half-width, circle centre within ±10 %
    motion_p: float = 0.05
    motion_hu: Tuple[float, float] = (10.0, 35.0)
    hu_scale: float = 0.03
    hu_offset: float = 4.0
    noise_p: float = 0.5
    noise_sd: float = 6.0
    noise_grain: Tuple[float, float] = (0.0, 1.2)  # low-pass sigma of the noise, px (sharp .. soft kernel)
    blur_p: float = 0.25
    blur_sigma: Tuple[float, float] = (0.3, 1.0)


PADDING_HU = -1024.0  # what scanners write outside the reconstruction circle


def _gaussian_kernels(sigma: torch.Tensor, radius: int = 3) -> torch.Tensor:
    x = torch.arange(-radius, radius + 1, dtype=sigma.dtype, device=sigma.device)
    k = torch.exp(-0.5 * (x[None] / sigma.clamp(min=1e-3)[:, None]) ** 2)
    return k / k.sum(dim=1, keepdim=True)


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of [N, 1, H, W] with one sigma per slice (sigma ~0 leaves it as it is)."""
    n = x.shape[0]
    k = _gaussian_kernels(sigma)
    r = k.shape[1] // 2
    y = x.transpose(0, 1)  # [1, N, H, W]: one group per slice
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), k.view(n, 1, 1, -1), groups=n)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), k.view(n, 1, -1, 1), groups=n)
    return y.transpose(0, 1)


def _plane(h: int, w: int, dev, dt) -> Tuple[torch.Tensor, torch.Tensor]:
    """Normalised pixel coordinates in [-1, 1], broadcastable to [N, 1, H, W]."""
    ys = torch.linspace(-1, 1, h, device=dev, dtype=dt).view(1, 1, h, 1)
    xs = torch.linspace(-1, 1, w, device=dev, dtype=dt).view(1, 1, 1, w)
    return ys, xs


@torch.no_grad()
def augment_batch(hu: torch.Tensor, generator: torch.Generator, cfg: AugmentConfig = AugmentConfig()) -> torch.Tensor:
    """Augment HU slices [N, 1, H, W] on their device; random numbers from ``generator`` (on the CPU)."""
    return augment_with_targets(hu, None, generator, cfg)[0]


@torch.no_grad()
def augment_with_targets(hu: torch.Tensor, targets: Optional[torch.Tensor], generator: torch.Generator,
                         cfg: AugmentConfig = AugmentConfig()) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """``augment_batch``, and the same geometry applied to ``targets`` [N, C, h, w] (lesion maps at
    any resolution: the warp is in normalised coordinates); a truncated field of view empties them
    outside the circle too. The random draws are those of ``augment_batch``, so a seed gives the
    same HU with or without targets."""
    n, _, h, w = hu.shape
    dev, dt = hu.device, hu.dtype

    def u(lo: float, hi: float) -> torch.Tensor:
        return (lo + (hi - lo) * torch.rand(n, generator=generator)).to(dev, dt)

    def coin(p: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) < p).to(dev)

    # affine warp with the flips folded in: output pixel -> input pixel, in normalised coordinates
    ang = u(-cfg.rotate_deg, cfg.rotate_deg) * (math.pi / 180.0)
    lo, hi = cfg.scale
    s = torch.exp(-u(math.log(lo), math.log(hi)))
    fx = torch.where(coin(cfg.flip), -1.0, 1.0).to(dt)
    fy = torch.where(coin(cfg.flip), -1.0, 1.0).to(dt)
    cos, sin = torch.cos(ang) * s, torch.sin(ang) * s
    theta = torch.stack([torch.stack([cos * fx, -sin * fy, u(-cfg.shift, cfg.shift) * 2], 1),
                         torch.stack([sin * fx, cos * fy, u(-cfg.shift, cfg.shift) * 2], 1)], 1)
    grid = F.affine_grid(theta, list(hu.shape), align_corners=False)
    out = F.grid_sample(hu, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if targets is not None:
        tgrid = F.affine_grid(theta, list(targets.shape), align_corners=False)
        targets = F.grid_sample(targets, tgrid, mode="bilinear", padding_mode="zeros", align_corners=False)
    ys, xs = _plane(h, w, dev, dt)
    # motion: thin bands along random lines near the centre, each with its own sign and strength
    moving = coin(cfg.motion_p)
    if bool(moving.any()):
        for _ in range(int(torch.randint(2, 6, (1,), generator=generator))):
            a = u(0.0, math.pi).view(n, 1, 1, 1)
            d = (xs - u(-0.3, 0.3).view(n, 1, 1, 1)) * torch.sin(a) - (ys - u(-0.3, 0.3).view(n, 1, 1, 1)) * torch.cos(a)
            width = u(0.5, 2.0).view(n, 1, 1, 1) * (2.0 / w)  # sigma in px, as a normalised length
            amp = u(*cfg.motion_hu).view(n, 1, 1, 1) * torch.where(coin(0.5), -1.0, 1.0).to(dt).view(n, 1, 1, 1)
            out = out + moving.view(n, 1, 1, 1) * amp * torch.exp(-0.5 * (d / width) ** 2)
    # HU calibration
    out = out * u(1 - cfg.hu_scale, 1 + cfg.hu_scale).view(n, 1, 1, 1) + u(-cfg.hu_offset, cfg.hu_offset).view(n, 1, 1, 1)
    # blur
    out = _blur(out, torch.where(coin(cfg.blur_p), u(*cfg.blur_sigma), torch.full((n,), 1e-3, device=dev, dtype=dt)))
    # noise with a kernel's grain, scaled back to the drawn standard deviation
    sd = torch.where(coin(cfg.noise_p), u(0.0, cfg.noise_sd), torch.zeros(n, device=dev, dtype=dt))
    if bool((sd > 0).any()):
        noise = _blur(torch.randn(hu.shape, generator=generator).to(dev, dt), u(*cfg.noise_grain).clamp(min=1e-3))
        noise = noise / noise.std(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)
        out = out + noise * sd.view(n, 1, 1, 1)
    # truncation last: the padding outside the reconstruction circle carries no noise and no blur
    cut = coin(cfg.truncate_p)
    if bool(cut.any()):
        r = u(*cfg.truncate_radius).view(n, 1, 1, 1)
        cx, cy = u(-0.1, 0.1).view(n, 1, 1, 1), u(-0.1, 0.1).view(n, 1, 1, 1)
        outside = (xs - cx) ** 2 + (ys - cy) ** 2 > r ** 2
        out = torch.where(outside & cut.view(n, 1, 1, 1), torch.full_like(out, PADDING_HU), out)
        if targets is not None:
            tys, txs = _plane(targets.shape[2], targets.shape[3], dev, dt)
            gone = ((txs - cx) ** 2 + (tys - cy) ** 2 > r ** 2) & cut.view(n, 1, 1, 1)
            targets = targets.masked_fill(gone, 0.0)
    return out, targets
