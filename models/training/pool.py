"""A phantom pool: studies generated once and stored as memory-mappable int16 HU shards.

    /usr/bin/python3 -m models.training.pool build --seed 1 --studies 1500 --out /data/pool-s1
    /usr/bin/python3 -m models.training.pool build-inserted --series ../shared/real-head-ct/ge-hispeed-dual \
        --seed 1 --variants 60 --out /data/inserted-s1     # real slices with synthetic bleeds drawn in
    /usr/bin/python3 -m models.training.pool info /data/pool-s1
    /usr/bin/python3 -m models.training.loader_speed /data/pool-s1      # loader slices/s against on-the-fly

Why: generating a phantom study costs about a second of CPU per 40 slices, more than a training step
of a small network on a GPU; generating on the fly starved the GPU (35–65 slices/s). A pool is
generated once, on all cores, and then read for many epochs through memory maps, with the
augmentation done on the fly (``augment.py``) so that epochs still differ.

Layout of a pool folder (one shard per study, so a build can stop at any moment and resume):

    pool.json                 what the pool is (seed, balanced, generator, label order, counts)
    hu-NNNNN.npy              int16 [Z, 512, 512], HU exactly as a DICOM reader gets them
                              (phantom HU are integers, so int16 loses nothing)
    meta-NNNNN.npz            labels uint8 [Z, 6], window float32 [Z, 2], z (head frame, mm)
    mask-NNNNN.npz            lesion bits uint8 [Z, 512, 512] (bit i = SUBTYPES[i]), compressed:
                              what localisation trains and measures against

A shard is complete when its ``meta`` file exists: it is written last, atomically (temporary file
then rename), so a killed build leaves at most an orphan ``hu`` file that the next build rewrites.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..memory import reuse_freed_memory
from .contract import LABELS, NUM_LABELS

POOL_VERSION = 1
#: Bytes per stored slice: int16 HU at 512 x 512 (masks compress to almost nothing).
BYTES_PER_SLICE = 512 * 512 * 2
MEAN_SLICES_PER_STUDY = 36


#: A pool study's shards: its HU (a memory-mappable int16 array), lesion masks and labels/windows.
SHARD_EXT = {"hu": "npy", "mask": "npz", "meta": "npz"}


def shard_path(root: os.PathLike, kind: str, index: int) -> Path:
    """The file of study ``index``'s ``kind`` shard ('hu', 'mask' or 'meta') in the pool at ``root``."""
    return Path(root) / f"{kind}-{index:05d}.{SHARD_EXT[kind]}"


def _atomic_save(path: Path, writer) -> None:
    # The suffix must stay what numpy expects, or np.save/np.savez add their own to the name.
    tmp = path.with_name(path.stem + ".partial" + path.suffix)
    writer(tmp)
    os.replace(tmp, path)


def _build_one(args) -> Dict[str, object]:
    out, seed, index, balanced, thickness, single, contrast = args
    from models.phantom import generate_study

    c0 = time.process_time()
    st = generate_study(seed, index, balanced=balanced, slice_thickness=thickness, single_subtype_share=single,
                        contrast_share=contrast)
    out = Path(out)
    hu = np.asarray(st.hu)
    if hu.min() < -32768 or hu.max() > 32767 or not np.array_equal(hu, np.rint(hu)):
        raise ValueError(f"study {index}: HU not representable as int16")
    _atomic_save(shard_path(out, "hu", index), lambda p: np.save(p, hu.astype(np.int16)))
    _atomic_save(shard_path(out, "mask", index), lambda p: np.savez_compressed(p, bits=st.lesion_bits))
    z = np.asarray(st.meta["z_head"], np.float32)
    _atomic_save(shard_path(out, "meta", index),
                 lambda p: np.savez(p, labels=st.labels.astype(np.uint8), window=st.window.astype(np.float32), z=z,
                                    pixel_mm=np.float32(st.meta["pixel_spacing"])))
    return {"index": index, "slices": int(len(st)), "cpu": time.process_time() - c0}


def complete_indices(out: Path) -> List[int]:
    return sorted(int(p.stem.split("-")[1]) for p in out.glob("meta-*.npz"))


