"""The whole training pipeline in one command, for a lent GPU machine (16 cores, one H100/H200):
pools, the three networks side by side, calibration, thresholds, held-out evaluation, and the
weights packed in pieces small enough to copy back.

On the GPU machine, from the repository root (each step one command of at most 9 minutes):

    python3 -m models.training.gpu_run train --minutes 5.5 --out "$OUT"        # ≈ 7.5 min in all
    python3 -m models.training.gpu_run fetch --part 2 --out "$OUT"             # the next pieces, while warm
    python3 -m models.training.gpu_run fetch --part 3 --out "$OUT"

Back here, with the pieces of every part in one folder:

    /usr/bin/python3 -m models.training.gpu_run unpack --from DIR               # -> runs/<id>/best.pt, ...
    /usr/bin/python3 -m models.training.onnx_export --model all                 # then the usual export

At toy size on a CPU (what the tests and a dry run use): ``train --toy --device cpu``.

Why pieces: the machine returns at most 8 files of 16 MB, 64 MB per command. The fp16 weights of
the three networks are about 133 MB (Inception-ResNet-V2 alone 108 MB), so ``train`` returns the
first part (four 15 MB pieces and the small records) and ``fetch`` the others; the work folder
stays on the machine while it is warm. The training pool grows while the networks train (the pool
loader re-reads it every pass), so no minute of GPU time waits for data.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

from .contract import REPO_ROOT
from .engine import load_checkpoint, run_dir

MODELS = ("convlstm", "efficientnet_b3", "inception_resnet_v2")
PIECE_BYTES = 15 * 1024 * 1024
PIECES_PER_PART = 4
SEEDS = {"train": 1, "val": 2, "calibration": 7001, "thresholds": 8001, "test": 9001}

#: Per network on the GPU: batch, peak learning rate (AdamW), loader processes. The rates are the
#: CPU range tests' suggestions scaled by sqrt(batch ratio), as usual for Adam-type optimisers.
GPU_RECIPE = {
    "convlstm": {"batch": 16, "lr": 1.0e-3, "workers": 3},
    "efficientnet_b3": {"batch": 64, "lr": 1.8e-3, "workers": 3},
    "inception_resnet_v2": {"batch": 64, "lr": 1.2e-3, "workers": 3},
}
TOY_RECIPE = {m: {"batch": 2, "lr": 1e-3, "workers": 1} for m in MODELS}


def _py(*args: str) -> List[str]:
    return [sys.executable, "-m", *args]


def _log(msg: str) -> None:
    print(f"[gpu_run {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _complete(pool: Path) -> int:
    return len(list(pool.glob("meta-*.npz")))


def train(args: argparse.Namespace) -> Dict[str, object]:
    t0 = time.time()
    work = Path(args.work)
    pools = work / "pools"
    runs = work / "runs"
    pools.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    small = {"val": 16, "calibration": 16, "thresholds": 10, "test": 16}
    if args.toy:
        small = {k: 2 for k in small}
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO_ROOT))
    # 1. the small held-out pools first (seconds on 16 cores), then the training pool in the background
    for name, n in small.items():
        subprocess.run(_py("models.training.pool", "build", "--seed", str(SEEDS[name]), "--studies", str(n),
                           "--out", str(pools / name), "--workers", str(min(cores, 16))), check=True, env=env,
                       cwd=REPO_ROOT)
    builder = subprocess.Popen(_py("models.training.pool", "build", "--seed", str(SEEDS["train"]), "--studies",
                                   str(args.studies), "--out", str(pools / "train"), "--workers",
                                   str(max(1, cores - 3 * (1 if args.toy else 3) - 1))),
                               env=env, cwd=REPO_ROOT, stdout=open(work / "pool-train.log", "w"), stderr=subprocess.STDOUT)
    need = min(args.studies, 4 if args.toy else 48)
    while _complete(pools / "train") < need:
        if builder.poll() not in (None, 0):
            raise SystemExit(f"the pool build failed: see {work / 'pool-train.log'}")
        time.sleep(1)
    _log(f"training pool has {_complete(pools / 'train')} studies; starting {', '.join(MODELS)}")
    # 2. the three networks side by side
    recipe = TOY_RECIPE if args.toy else GPU_RECIPE
    procs = {}
    for m in args.models:
        r = recipe[m]
        cmd = _py("models.training.train", "--model", m, "--pool", str(pools / "train"), "--val-pool", str(pools / "val"),
                  "--val-studies", str(small["val"]), "--val-slices-per-study", "12", "--init", args.init,
                  "--batch-size", str(r["batch"]), "--lr", str(r["lr"]), "--weight-decay", "0.05",
                  "--max-minutes", str(args.minutes), "--eval-every", str(args.eval_every), "--workers", str(r["workers"]),
                  "--out", str(runs / m), "--fresh")
        if args.device:
            cmd += ["--device", args.device]
        if args.toy:
            cmd += ["--threads", "1"]
        procs[m] = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=open(work / f"train-{m}.log", "w"),
                                    stderr=subprocess.STDOUT)
    failed = [m for m, p in procs.items() if p.wait() != 0]
    builder.terminate()
    builder.wait()
    if failed:
        raise SystemExit(f"training failed for {failed}: see {work}/train-*.log")
    _log("training done; calibrating and evaluating")
    # 3. calibration (seed 7001), thresholds (8001) and the held-out test (9001), every slice
    for m in args.models:
        common = ["--threads", "4"] + (["--device", args.device] if args.device else [])
        subprocess.run(_py("models.training.calibrate", "--model", m, "--pool", str(pools / "calibration"),
                           "--studies", str(small["calibration"]), "--out", str(runs / m), *common),
                       check=True, env=env, cwd=REPO_ROOT)
        subprocess.run(_py("models.training.evaluate", "--model", m, "--out", str(runs / m),
                           "--pool", str(pools / "test"), "--studies", str(small["test"]),
                           "--val-pool", str(pools / "thresholds"), "--val-studies", str(small["thresholds"]),
                           "--slices-per-study", "0", *common), check=True, env=env, cwd=REPO_ROOT)
    if all(m in args.models for m in ("efficientnet_b3", "inception_resnet_v2")):
        subprocess.run(_py("models.training.evaluate", "--model", "ensemble", "--out", str(runs / "ensemble"),
                           "--runs-root", str(runs)), check=True, env=env, cwd=REPO_ROOT)
    # 4. the pieces to copy back
    summary = pack(args.models, runs, work / "pack", minutes=round((time.time() - t0) / 60, 2))
    fetch(work, 1, Path(args.out))
    _log(f"done in {(time.time() - t0) / 60:.1f} min; {summary['parts']} part(s) to fetch")
    return summary


def pack(models: List[str], runs: Path, dest: Path, minutes: float) -> Dict[str, object]:
    """One archive of what export needs (fp16 EMA weights, records), cut into pieces."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    bundle: Dict[str, object] = {}
    for m in models:
        ck = load_checkpoint(runs / m / "best.pt")
        last = load_checkpoint(runs / m / "last.pt")
        bundle[m] = {
            "model": {k: (v.half() if v.is_floating_point() else v) for k, v in ck["model"].items()},
            "state": ck["state"], "final_state": last["state"], "pos_weight": ck["pos_weight"],
            "run": ck["run"], "last_epoch": ck.get("last_epoch"),
            "records": {name: (runs / m / name).read_text() for name in ("calibration.json", "evaluation.json", "log.jsonl")
                        if (runs / m / name).exists()},
            "predictions": (runs / m / "predictions.npz").read_bytes() if (runs / m / "predictions.npz").exists() else None,
        }
    if (runs / "ensemble" / "evaluation.json").exists():
        bundle["ensemble"] = {"records": {n: (runs / "ensemble" / n).read_text() for n in ("evaluation.json",)}}
    blob_path = dest / "bundle.pt"
    torch.save(bundle, blob_path)
    blob = blob_path.read_bytes()
    blob_path.unlink()
    pieces = []
    for i in range(0, len(blob), PIECE_BYTES):
        name = f"piece-{i // PIECE_BYTES:02d}.bin"
        (dest / name).write_bytes(blob[i:i + PIECE_BYTES])
        pieces.append({"name": name, "sha256": hashlib.sha256(blob[i:i + PIECE_BYTES]).hexdigest()})
    parts = (len(pieces) + PIECES_PER_PART - 1) // PIECES_PER_PART
    summary = {"models": models, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "pieces": pieces,
               "parts": parts, "minutes": minutes,
               "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
               "evaluation": {m: json.loads(bundle[m]["records"]["evaluation.json"])["overall"]  # type: ignore[index]
                              for m in bundle if "evaluation.json" in bundle[m]["records"]}}  # type: ignore[index]
    (dest / "pack.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def fetch(work: Path, part: int, out: Path) -> None:
    dest = work / "pack"
    summary = json.loads((dest / "pack.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(dest / "pack.json", out / "pack.json")
    for p in summary["pieces"][(part - 1) * PIECES_PER_PART: part * PIECES_PER_PART]:
        shutil.copy(dest / p["name"], out / p["name"])
    print(json.dumps({"part": part, "of": summary["parts"], "evaluation": summary["evaluation"]}, indent=1))


def unpack(src: Path, into: Optional[Path] = None) -> None:
    """Pieces -> <into>/<id>/{best.pt,last.pt,calibration.json,evaluation.json,log.jsonl,predictions.npz}
    (``into`` defaults to models/training/runs, where evaluate.py and onnx_export.py look)."""
    summary = json.loads((src / "pack.json").read_text())
    blob = b""
    for p in summary["pieces"]:
        data = (src / p["name"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != p["sha256"]:
            raise SystemExit(f"{p['name']}: checksum mismatch (copy it again)")
        blob += data
    if hashlib.sha256(blob).hexdigest() != summary["sha256"]:
        raise SystemExit("the reassembled bundle does not match its checksum")
    tmp = src / "bundle.pt"
    tmp.write_bytes(blob)
    bundle = torch.load(tmp, map_location="cpu")
    tmp.unlink()
    for m, b in bundle.items():
        d = (into / m) if into else run_dir(m)
        d.mkdir(parents=True, exist_ok=True)
        if "model" not in b:  # the ensemble: records only
            for name, text in b["records"].items():
                (d / name).write_text(text)
            continue
        model = {k: (v.float() if v.is_floating_point() else v) for k, v in b["model"].items()}
        common = {"model": model, "pos_weight": b["pos_weight"], "run": b["run"], "last_epoch": b["last_epoch"]}
        torch.save({**common, "state": b["state"]}, d / "best.pt")
        torch.save({**common, "state": b["final_state"]}, d / "last.pt")  # weights: the best (no optimiser state)
        for name, text in b["records"].items():
            (d / name).write_text(text)
        if b["predictions"] is not None:
            (d / "predictions.npz").write_bytes(b["predictions"])
        print(f"unpacked {m} into {d}")


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--minutes", type=float, default=5.5, help="training wall time of each network")
    t.add_argument("--studies", type=int, default=1500, help="training pool size (it grows while training)")
    t.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    t.add_argument("--init", default="onnx", help="as train.py: onnx (the committed weights), none, or a checkpoint")
    t.add_argument("--eval-every", type=int, default=100)
    t.add_argument("--device", default=None)
    t.add_argument("--toy", action="store_true", help="tiny pools and batches: a dry run on a CPU")
    t.add_argument("--work", default="/tmp/ich-gpu", help="pools, runs and pieces (kept while the machine is warm)")
    t.add_argument("--out", required=True, help="where the first part's pieces go ($OUT)")
    f = sub.add_parser("fetch")
    f.add_argument("--part", type=int, required=True)
    f.add_argument("--work", default="/tmp/ich-gpu")
    f.add_argument("--out", required=True)
    u = sub.add_parser("unpack")
    u.add_argument("--from", dest="src", required=True)
    u.add_argument("--into", default=None, help="folder of run folders (default models/training/runs)")
    args = ap.parse_args(argv)
    if args.cmd == "train":
        train(args)
    elif args.cmd == "fetch":
        fetch(Path(args.work), args.part, Path(args.out))
    else:
        unpack(Path(args.src), Path(args.into) if args.into else None)


if __name__ == "__main__":
    main()
