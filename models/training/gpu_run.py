"""The whole training pipeline in one command, for a lent GPU machine (16 cores, one H100/H200):
pools, the three classifiers and the lesion-map network side by side, calibration, thresholds,
held-out evaluation, and the weights packed in pieces small enough to copy back.

On the GPU machine, from the repository root (one command of at most 9.5 minutes, then one more):

    python3 -m models.training.gpu_run train --minutes 6 --series DIR --out "$OUT"   # ≈ 9 min in all
    python3 -m models.training.gpu_run fetch --part 2 --out "$OUT"                   # the rest, while warm

Inception-ResNet-V2's int8 file and the checkout do not fit one call (64 MiB): the file comes in a
call of its own before, and ``train --weights-from FOLDER`` puts it in place (models/training/README.md,
"The GPU script"); without it that network trains from scratch.

Back here, with the pieces of every part in one folder:

    /usr/bin/python3 -m models.training.gpu_run unpack --from DIR               # -> runs/<id>/best.pt, ...
    /usr/bin/python3 -m models.training.onnx_export --model all                 # then the usual export
    /usr/bin/python3 -m models.training.lesion_unet ship --checkpoint models/training/runs/lesion_unet/best.pt  # and
                                                 # the lesion network's (models/training/README.md: threshold, evaluate, ship)

At toy size on a CPU (what a dry run uses, ≈ 2 min here): ``train --toy --device cpu``.

Data: a phantom pool of mixed slice thickness (seed 1, the checkout's generator) that grows while
the networks train (the pool loader re-reads it every pass), so no minute of GPU time waits for
data; with
``--series``, a real head-CT series with bleeds drawn in (``models.phantom.insert``) joins it at
``--real-share``, and its held-out slices join the validation set, as in the CPU runs. The lesion
network draws its maps at ``--lesion-map-stride`` (default 2: 256 x 256, one decoder level finer
than the shipped stride-4 network, whose weights start it where names and shapes match).

Why pieces: the machine returns at most 8 files of 16 MB, 64 MB per command. One archive per
network, cut into 15 MB pieces, the small networks first, so the first part alone brings whole
networks back: Conv-LSTM and EfficientNet-B3 in fp16 (25 MB), Inception-ResNet-V2 in per-channel
int8 (54 MB instead of 108 MB in fp16: two calls instead of three; the app runs it in int8 on the
CPU anyway). The work folder stays on the machine while it is warm. ``--deadline`` bounds the
whole command: the training stops early if it must, and the pieces are always packed.
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
from typing import Callable, Dict, List, Optional, Sequence

import torch

from .contract import GPU_WORK, MODELS_DIR, REPO_ROOT
from .engine import load_checkpoint, run_dir
from .pool import complete_indices

MODELS = ("convlstm", "efficientnet_b3", "inception_resnet_v2")
#: Networks that draw lesion maps (lesion_unet.py): trained beside the classifiers from the same pools'
#: masks, evaluated by the pointing game and the volume, shipped by their own ``ship`` command.
MAP_MODELS = ("lesion_unet",)
ALL_MODELS = MODELS + MAP_MODELS
PIECE_BYTES = 15 * 1024 * 1024
#: What one command may bring back: at most 8 files and 64 MiB; pack.json travels with every part.
PART_BYTES = 60 * 1024 * 1024
PIECES_PER_PART = 7
SEEDS = {"train": 1, "val": 2, "calibration": 7001, "thresholds": 8001, "test": 9001}

#: Per network on the GPU: batch, peak learning rate (AdamW), loader processes. The rates are the
#: CPU range tests' suggestions scaled by sqrt(batch ratio), as usual for Adam-type optimisers. The
#: Conv-LSTM had no range test: 1e-3 from its GPU-trained weights undid them (training loss up from
#: 0.9 to 1.1, validation mean AUC 0.72 -> 0.54 in 1,250 steps), so it runs at twice the paper's
#: Adam rate of 1e-4 instead.
#: ``lr_from_weights``: the rate where a network starts from its shipped weights rather than from
#: scratch. Inception-ResNet-V2 had only ever started from scratch on a GPU (its int8 file stayed
#: behind, ``--weights-from`` below); from its shipped file a CPU run at 1e-4, batch 16, raised its
#: validation sample 0.952 -> 0.963 (models/training/README.md), so twice that at four times the batch.
GPU_RECIPE = {
    "convlstm": {"batch": 16, "lr": 2.0e-4, "workers": 3, "eval_every": 200},
    "efficientnet_b3": {"batch": 64, "lr": 1.8e-3, "workers": 3, "eval_every": 300},
    "inception_resnet_v2": {"batch": 64, "lr": 1.2e-3, "lr_from_weights": 2.0e-4, "workers": 3, "eval_every": 300},
    # the CPU runs' rate (batch 8, 2e-3) at four times the batch, scaled by sqrt(4) and capped
    "lesion_unet": {"batch": 32, "lr": 3e-3, "workers": 3, "eval_every": 300},
}
TOY_RECIPE = {m: {"batch": 2, "lr": 1e-3, "workers": 1, "eval_every": 4} for m in ALL_MODELS}


def _py(*args: str) -> List[str]:
    return [sys.executable, "-m", *args]


def _log(msg: str) -> None:
    print(f"[gpu_run {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _complete(pool: Path) -> int:
    return len(complete_indices(pool)) if pool.exists() else 0


def _env() -> Dict[str, str]:
    # the repository first, then whatever the caller put on the path (wheels carried to the machine)
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)


def _run_all(cmds: Dict[str, List[str]], logs: Path, timeout: float) -> List[str]:
    """Run ``cmds`` side by side; returns the names that failed or ran past ``timeout`` seconds."""
    procs = {name: subprocess.Popen(cmd, env=_env(), cwd=REPO_ROOT, stdout=open(logs / f"{name}.log", "w"),
                                    stderr=subprocess.STDOUT) for name, cmd in cmds.items()}
    failed, t_end = [], time.time() + max(1.0, timeout)
    for name, p in procs.items():
        try:
            rc = p.wait(timeout=max(1.0, t_end - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "timeout"
        if rc != 0:
            failed.append(name)
            _log(f"{name}: {'ran past its time' if rc == 'timeout' else f'exit {rc}'} (see {logs / (name + '.log')})")
    return failed


def train(args: argparse.Namespace) -> Dict[str, object]:
    """The pipeline of the module docstring within ``--deadline`` minutes: pools, the networks side by side,
    calibration and evaluation, then the pieces to copy back."""
    t0 = time.time()
    deadline = t0 + 60 * args.deadline

    def left() -> float:
        return deadline - time.time()

    work = Path(args.work)
    pools = work / "pools"
    runs = work / "runs"
    logs = work / "logs"
    for d in (pools, logs):
        d.mkdir(parents=True, exist_ok=True)
    small = {"val": 16, "calibration": 16, "thresholds": 48, "test": 16}
    variants = {"inserted": 120, "inserted-val": 40}
    if args.toy:
        small = {k: 2 for k in small}
        variants = {k: 2 for k in variants}
    models = list(args.models)
    if args.weights_from:
        _log(f"placed from {', '.join(args.weights_from)}: {', '.join(place_weights(args.weights_from))}")
    for m in models:
        if m not in MAP_MODELS and args.init == "onnx" and not shipped_weights_present(m):
            _log(f"{m}: its shipped files are not all here: it trains from scratch")
    builder, train_pools, val_pools = _build_pools(args, pools, logs, small, variants)
    reserve = 60 * args.after  # calibration, evaluation and packing after the training
    asked = args.minutes
    args.minutes = training_minutes(asked, left() - reserve)
    _log(f"pools ready in {time.time() - t0:.0f} s (training pool {_complete(pools / 'train')} studies and growing); "
         f"training {', '.join(models)} for {args.minutes} min"
         + (f" (asked {asked}; that is what the deadline leaves)" if args.minutes < asked else ""))
    # the networks side by side on the one GPU
    cmds = {f"train-{m}": _train_command(args, m, small, runs, train_pools, val_pools) for m in models}
    failed = _run_all(cmds, logs, timeout=left() - reserve)
    builder.terminate()
    builder.wait()
    trained = [m for m in models if (runs / m / "best.pt").exists()]
    _log(f"training done ({time.time() - t0:.0f} s); trained: {trained}; failed: {failed}; "
         f"pool {_complete(pools / 'train')} studies")
    _calibrate_and_evaluate(args, trained, pools, runs, logs, small, left)
    # the pieces to copy back, and the end of every log on stdout
    summary = pack(trained, runs, work / "pack", minutes=round((time.time() - t0) / 60, 2))
    fetch(work, 1, Path(args.out))
    for f in sorted(logs.glob("*.log")):
        lines = f.read_text(errors="replace").splitlines()
        print(f"--- {f.name} (last lines)\n" + "\n".join(lines[-6:]), flush=True)
    _log(f"done in {(time.time() - t0) / 60:.1f} min; {summary['parts']} part(s) to fetch")
    return summary


def shipped_weights_present(model_id: str, models_dir: Path = MODELS_DIR) -> bool:
    """Whether every file of ``model_id``'s manifest record is in the checkout (``--init onnx``
    starts from them; a network whose files stayed behind trains from scratch)."""
    manifest = json.loads((models_dir / "manifest.json").read_text())
    entry = next((m for m in manifest["models"] if m["id"] == model_id), None)
    return bool(entry) and all((models_dir / f["path"]).exists() for f in entry["files"])


def place_weights(folders: Sequence[str], models_dir: Path = MODELS_DIR) -> List[str]:
    """Put the model files carried in ``folders`` where the checkout keeps them: each file the
    manifest names, found by its name in any of the folders, linked into ``models/<id>/``. A file
    with a name the manifest does not know is an error: a stray file must not become a network's
    weights. Returns the paths placed (relative to ``models_dir``)."""
    manifest = json.loads((models_dir / "manifest.json").read_text())
    known = {Path(f["path"]).name: f for m in manifest["models"] for f in m["files"]}
    placed = []
    for folder in folders:
        for src in sorted(Path(folder).iterdir()):
            if src.name not in known:
                raise SystemExit(f"{src}: not a file of models/manifest.json; carry only the shipped files")
            rec = known[src.name]
            if src.stat().st_size != rec["bytes"]:
                raise SystemExit(f"{src}: {src.stat().st_size} bytes where the manifest records {rec['bytes']} (cut short in transit?)")
            dst = models_dir / rec["path"]
            if dst.exists() and dst.stat().st_size == rec["bytes"]:
                continue  # the checkout has it already
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.is_symlink():
                dst.unlink()
            dst.symlink_to(src.resolve())
            placed.append(rec["path"])
    return placed


def _train_pool_command(args: argparse.Namespace, pools: Path, workers: int) -> List[str]:
    """The training pool's build: seed 1 at ``--thickness``, with ``--single-subtype-share`` of its
    bleeding studies holding one subtype only; the held-out pools keep the generator's own mix."""
    return _py("models.training.pool", "build", "--seed", str(SEEDS["train"]), "--studies", str(args.studies),
               "--thickness", args.thickness, "--single-subtype-share", str(args.single_subtype_share),
               "--out", str(pools / "train"), "--workers", str(workers))


