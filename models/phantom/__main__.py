"""Command line: ``python3 -m models.phantom {generate,inserted,montage,gallery,realism}`` (see README.md)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from models.memory import reuse_freed_memory


def main(argv: list[str] | None = None) -> int:
    from .insert import PARTS

    ap = argparse.ArgumentParser(prog="python3 -m models.phantom", description="Synthetic head-CT studies in the RSNA 2019 format.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write DICOM studies + stage_2_train.csv + studies.csv")
    g.add_argument("--studies", type=int, required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True)
    g.add_argument("--balanced", action="store_true", help="balanced subtypes (training mode)")
    g.add_argument("--slices-min", type=int, default=32)
    g.add_argument("--slices-max", type=int, default=40)
    g.add_argument("--workers", type=int, default=None, help="processes (default: CPU count, max 8)")
    g.add_argument("--masks", action="store_true", help="also write masks.npz per study (for montage outlines)")
    m = sub.add_parser("montage", help="PNG grid of a study's slices (brain / subdural windows, lesions outlined)")
    m.add_argument("study_dir")
    m.add_argument("--out", required=True)
    m.add_argument("--columns", type=int, default=4)
    m.add_argument("--step", type=int, default=2, help="downsampling step (1 = full 512 px tiles)")
    m.add_argument("--slices", default=None, help="comma-separated slice numbers (default: all)")
    gl = sub.add_parser("gallery", help="one montage PNG per subtype (docs: assets/docs/phantom)")
    gl.add_argument("--out", required=True)
    gl.add_argument("--seed", type=int, default=0)
    r = sub.add_parser("realism", help="compare phantom slices with the real head CT in the shared corpus")
    r.add_argument("--out", required=True)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--studies", type=int, default=6)
    r.add_argument("--contrast", action="store_true",
                   help="against the seed's contrast-enhanced phantoms only, as the corpus's reference slice is")
    r.add_argument("--levels", action="store_true",
                   help="level by level against the real non-contrast series in ../shared/real-head-ct")
    ins = sub.add_parser("inserted", help="real head CT with synthetic bleeds drawn in, as DICOM studies + labels")
    ins.add_argument("--series", required=True, help="folder of one real axial head-CT series (*.dcm)")
    ins.add_argument("--seed", type=int, default=3)
    ins.add_argument("--variants", type=int, default=12, help="studies to write (warped variants of the series)")
    ins.add_argument("--part", choices=PARTS, default="held-out",
                     help="the held-out slices (every fifth), the training ones, or every slice of a series no "
                          "training pool reads")
    ins.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    reuse_freed_memory()  # its workers inherit it: each study's volumes reuse the last one's pages

    if a.cmd == "generate":
        from .dataset import generate_dataset

        s = generate_dataset(a.out, a.studies, a.seed, balanced=a.balanced, slices_min=a.slices_min,
                             slices_max=a.slices_max, workers=a.workers, masks=a.masks, progress=sys.stdout.isatty())
        # wall-clock rate of this run, and the CPU cost per slice spread over 2 idle cores
        s["extrapolated_20000_slices_minutes_at_this_rate"] = round(20000 / max(s["slices_per_second"], 1e-9) / 60, 1)
        s["extrapolated_20000_slices_minutes_2_idle_cores"] = round(20000 * s["cpu_ms_per_slice"] / 1000 / 2 / 60, 1)
        print(json.dumps(s))
        return 0
    if a.cmd == "inserted":
        from .insert import write_inserted_dataset

        print(json.dumps(write_inserted_dataset(a.out, a.series, a.seed, a.variants, a.part)))
        return 0
    if a.cmd == "montage":
        from .montage import montage_folder

        slices = [int(v) for v in a.slices.split(",")] if a.slices else None
        print(montage_folder(a.study_dir, a.out, columns=a.columns, step=a.step, slices=slices))
        return 0
    if a.cmd == "gallery":
        from .montage import gallery

        for p in gallery(a.out, seed=a.seed):
            print(p, p.stat().st_size, "bytes")
        return 0
    if a.cmd == "realism" and a.levels:
        from .realism import compare_levels

        compare_levels(a.out, seed=a.seed, n_studies=a.studies)
        print((Path(a.out) / "levels.md").read_text())
        return 0
    if a.cmd == "realism":
        from .realism import compare

        rep = compare(a.out, seed=a.seed, n_studies=a.studies, contrast=a.contrast)
        print((Path(a.out) / ("realism-contrast.md" if a.contrast else "realism.md")).read_text())
        print(json.dumps(rep["distances"]))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
