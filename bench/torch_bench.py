"""The Python baselines of `npm run bench` (bench/run.ts starts one process per measurement).

    /usr/bin/python3 bench/torch_bench.py info
    /usr/bin/python3 bench/torch_bench.py model --model convlstm --batch 8 --threads 2 \
        --hu slices.f32 --window windows.f32
    /usr/bin/python3 bench/torch_bench.py matmul --threads 2 --n 2048 --reps 5
    /usr/bin/python3 bench/torch_bench.py matmul-onnx --n 2048 --out matmul.onnx
    /usr/bin/python3 bench/torch_bench.py decode --dir study/ --reps 3
    /usr/bin/python3 bench/torch_bench.py train-step --model inception_resnet_v2 --batch 8 --threads 2

Each prints one JSON object on stdout.

* ``model``: the registered architecture in PyTorch (eval, no_grad, fp32) with the weights read
  out of the shipped ONNX file (models/training/onnx_utils.state_dict_from_onnx, as
  onnx_validate.py does), so PyTorch runs exactly the fp16-rounded weights onnxruntime runs.
  Inputs are the same raw HU/window bytes the onnxruntime child reads. Peak RSS is this
  process's VmHWM (torch and the model included). bench/proc.ts starts this with
  OMP_WAIT_POLICY=PASSIVE: with OpenMP's default spin-waiting, a 2-core machine where another
  process holds a core made PyTorch 10-60x slower (EfficientNet-B3, batch 1: 4.0 s against
  0.07 s a slice), which would measure the scheduler, not the kernels.
* ``matmul``: the machine's measured fp32 peak: best of `reps` square torch.matmul at the given
  thread count, 2n^3 FLOPs each.
* ``matmul-onnx``: writes a one-node MatMul graph so onnxruntime-node can measure its own peak.
* ``train-step``: seconds per optimiser step of the training script's own step
  (models/training/engine.train_step: AdamW, the forward pass autocast or not) on random HU slices,
  in float32 and in bfloat16 autocast, each contiguous and channels_last, ``--steps`` steps each
  after one warm-up step: what ``train --bf16`` saves on this CPU (models/training/README.md).
* ``decode``: pydicom + numpy from file bytes in memory to float32 Hounsfield slices
  (pixel_array x RescaleSlope + RescaleIntercept), the baseline for the app's reader.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402


def vm_hwm_bytes() -> Optional[int]:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cmd_info(_: argparse.Namespace) -> Dict[str, object]:
    import torch

    out: Dict[str, object] = {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__}
    try:
        import pydicom

        out["pydicom"] = pydicom.__version__
    except ImportError:
        out["pydicom"] = None
    out["torchThreadsDefault"] = torch.get_num_threads()
    out["mkldnn"] = bool(torch.backends.mkldnn.is_available())
    return out


def cmd_model(a: argparse.Namespace) -> Dict[str, object]:
    import torch

    from models.training.contract import MODELS_DIR
    from models.training.engine import prepare_cpu
    from models.training.onnx_utils import state_dict_from_onnx
    from models.training.registry import create_network

    prepare_cpu(a.threads)  # freed memory kept for reuse, as onnxruntime's arena does in the app
    hu_all = np.fromfile(a.hu, dtype="<f4").reshape(-1, 1, 512, 512)
    win_all = np.fromfile(a.window, dtype="<f4").reshape(-1, 2)
    idx = np.arange(a.batch) % len(hu_all)
    hu = torch.from_numpy(hu_all[idx].copy())
    window = torch.from_numpy(win_all[idx].copy())
    t0 = time.perf_counter()
    model = create_network(a.model)
    path = Path(a.onnx) if a.onnx else MODELS_DIR / a.model / f"{a.model}.onnx"
    model.load_state_dict(state_dict_from_onnx(path, model))
    model.eval()
    load_s = time.perf_counter() - t0
    times: List[float] = []
    with torch.no_grad():
        warm = 0.0
        for _ in range(a.warmup):
            t = time.perf_counter()
            model(hu, window)
            warm = time.perf_counter() - t
        # As many timed runs as fit in --target-seconds (judged from the warm-up), within bounds.
        reps = max(a.min_reps, min(a.max_reps, int(a.target_seconds / max(warm, 1e-3)) if warm else a.min_reps))
        for _ in range(reps):
            t = time.perf_counter()
            model(hu, window)
            times.append(time.perf_counter() - t)
    return {
        "model": a.model,
        "batch": a.batch,
        "threads": torch.get_num_threads(),
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY"),
        "loadSeconds": load_s,
        "runSeconds": times,
        "peakRssBytes": vm_hwm_bytes(),
    }


def cmd_matmul(a: argparse.Namespace) -> Dict[str, object]:
    import torch

    torch.set_num_threads(a.threads)
    n = a.n
    x = torch.randn(n, n)
    y = torch.randn(n, n)
    torch.matmul(x, y)  # warm-up: thread pool, page faults
    best = float("inf")
    for _ in range(a.reps):
        t = time.perf_counter()
        torch.matmul(x, y)
        best = min(best, time.perf_counter() - t)
    return {"n": n, "threads": torch.get_num_threads(), "bestSeconds": best, "gflops": 2 * n ** 3 / best / 1e9}


def cmd_matmul_onnx(a: argparse.Namespace) -> Dict[str, object]:
    import onnx
    from onnx import TensorProto, helper

    n = a.n
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, a.out)
    return {"n": n, "path": a.out}


def cmd_decode(a: argparse.Namespace) -> Dict[str, object]:
    import pydicom

    files = sorted(p for p in Path(a.dir).iterdir() if p.is_file() and p.suffix == ".dcm")
    blobs = [p.read_bytes() for p in files]
    checksum = 0.0

    def one_pass() -> float:
        nonlocal checksum
        t = time.perf_counter()
        for b in blobs:
            ds = pydicom.dcmread(io.BytesIO(b))
            slope = float(getattr(ds, "RescaleSlope", 1) or 1)
            intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
            hu = ds.pixel_array.astype(np.float32) * np.float32(slope) + np.float32(intercept)
            checksum += float(hu[0, 0])
        return time.perf_counter() - t

    one_pass()  # warm-up: imports, handlers
    times = [one_pass() for _ in range(a.reps)]
    return {"slices": len(blobs), "passSeconds": times, "pydicom": pydicom.__version__, "checksum": checksum}


def cmd_train_step(a: argparse.Namespace) -> Dict[str, object]:
    from models.training.engine import prepare_cpu, train_step
    from models.training.registry import create_model

    prepare_cpu(a.threads)
    import torch

    g = torch.Generator().manual_seed(0)
    hu = torch.randn(a.batch, 1, 512, 512, generator=g) * 40 + 30
    window = torch.tensor([[40.0, 80.0]] * a.batch)
    labels = (torch.rand(a.batch, 6, generator=g) > 0.7).float()
    out: Dict[str, object] = {"model": a.model, "batch": a.batch, "threads": a.threads}
    for layout in ("contiguous", "channels_last"):
        model = create_model(a.model)
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        model = model.to(memory_format=fmt)
        x = hu.contiguous(memory_format=fmt)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for precision in ("float32", "bf16"):
            seconds = []
            for _ in range(1 + a.steps):
                t0 = time.perf_counter()
                train_step(model, optimizer, loss_fn, x, window, labels, bf16=precision == "bf16")
                seconds.append(time.perf_counter() - t0)
            out[f"{layout}_{precision}"] = {"warmupSeconds": seconds[0], "stepSeconds": seconds[1:]}
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    m = sub.add_parser("model")
    m.add_argument("--model", required=True)
    m.add_argument("--onnx", default=None)
    m.add_argument("--batch", type=int, required=True)
    m.add_argument("--warmup", type=int, default=1)
    m.add_argument("--min-reps", type=int, default=2)
    m.add_argument("--max-reps", type=int, default=10)
    m.add_argument("--target-seconds", type=float, default=5.0)
    m.add_argument("--threads", type=int, required=True)
    m.add_argument("--hu", required=True)
    m.add_argument("--window", required=True)
    mm = sub.add_parser("matmul")
    mm.add_argument("--threads", type=int, required=True)
    mm.add_argument("--n", type=int, default=2048)
    mm.add_argument("--reps", type=int, default=5)
    mo = sub.add_parser("matmul-onnx")
    mo.add_argument("--n", type=int, default=2048)
    mo.add_argument("--out", required=True)
    d = sub.add_parser("decode")
    d.add_argument("--dir", required=True)
    d.add_argument("--reps", type=int, default=3)
    ts = sub.add_parser("train-step")
    ts.add_argument("--model", required=True)
    ts.add_argument("--batch", type=int, default=8)
    ts.add_argument("--threads", type=int, default=2)
    ts.add_argument("--steps", type=int, default=2)
    a = ap.parse_args(argv)
    handlers = {"info": cmd_info, "model": cmd_model, "matmul": cmd_matmul, "matmul-onnx": cmd_matmul_onnx, "decode": cmd_decode,
                "train-step": cmd_train_step}
    print(json.dumps(handlers[a.cmd](a)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