def _build_pools(args: argparse.Namespace, pools: Path, logs: Path, small: Dict[str, int],
                 variants: Dict[str, int]) -> tuple[subprocess.Popen, List[str], List[str]]:
    """Start the training pool's build, build the held-out pools (and the real series' variants), and
    wait until the training pool has enough studies to start on. Returns the training pool's builder,
    still running, and the training and validation pools (``PATH[:SHARE]``)."""
    cores = os.cpu_count() or 1
    # the training pool starts at once, in the background, on part of the cores; it grows while the
    # networks train (the pool loader re-reads it every pass), so no minute of GPU time waits for data
    builder_workers = max(1, cores // 3) if not args.toy else 1
    builder = subprocess.Popen(_train_pool_command(args, pools, builder_workers),
                               env=_env(), cwd=REPO_ROOT, stdout=open(logs / "pool-train.log", "w"), stderr=subprocess.STDOUT)
    # the small held-out pools (every one a seed used for nothing else) and the real anatomy, on the rest
    rest = str(max(1, cores - builder_workers))
    for name, n in small.items():
        subprocess.run(_py("models.training.pool", "build", "--seed", str(SEEDS[name]), "--studies", str(n),
                           "--out", str(pools / name), "--workers", rest), check=True, env=_env(), cwd=REPO_ROOT)
    train_pools, val_pools = [str(pools / "train")], [str(pools / "val")]
    if args.series:
        for name, seed, part in (("inserted", 1, "train"), ("inserted-val", 2, "held-out")):
            subprocess.run(_py("models.training.pool", "build-inserted", "--series", args.series, "--seed", str(seed),
                               "--variants", str(variants[name]), "--part", part, "--out", str(pools / name),
                               "--workers", rest), check=True, env=_env(), cwd=REPO_ROOT)
        train_pools = [f"{pools / 'train'}:{1 - args.real_share}", f"{pools / 'inserted'}:{args.real_share}"]
        val_pools.append(str(pools / "inserted-val"))
    need = min(args.studies, 4 if args.toy else 32)
    while _complete(pools / "train") < need:
        if builder.poll() not in (None, 0):
            raise SystemExit(f"the pool build failed: see {logs / 'pool-train.log'}")
        time.sleep(1)
    return builder, train_pools, val_pools


#: Seconds a trainer needs besides its --max-minutes: its start (imports, CUDA, the first batches)
#: and its last evaluation and checkpoint, which carry the end of the learning-rate schedule.
TRAINER_MARGIN_S = 45.0


def training_minutes(asked: float, seconds_left: float, margin_s: float = TRAINER_MARGIN_S) -> float:
    """The trainers' --max-minutes: ``asked``, or less when the time left before the calibration must
    start (``seconds_left``) would not hold it. A trainer stopped from outside loses its last
    evaluation and the low-rate end of its cosine, and its best checkpoint is an early one."""
    fits = (seconds_left - margin_s) / 60.0
    return round(max(0.1, min(asked, fits)), 2)


def _train_command(args: argparse.Namespace, m: str, small: Dict[str, int], runs: Path, train_pools: List[str],
                   val_pools: List[str]) -> List[str]:
    """The training command of network ``m``, with its GPU recipe (or the toy one)."""
    r = (TOY_RECIPE if args.toy else GPU_RECIPE)[m]
    if m in MAP_MODELS:
        cmd = _py(f"models.training.{m}", "train", "--val-pool", val_pools[0], "--val-studies", str(small["val"]),
                  "--init", args.lesion_init or ("onnx" if args.init == "onnx" else "none"), "--batch-size", str(r["batch"]),
                  "--lr", str(r["lr"]),
                  "--max-minutes", str(args.minutes), "--eval-every", str(args.eval_every or r["eval_every"]),
                  "--workers", str(r["workers"]), "--threads", "2", "--out", str(runs / m), "--fresh",
                  "--map-stride", str(args.lesion_map_stride), "--faint-blood-weight", str(args.lesion_faint_blood_weight))
        for p in train_pools:
            cmd += ["--pool", p]
        return cmd + (["--device", args.device] if args.device else [])
    lr = r.get("lr_from_weights", r["lr"]) if args.init == "onnx" and shipped_weights_present(m) else r["lr"]
    cmd = _py("models.training.train", "--model", m, "--val-studies", str(small["val"]),
              "--val-slices-per-study", "2" if args.toy else "12", "--init", args.init, "--batch-size", str(r["batch"]),
              "--lr", str(lr), "--weight-decay", "0.05", "--max-minutes", str(args.minutes),
              "--eval-every", str(args.eval_every or r["eval_every"]), "--workers", str(r["workers"]), "--threads", "2",
              "--out", str(runs / m), "--fresh", "--other-bleed-weight", str(args.other_bleed_weight))
    for p in train_pools:
        cmd += ["--pool", p]
    for p in val_pools:
        cmd += ["--val-pool", p]
    if args.device:
        cmd += ["--device", args.device]
    return cmd


def _calibrate_and_evaluate(args: argparse.Namespace, trained: List[str], pools: Path, runs: Path, logs: Path,
                            small: Dict[str, int], left: Callable[[], float]) -> None:
    """Calibration (seed 7001) then thresholds (8001) and the held-out test (9001), every slice, each
    network in its own process, all side by side; then the ensemble when both members were evaluated."""
    common = ["--threads", "2", "--batch-size", "4" if args.toy else "32"] + (["--device", args.device] if args.device else [])
    every = ["--slices-per-study", "3"] if args.toy else []
    classifiers = [m for m in trained if m in MODELS]
    cal = {f"calibrate-{m}": _py("models.training.calibrate", "--model", m, "--pool", str(pools / "calibration"),
                                 "--studies", str(small["calibration"]), "--out", str(runs / m), *common, *every) for m in classifiers}
    _run_all(cal, logs, timeout=left() - 45)
    ev = {f"evaluate-{m}": _py("models.training.evaluate", "--model", m, "--out", str(runs / m), "--pool", str(pools / "test"),
                               "--studies", str(small["test"]), "--val-pool", str(pools / "thresholds"), "--val-studies",
                               str(small["thresholds"]), *common, *(every or ["--slices-per-study", "0"])) for m in classifiers}
    # a map network: the pointing game and the volume on the same held-out studies (its checkpoint, on the CPU)
    ev.update({f"evaluate-{m}": _py(f"models.training.{m}", "evaluate", "--checkpoint", str(runs / m / "best.pt"),
                                    "--pool", str(pools / "test"), "--studies", str(small["test"]), "--threads", "2",
                                    "--out", str(runs / m / "evaluation.json")) for m in trained if m in MAP_MODELS})
    _run_all(ev, logs, timeout=left() - 30)
    if all((runs / m / "evaluation.json").exists() for m in ("efficientnet_b3", "inception_resnet_v2")):
        _run_all({"evaluate-ensemble": _py("models.training.evaluate", "--model", "ensemble", "--out",
                                           str(runs / "ensemble"), "--runs-root", str(runs))}, logs, timeout=left() - 20)


#: Networks whose weights travel back as per-channel int8 (with fp32 scales) rather than fp16: Inception-
#: ResNet-V2's 108 MB of fp16 would need a third copy-back call; in int8 it is 54 MB, and the app runs
#: it in int8 on the CPU anyway (its static quantisation re-derives the same per-channel scales).
COMPACT = {"inception_resnet_v2"}
#: The order the pieces go in: the small networks first, so the first part alone brings back whole networks.
PACK_ORDER = ("convlstm", "lesion_unet", "efficientnet_b3", "ensemble", "inception_resnet_v2")


def compact_int8(t: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Symmetric int8 per output channel (dimension 0): ``q * scale`` restores ``t`` within scale/2."""
    flat = t.float().reshape(t.shape[0], -1)
    scale = (flat.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
    q = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8).reshape(t.shape)
    return {"int8": q, "scale": scale}


def expand_int8(packed: Dict[str, torch.Tensor]) -> torch.Tensor:
    q = packed["int8"]
    return (q.float().reshape(q.shape[0], -1) * packed["scale"][:, None]).reshape(q.shape)


def _weights_to_send(model_id: str, state: Dict[str, torch.Tensor], compact: Sequence[str]) -> Dict[str, object]:
    out: Dict[str, object] = {}
    for k, v in state.items():
        if not v.is_floating_point():
            out[k] = v
        elif model_id in compact and v.dim() >= 2 and v.numel() >= 4096:
            out[k] = compact_int8(v)
        else:
            out[k] = v.half()
    return out


def _weights_received(sent: Dict[str, object]) -> Dict[str, torch.Tensor]:
    return {k: (expand_int8(v) if isinstance(v, dict) else (v.float() if v.is_floating_point() else v))  # type: ignore[union-attr]
            for k, v in sent.items()}


def pack(models: List[str], runs: Path, dest: Path, minutes: float, compact: Sequence[str] = tuple(COMPACT),
         piece_bytes: int = PIECE_BYTES, part_bytes: int = PART_BYTES) -> Dict[str, object]:
    """One archive per network (weights for export, records), each cut into pieces, small networks first."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    present = [m for m in PACK_ORDER if m in models or (m == "ensemble" and (runs / m / "evaluation.json").exists())]
    pieces: List[Dict[str, object]] = []
    archives: Dict[str, Dict[str, object]] = {}
    evaluation: Dict[str, object] = {}
    for m in present:
        records = {name: (runs / m / name).read_text() for name in ("calibration.json", "evaluation.json", "log.jsonl")
                   if (runs / m / name).exists()}
        if m == "ensemble":
            bundle: Dict[str, object] = {"records": records}
        elif m in MAP_MODELS:  # its checkpoint holds the weights and its state (run records included)
            ck = load_checkpoint(runs / m / "best.pt")
            bundle = {"model": _weights_to_send(m, ck["model"], compact), "state": ck["state"], "records": records,
                      "map_network": True}
        else:
            ck = load_checkpoint(runs / m / "best.pt")
            last = load_checkpoint(runs / m / "last.pt") if (runs / m / "last.pt").exists() else ck
            bundle = {"model": _weights_to_send(m, ck["model"], compact), "state": ck["state"], "final_state": last["state"],
                      "pos_weight": ck["pos_weight"], "run": ck["run"], "last_epoch": ck.get("last_epoch"),
                      "records": records,
                      "predictions": (runs / m / "predictions.npz").read_bytes() if (runs / m / "predictions.npz").exists() else None}
        if "evaluation.json" in records and m not in MAP_MODELS:
            evaluation[m] = json.loads(records["evaluation.json"]).get("overall")
        elif "evaluation.json" in records:
            evaluation[m] = {"pointing_game_any": json.loads(records["evaluation.json"])["pools"][0]["pointing_game"]["any"]["hit_rate"]}
        blob_path = dest / f"{m}.pt"
        torch.save(bundle, blob_path)
        blob = blob_path.read_bytes()
        blob_path.unlink()
        names = []
        for i in range(0, len(blob), piece_bytes):
            chunk = blob[i:i + piece_bytes]
            name = f"{m}-{i // piece_bytes:02d}.bin"
            (dest / name).write_bytes(chunk)
            pieces.append({"name": name, "model": m, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
            names.append(name)
        archives[m] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "pieces": names}
    part, used, count = 1, 0, 0
    for p in pieces:  # fill each part up to its byte and file limits, in order
        if count == PIECES_PER_PART or used + int(p["bytes"]) > part_bytes:
            part, used, count = part + 1, 0, 0
        p["part"], used, count = part, used + int(p["bytes"]), count + 1
    parts = part if pieces else 0
    summary = {"version": 2, "models": present, "archives": archives, "pieces": pieces, "parts": parts,
               "minutes": minutes, "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
               "evaluation": evaluation}
    (dest / "pack.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def fetch(work: Path, part: int, out: Path) -> None:
    dest = work / "pack"
    summary = json.loads((dest / "pack.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(dest / "pack.json", out / "pack.json")
    for p in summary["pieces"]:
        if p["part"] == part:
            shutil.copy(dest / p["name"], out / p["name"])
    mean_auc = {m: (e or {}).get("mean_auc") for m, e in summary["evaluation"].items() if m not in MAP_MODELS}
    pointing = {m: (e or {}).get("pointing_game_any") for m, e in summary["evaluation"].items() if m in MAP_MODELS}
    print(json.dumps({"part": part, "of": summary["parts"], "held-out mean AUC": mean_auc,
                      "held-out pointing game (any)": pointing}), flush=True)


def unpack(src: Path, into: Optional[Path] = None) -> None:
    """Pieces -> <into>/<id>/{best.pt,last.pt,calibration.json,evaluation.json,log.jsonl,predictions.npz}
    (``into`` defaults to models/training/runs, where evaluate.py and onnx_export.py look). Each network
    whose pieces are all here is unpacked; one with pieces missing is named and left."""
    summary = json.loads((src / "pack.json").read_text())
    for m, archive in summary["archives"].items():
        missing = [n for n in archive["pieces"] if not (src / n).exists()]
        if missing:
            print(f"{m}: pieces {', '.join(missing)} not here (fetch the other parts): not unpacked", flush=True)
            continue
        blob = b""
        for p in (p for p in summary["pieces"] if p["model"] == m):
            data = (src / p["name"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != p["sha256"]:
                raise SystemExit(f"{p['name']}: checksum mismatch (copy it again)")
            blob += data
        if hashlib.sha256(blob).hexdigest() != archive["sha256"]:
            raise SystemExit(f"{m}: the reassembled archive does not match its checksum")
        tmp = src / f"{m}.pt.tmp"
        tmp.write_bytes(blob)
        b = torch.load(tmp, map_location="cpu", weights_only=False)
        tmp.unlink()
        d = (into / m) if into else run_dir(m)
        d.mkdir(parents=True, exist_ok=True)
        for name, text in b["records"].items():
            (d / name).write_text(text)
        if "model" not in b:  # the ensemble: records only
            continue
        if b.get("map_network"):  # the best checkpoint only: `ship --checkpoint <into>/<id>/best.pt` exports it
            torch.save({"model": _weights_received(b["model"]), "state": b["state"]}, d / "best.pt")
            print(f"unpacked {m} into {d}", flush=True)
            continue
        common = {"model": _weights_received(b["model"]), "pos_weight": b["pos_weight"], "run": b["run"],
                  "last_epoch": b["last_epoch"]}
        torch.save({**common, "state": b["state"]}, d / "best.pt")
        torch.save({**common, "state": b["final_state"]}, d / "last.pt")  # weights: the best (no optimiser state)
        if b["predictions"] is not None:
            (d / "predictions.npz").write_bytes(b["predictions"])
        print(f"unpacked {m} into {d}", flush=True)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--minutes", type=float, default=5.5, help="training wall time of each network")
    t.add_argument("--deadline", type=float, default=9.3,
                   help="minutes from the start by which the pieces must be packed (the machine's command limit)")
    t.add_argument("--after", type=float, default=1.6,
                   help="minutes kept after the training for calibration, evaluation and packing")
    t.add_argument("--studies", type=int, default=1000, help="training pool size (it grows while training)")
    t.add_argument("--thickness", default="mixed", help="training pool slice thickness: mm, or 'mixed' (0.625-5 mm)")
    # half: the classifiers found blood but could not tell subarachnoid blood from other blood, and
    # the balanced mix seldom shows subarachnoid blood alone (pool info: positive_slices_with_another_subtype)
    t.add_argument("--single-subtype-share", type=float, default=0.5,
                   help="share of the training pool's bleeding studies with one subtype only (pool build)")
    t.add_argument("--series", default=None,
                   help="a real axial head-CT series (folder of *.dcm): its training slices with bleeds drawn in "
                        "join the training pool, its held-out slices the validation set")
    t.add_argument("--real-share", type=float, default=0.25, help="share of training slices from --series")
    t.add_argument("--models", nargs="+", default=list(ALL_MODELS), choices=list(ALL_MODELS))
    t.add_argument("--init", default="onnx", help="as train.py: onnx (the committed weights), none, or a checkpoint")
    # the machine takes at most 64 MiB a call with the checkout: Inception-ResNet-V2's int8 file (56 MB)
    # comes in the call before (README, "The GPU script"), into a folder the machine keeps while warm
    t.add_argument("--weights-from", action="append", default=[],
                   help="a folder of shipped model files carried separately (repeatable): each is placed in models/<id>/ first")
    t.add_argument("--eval-every", type=int, default=None, help="default: the recipe's, per network")
    t.add_argument("--other-bleed-weight", type=float, default=1.0,
                   help="the classifiers' loss weight of a subtype's negatives on slices that bleed (train.py)")
    # 2 by default: the finer map is what the volume still needs and the CPU cannot train it in time;
    # from the shipped stride-4 weights (--init onnx) its encoder and coarser decoder carry over
    t.add_argument("--lesion-map-stride", type=int, choices=(4, 2), default=2,
                   help="the lesion network's map stride: 2 (256 x 256 maps, the default here) or 4 (as shipped)")
    # a lesion network of another stride, or an earlier GPU run's, cannot travel as the shipped ONNX does:
    # its checkpoint (3 MB) can, so short GPU runs on different days add up for it too
    t.add_argument("--lesion-init", default=None,
                   help="the lesion network's starting checkpoint (best.pt of an earlier run; default: as --init)")
    t.add_argument("--lesion-faint-blood-weight", type=float, default=1.0,
                   help="the lesion network's loss weight of blood darker than 50 HU (lesion_unet train)")
    t.add_argument("--device", default=None)
    t.add_argument("--toy", action="store_true", help="tiny pools and batches: a dry run on a CPU")
    t.add_argument("--work", default=GPU_WORK, help="pools, runs and pieces (kept while the machine is warm)")
    t.add_argument("--out", required=True, help="where the first part's pieces go ($OUT)")
    f = sub.add_parser("fetch")
    f.add_argument("--part", type=int, required=True)
    f.add_argument("--work", default=GPU_WORK)
    f.add_argument("--out", required=True)
    u = sub.add_parser("unpack")
    u.add_argument("--from", dest="src", required=True)
    u.add_argument("--into", default=None, help="folder of run folders (default models/training/runs)")
    return ap


def main(argv: Optional[List[str]] = None) -> None:
    args = parser().parse_args(argv)
    if args.cmd == "train":
        train(args)
    elif args.cmd == "fetch":
        fetch(Path(args.work), args.part, Path(args.out))
    else:
        unpack(Path(args.src), Path(args.into) if args.into else None)


if __name__ == "__main__":
    main()