def build(out: os.PathLike, seed: int, studies: int, balanced: bool = True, workers: Optional[int] = None,
          progress: bool = True, thickness: Optional[float] = 5.0, single_subtype_share: float = 0.0,
          contrast_share: Optional[float] = None) -> Dict[str, object]:
    """Generate studies ``0..studies-1`` of ``seed`` into ``out``; studies already there are kept.

    ``thickness``: the slice thickness in mm, or None for one drawn per study (0.625–5 mm).
    ``single_subtype_share``: the share of bleeding studies with one subtype only (a training pool's
    option, ``generate_study``); held-out pools keep 0, the generator's own mix.
    ``contrast_share``: the share of contrast-enhanced heads (a training pool's option, for more of
    that hard negative); None keeps the generator's own, as held-out pools must."""
    from models.phantom.study import GENERATOR_REVISION

    if not 0.0 <= single_subtype_share <= 1.0:
        raise SystemExit(f"single-subtype share {single_subtype_share}: a share, from 0 to 1")
    if contrast_share is not None and not 0.0 <= contrast_share <= 1.0:
        raise SystemExit(f"contrast share {contrast_share}: a share, from 0 to 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    info_path = out / "pool.json"
    if info_path.exists():
        info = json.loads(info_path.read_text())
        made_by = info.get("generator", "")
        if made_by != f"models.phantom v{GENERATOR_REVISION}":
            # one pool, one generator: studies added by a later revision would differ from the rest
            raise SystemExit(f"{out} was made by {made_by}, this is models.phantom v{GENERATOR_REVISION}: "
                             "use another folder")
        if info.get("contrast_share") != contrast_share:
            raise SystemExit(f"{out} holds a contrast share of {info.get('contrast_share', 'the generator default')}; "
                             f"asked for {'the generator default' if contrast_share is None else contrast_share}: "
                             "use another folder")
        held = info.get("single_subtype_share", 0.0)
        if (info["seed"] != seed or info["balanced"] != balanced or info.get("source")
                or info.get("thickness", 5.0) != thickness or held != single_subtype_share):
            raise SystemExit(f"{out} holds seed {info['seed']} (balanced={info['balanced']}, thickness "
                             f"{info.get('thickness', 5.0) or 'mixed'}, single-subtype share {held}); asked for seed "
                             f"{seed} (balanced={balanced}, thickness {thickness or 'mixed'}, single-subtype share "
                             f"{single_subtype_share}): use another folder")
    done = set(complete_indices(out))
    todo = [i for i in range(studies) if i not in done]
    need = len(todo) * MEAN_SLICES_PER_STUDY * BYTES_PER_SLICE
    free = shutil.disk_usage(out).free
    print(f"pool {out}: {len(done)} of {studies} studies present, {len(todo)} to make; "
          f"≈ {need / 1e9:.1f} GB more on disk ({free / 1e9:.0f} GB free)", file=sys.stderr, flush=True)
    if need > free * 0.95:
        raise SystemExit(f"not enough disk space in {out}: need ≈ {need / 1e9:.1f} GB, {free / 1e9:.1f} GB free")
    record = dict(thickness=thickness, single_subtype_share=single_subtype_share, contrast_share=contrast_share)
    write_info(out, seed, balanced, **record)  # on record from the start; a pool being built is readable
    jobs = [(str(out), seed, i, balanced, thickness, single_subtype_share, contrast_share) for i in todo]
    return _make_shards(out, _build_one, jobs, workers, progress, "studies",
                        lambda: write_info(out, seed, balanced, **record))


def _make_shards(out: Path, fn, jobs: list, workers: Optional[int], progress: bool, what: str,
                 finish) -> Dict[str, object]:
    """Runs ``fn`` over ``jobs`` (one shard each) on ``workers`` processes with a progress bar, then
    ``finish()`` (the pool.json write) and prints and returns the summary: the one loop of both builds."""
    workers = max(1, workers or os.cpu_count() or 1)
    t0 = time.perf_counter()
    made: List[Dict[str, object]] = []

    def tick() -> None:
        if not progress:
            return
        el = time.perf_counter() - t0
        rate = len(made) / el if el > 0 else 0.0
        eta = (len(jobs) - len(made)) / rate if rate > 0 else float("nan")
        width = 30
        fill = int(width * len(made) / max(len(jobs), 1))
        print(f"\r[{'#' * fill}{'.' * (width - fill)}] {len(made)}/{len(jobs)} {what} "
              f"{rate * 60:.0f}/min, ETA {eta / 60:.1f} min", end="", file=sys.stderr, flush=True)

    if workers == 1 or len(jobs) <= 1:
        for j in jobs:
            made.append(fn(j))
            tick()
    else:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            for fut in as_completed([ex.submit(fn, j) for j in jobs]):
                made.append(fut.result())
                tick()
    if progress and jobs:
        print(file=sys.stderr)
    elapsed = time.perf_counter() - t0
    info = finish()
    made_slices = sum(int(m["slices"]) for m in made)
    summary = {"pool": str(out), "studies": info["studies"], "slices": info["slices"], "made_studies": len(made),
               "made_slices": made_slices, "seconds": round(elapsed, 1), "workers": workers,
               "slices_per_second": round(made_slices / elapsed, 1) if made else None,
               "cpu_ms_per_slice": round(1000 * sum(float(m["cpu"]) for m in made) / max(made_slices, 1), 1),
               "bytes": info["bytes"], "positive_slices": info["positive_slices"]}
    print(json.dumps(summary), flush=True)
    return summary


def _study_labels(root: Path, indices: Sequence[int]) -> List[np.ndarray]:
    return [np.load(shard_path(root, "meta", i))["labels"] for i in indices]


def _stacked(labels: List[np.ndarray]) -> np.ndarray:
    return np.concatenate(labels) if labels else np.zeros((0, NUM_LABELS), np.uint8)


def shared_slices(labels: np.ndarray) -> Dict[str, int]:
    """Per subtype, its positive slices that hold another subtype's blood too (labels [N, 6], ``any``
    first): where a network can score "blood here" for every subtype at little cost, so a pool
    should say how much of each subtype comes alone."""
    sub = labels[:, 1:] >= 1
    others = sub.sum(axis=1, keepdims=True) - sub
    return {l: int((sub[:, j] & (others[:, j] > 0)).sum()) for j, l in enumerate(LABELS[1:])}


def write_info(out: Path, seed: int, balanced: bool, source: Optional[Dict[str, object]] = None,
               thickness: Optional[float] = 5.0, single_subtype_share: float = 0.0,
               contrast_share: Optional[float] = None) -> Dict[str, object]:
    from models.phantom.study import GENERATOR_REVISION

    idx = complete_indices(out)
    labels = _study_labels(out, idx)
    slices = [len(l) for l in labels]
    allp = _stacked(labels)
    info = {"version": POOL_VERSION, "generator": f"models.phantom v{GENERATOR_REVISION}", "seed": seed,
            "balanced": balanced, "thickness": thickness, "labels": list(LABELS), "studies": len(idx), "indices": idx, "slices": int(sum(slices)),
            "positive_slices": {l: int(allp[:, j].sum()) for j, l in enumerate(LABELS)},
            "positive_slices_with_another_subtype": shared_slices(allp),
            **({"single_subtype_share": single_subtype_share} if single_subtype_share else {}),
            **({"contrast_share": contrast_share} if contrast_share is not None else {}),
            "bytes": int(sum(shard_path(out, "hu", i).stat().st_size for i in idx))}
    if source is not None:  # real slices with drawn bleeds, not phantoms
        info["generator"] = "models.phantom.insert"
        info["source"] = source
        info.pop("thickness")   # the real series' own
    tmp = out / "pool.json.partial"
    tmp.write_text(json.dumps(info, indent=1) + "\n")
    os.replace(tmp, out / "pool.json")
    return info


@dataclass
class PoolIndex:
    """Every slice of a pool as (study, slice) with its labels; HU opened lazily as memory maps."""

    root: Path
    studies: np.ndarray        # int32 [S] study indices present
    study_of: np.ndarray       # int32 [M] position in ``studies`` of each slice
    slice_of: np.ndarray       # int32 [M] slice number within its study
    labels: np.ndarray         # uint8 [M, 6]
    window: np.ndarray         # float32 [M, 2]
    seed: int

    @classmethod
    def open(cls, root: os.PathLike, studies: Optional[Sequence[int]] = None) -> "PoolIndex":
        root = Path(root)
        info = json.loads((root / "pool.json").read_text())
        if tuple(info["labels"]) != LABELS:
            raise ValueError(f"{root}: label order {info['labels']} differs from the contract {LABELS}")
        present = complete_indices(root)
        chosen = present if studies is None else [i for i in studies if i in set(present)]
        if not chosen:
            raise ValueError(f"{root}: no complete studies (build the pool first)")
        so, sl, labs, wins = [], [], [], []
        for k, i in enumerate(chosen):
            m = np.load(shard_path(root, "meta", i))
            z = len(m["labels"])
            so.append(np.full(z, k, np.int32)); sl.append(np.arange(z, dtype=np.int32))
            labs.append(m["labels"]); wins.append(m["window"])
        return cls(root=root, studies=np.asarray(chosen, np.int32), study_of=np.concatenate(so),
                   slice_of=np.concatenate(sl), labels=np.concatenate(labs), window=np.concatenate(wins),
                   seed=int(info["seed"]))

    def __len__(self) -> int:
        return len(self.labels)

    def hu_map(self, k: int) -> np.ndarray:
        """int16 [Z, 512, 512] of the k-th study, memory-mapped (nothing read until touched)."""
        return np.load(shard_path(self.root, "hu", int(self.studies[k])), mmap_mode="r")

    def masks(self, k: int) -> np.ndarray:
        return np.load(shard_path(self.root, "mask", int(self.studies[k])))["bits"]

    def geometry(self, k: int) -> Tuple[Optional[float], np.ndarray]:
        """The k-th study's in-plane pixel spacing in mm (None in pools built before it was kept) and
        its slice positions: mm along the head in phantom pools, source slice numbers in pools of
        inserted bleeds (whose slices are not contiguous)."""
        with np.load(shard_path(self.root, "meta", int(self.studies[k]))) as m:
            return (float(m["pixel_mm"]) if "pixel_mm" in m.files else None), np.asarray(m["z"], np.float64)

    def study_arrays(self, k: int) -> Dict[str, np.ndarray]:
        sel = self.study_of == k
        return {"hu": np.asarray(self.hu_map(k), np.float32), "labels": self.labels[sel], "window": self.window[sel]}


def pool_arrays(pool: str, studies: int, slices_per_study: Optional[int], sample_seed: int = 0) -> Dict[str, np.ndarray]:
    """A fixed evaluation set from a pool: the first ``studies`` studies, ``slices_per_study`` random
    slices each (all when None), as arrays like ``data.phantom_arrays``."""
    idx = PoolIndex.open(pool)
    rng = np.random.default_rng([sample_seed, idx.seed])
    hus, wins, labs, st = [], [], [], []
    for k in range(min(studies, len(idx.studies))):
        sel = np.flatnonzero(idx.study_of == k)
        z = np.arange(len(sel))
        if slices_per_study is not None and slices_per_study < len(z):
            z = np.sort(rng.choice(z, slices_per_study, replace=False))
        m = idx.hu_map(k)
        hus.append(np.asarray(m[z], np.float32)); wins.append(idx.window[sel][z]); labs.append(idx.labels[sel][z])
        st.append(np.full(len(z), int(idx.studies[k])))
    return {"hu": np.concatenate(hus)[:, None], "window": np.concatenate(wins), "labels": np.concatenate(labs),
            "study": np.concatenate(st)}


_SERIES_CACHE: Dict[str, object] = {}


def _build_inserted_one(args) -> Dict[str, object]:
    out, series_dir, seed, index, slices = args
    from models.phantom.insert import load_series, variant

    c0 = time.process_time()
    series = _SERIES_CACHE.get(series_dir)
    if series is None:  # read once per worker process
        series = _SERIES_CACHE[series_dir] = load_series(series_dir)
    v = variant(series, seed, index, slices)
    out = Path(out)
    _atomic_save(shard_path(out, "hu", index), lambda p: np.save(p, v["hu"].astype(np.int16)))
    _atomic_save(shard_path(out, "mask", index), lambda p: np.savez_compressed(p, bits=v["bits"]))
    _atomic_save(shard_path(out, "meta", index),
                 lambda p: np.savez(p, labels=v["labels"], window=v["window"], z=v["source"].astype(np.float32),
                                    pixel_mm=np.float32(series.pixel_mm)))
    return {"index": index, "slices": int(len(v["hu"])), "cpu": time.process_time() - c0}


def build_inserted(out: os.PathLike, series_dir: os.PathLike, seed: int, variants: int, part: str = "train",
                   workers: Optional[int] = None, progress: bool = True) -> Dict[str, object]:
    """Variants ``0..variants-1`` of a real series with synthetic bleeds drawn in
    (``models.phantom.insert``), as a pool with the phantom pool's layout. ``part`` picks the
    training slices or the held-out ones (every fifth slice), so a model can be measured on real
    slices it never saw, or every slice ("all") of a series no training pool reads: another
    patient, whose anatomy no network has learnt."""
    from models.phantom.insert import load_series, part_slices

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    series_dir = str(Path(series_dir).resolve())
    slices = part_slices(len(load_series(series_dir).hu), part)
    source = {"series": series_dir, "part": part, "slices": slices}
    info_path = out / "pool.json"
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if info["seed"] != seed or info.get("source") != source:
            raise SystemExit(f"{out} holds another pool (seed {info['seed']}, {info.get('source')}): use another folder")
    done = set(complete_indices(out))
    todo = [i for i in range(variants) if i not in done]
    print(f"pool {out}: {len(done)} of {variants} variants of {len(slices)} real slices present, {len(todo)} to make; "
          f"≈ {len(todo) * len(slices) * BYTES_PER_SLICE / 1e9:.1f} GB more on disk", file=sys.stderr, flush=True)
    write_info(out, seed, True, source)
    jobs = [(str(out), series_dir, seed, i, slices) for i in todo]
    return _make_shards(out, _build_inserted_one, jobs, workers, progress, "variants",
                        lambda: write_info(out, seed, True, source))


def _info(args: argparse.Namespace) -> None:
    """pool.json, with the subtype co-occurrence counted from the shards (pools built before
    pool.json kept it lack it)."""
    root = Path(args.pool)
    info = json.loads((root / "pool.json").read_text())
    info["positive_slices_with_another_subtype"] = shared_slices(_stacked(_study_labels(root, complete_indices(root))))
    print(json.dumps(info, indent=1))


def main(argv: Optional[List[str]] = None) -> None:
    from models.phantom.insert import PARTS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="generate (or complete) a pool")
    b.add_argument("--seed", type=int, required=True)
    b.add_argument("--studies", type=int, required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--balanced", action=argparse.BooleanOptionalAction, default=True)
    b.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    b.add_argument("--thickness", default="5", help="slice thickness in mm, or 'mixed': drawn per study, 0.625–5 mm")
    b.add_argument("--single-subtype-share", type=float, default=0.0,
                   help="share of bleeding studies with one subtype only (training pools; default 0: the generator's mix)")
    b.add_argument("--contrast-share", type=float, default=None,
                   help="share of contrast-enhanced heads, a hard negative (training pools; default: the generator's 0.12)")
    r = sub.add_parser("build-inserted", help="real slices with synthetic bleeds drawn in (models.phantom.insert)")
    r.add_argument("--series", required=True, help="folder of one real axial head-CT series (*.dcm)")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--variants", type=int, required=True, help="warped variants of the series, each a pool 'study'")
    r.add_argument("--part", choices=PARTS, default="train",
                   help="the training slices, the held-out ones (every fifth slice), or every slice of a series "
                        "no training pool reads")
    r.add_argument("--out", required=True)
    r.add_argument("--workers", type=int, default=None)
    i = sub.add_parser("info", help="print pool.json")
    i.add_argument("pool")
    args = ap.parse_args(argv)
    reuse_freed_memory()  # its workers inherit it: each study's volumes reuse the last one's pages
    if args.cmd == "build":
        build(args.out, args.seed, args.studies, args.balanced, args.workers,
              thickness=None if args.thickness == "mixed" else float(args.thickness),
              single_subtype_share=args.single_subtype_share, contrast_share=args.contrast_share)
    elif args.cmd == "build-inserted":
        build_inserted(args.out, args.series, args.seed, args.variants, args.part, args.workers)
    else:
        _info(args)


if __name__ == "__main__":
    main()
