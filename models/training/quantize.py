"""int8 networks for the CPU: static post-training quantisation of a shipped float ONNX file.

    /work/venv-ort/bin/python -m models.training.quantize --model efficientnet_b3 \\
        --calibration-pool POOL_S7001 [--calibration-pool POOL_INSERTED_S1] --pool POOL_S9001 --studies 16 \\
        --also-pool POOL_INSERTED_HELD_S2 --keep-float first,last[,BLOCK_PREFIX...] [--ops chain]

Runs in a virtual environment that has onnxruntime's Python quantisation tools (they install offline
here; see models/training/README.md): never in CI, which only runs the committed files.

What it does, and why:
- reads ``models/<id>/<id>.onnx`` (float16 initializers behind Cast nodes) and folds the Casts back
  into float32 initializers, so the quantiser sees each convolution's weights as constants; a batch
  norm after a ReLU is rewritten exactly as a scaled convolution and an addition
  (``fold_batchnorm_after_relu``);
- QDQ format, weights int8 per output channel, activations uint8 per tensor, ranges from the
  calibration pools' slices (percentile by default), gathered in passes of a few slices so that
  memory stays flat; Conv, Gemm and MatMul are quantised (``--ops chain`` adds the operators between
  convolutions); the in-graph windowing, resizing, LSTM gates and the label calibration stay in
  float32, where they are cheap and where int8 would cost accuracy; ``--keep-float`` keeps the ends
  and any block named by its path float (their weights stored as float16);
- measures the float file and the int8 file through the same onnxruntime on the same held-out
  slices, on the test pool and on every ``--also-pool`` (real anatomy: ranges set on phantoms may
  clip it), times the two taking turns, and writes ``runs/<id>/quantization.json``;
  ``onnx_export.py --adopt-int8`` ships the file only when every pool's cost is within the limit.
The output is ``models/<id>/<id>.int8.onnx``: the app runs it on the CPU provider and the float file
on CUDA.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from .contract import LABELS, MODELS_DIR
from .metrics import expected_calibration_error, roc_auc
from .onnx_utils import float_weights_outside_qdq, save_sharded, sha256, to_fp16_storage
from .pool import pool_arrays
from .reference_input import NAME as REFERENCE_NAME, reference_input

#: Operators quantised by default: the ones whose int8 kernels pay off on the CPU when the operators
#: between them are cheap (Inception-ResNet-V2: ReLU, which the int8 convolution absorbs, and
#: concatenation); everything else stays float32.
QUANTISED_OPS = ["Conv", "Gemm", "MatMul"]
#: What ``--ops chain`` adds for networks whose convolutions are followed by a float activation
#: (EfficientNet's swish, x * sigmoid(x), the squeeze-excitation gates, the residual additions): left
#: in float, every convolution's output is dequantised and quantised again around them, which cost
#: more than int8 saved (B3: slower in int8 than in float, with AVX-512 VNNI as without).
CHAIN_OPS = QUANTISED_OPS + ["Sigmoid", "Mul", "Add", "GlobalAveragePool", "MaxPool"]
OP_SETS = {"default": QUANTISED_OPS, "chain": CHAIN_OPS}
CALIBRATION_SLICES = 96


def int8_path(model_id: str) -> Path:
    return MODELS_DIR / model_id / f"{model_id}.int8.onnx"


def float_path(model_id: str) -> Path:
    return MODELS_DIR / model_id / f"{model_id}.onnx"


def fold_fp16_casts(proto: onnx.ModelProto) -> int:
    """Replace every ``Cast(fp16 initializer) -> float`` with a float32 initializer of the Cast's
    output name (the inverse of ``onnx_utils.to_fp16_storage``). Returns the number folded."""
    g = proto.graph
    inits = {i.name: i for i in g.initializer}
    keep_nodes: List[onnx.NodeProto] = []
    new_inits: List[onnx.TensorProto] = []
    folded = set()
    for node in g.node:
        src = inits.get(node.input[0]) if node.op_type == "Cast" and node.input else None
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        if src is not None and src.data_type == TensorProto.FLOAT16 and to == TensorProto.FLOAT:
            arr = numpy_helper.to_array(src).astype(np.float32)
            new_inits.append(numpy_helper.from_array(arr, node.output[0]))
            folded.add(src.name)
            continue
        keep_nodes.append(node)
    kept = [i for i in g.initializer if i.name not in folded]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    del g.node[:]
    g.node.extend(keep_nodes)
    return len(new_inits)


def fold_batchnorm_after_relu(proto: onnx.ModelProto) -> int:
    """Rewrite every ``Conv -> Relu -> BatchNormalization`` whose batch-norm scales are all positive
    as ``Conv' -> Relu -> Add``: with a = gamma / sqrt(var + eps) > 0 and b = beta - mean * a,
    a * relu(z) + b = relu(a * z) + b, so the scale moves into the convolution's weights and bias
    and the shift stays as a per-channel addition. Exact (the next layer still pads the same
    values); it lets the quantiser keep int8 from one convolution to the next (the Conv-LSTM's units
    are the paper's convolution -> ReLU -> batch norm, where no batch norm folds into a
    convolution). Returns the number rewritten."""
    g = proto.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    users: Dict[str, int] = {}
    for n in g.node:
        for i in n.input:
            users[i] = users.get(i, 0) + 1
    folded = 0
    for bn in list(g.node):
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1:
            continue
        relu = producer.get(bn.input[0])
        conv = producer.get(relu.input[0]) if relu is not None and relu.op_type == "Relu" else None
        if conv is None or conv.op_type != "Conv" or users.get(conv.output[0]) != 1 or users.get(relu.output[0]) != 1:
            continue
        if not all(x in inits for x in bn.input[1:5]) or conv.input[1] not in inits:
            continue
        gamma, beta, mean, var = (numpy_helper.to_array(inits[x]).astype(np.float64) for x in bn.input[1:5])
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        a = gamma / np.sqrt(var + eps)
        if not (a > 0).all():
            continue
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        bias = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 and conv.input[2] else np.zeros(len(a))
        w_name, b_name, shift_name = conv.input[1] + "__bn_folded", conv.name + "__bias_bn_folded", bn.name + "__shift"
        g.initializer.extend([
            numpy_helper.from_array((w * a.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32), w_name),
            numpy_helper.from_array((bias * a).astype(np.float32), b_name),
            numpy_helper.from_array((beta - mean * a).reshape(1, -1, *([1] * (w.ndim - 2))).astype(np.float32), shift_name),
        ])
        del conv.input[1:]
        conv.input.extend([w_name, b_name])
        add = onnx.helper.make_node("Add", [relu.output[0], shift_name], [bn.output[0]], name=bn.name + "__as_add")
        g.node.insert(list(g.node).index(bn), add)
        g.node.remove(bn)
        folded += 1
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    return folded


def calibration_slices(pool: str, count: int = CALIBRATION_SLICES) -> Dict[str, np.ndarray]:
    """``count`` slices spread over every study of the calibration pool, bleeding and normal alike."""
    s = pool_arrays(pool, 10_000, None)
    rng = np.random.default_rng(7)
    pos = np.flatnonzero(s["labels"][:, 0] == 1)
    neg = np.flatnonzero(s["labels"][:, 0] == 0)
    half = min(count // 2, len(pos))
    idx = np.sort(np.concatenate([rng.choice(pos, half, replace=False),
                                  rng.choice(neg, min(count - half, len(neg)), replace=False)]))
    return {"hu": s["hu"][idx], "window": s["window"][idx]}


def _chunk(n: int, target: int = 2) -> int:
    """Slices per calibration pass: the largest divisor of ``n`` up to ``target``. The percentile
    and entropy calibrators hold every intermediate output of a pass until its end (2.3 GB a
    Conv-LSTM slice, 0.13 GB a B3 slice and more through its chain: 48 Conv-LSTM slices, or 96 B3
    slices with ``--ops chain``, did not fit in 24 GB), and onnxruntime runs the passes over equal
    ranges of the reader; each pass's histograms are merged into the last."""
    return max(k for k in range(1, max(1, min(target, n)) + 1) if n % k == 0)


class _Reader:
    """onnxruntime's CalibrationDataReader protocol: one slice per call, within the range a
    calibration pass asked for (``set_range``)."""

    def __init__(self, data: Dict[str, np.ndarray]) -> None:
        self.data, self.i, self.end = data, 0, len(data["hu"])

    def __len__(self) -> int:
        return len(self.data["hu"])

    def set_range(self, start_index: int, end_index: int) -> None:
        self.i, self.end = start_index, min(end_index, len(self))

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        if self.i >= self.end:
            return None
        i = self.i
        self.i += 1
        return {"hu": self.data["hu"][i:i + 1], "window": self.data["window"][i:i + 1]}

    def rewind(self) -> None:
        self.i, self.end = 0, len(self)


def kept_float_nodes(model: onnx.ModelProto, keep: List[str]) -> List[str]:
    """Names of the nodes to keep float: ``first`` (the first convolution), ``last`` (the last
    Gemm/MatMul, the classifier), and every node under any other entry, a block's path in the
    exported graph (``/net/features/features.6``: the layers whose int8 outputs lose the most on
    real anatomy). An entry that names no node is an error, not a silent no-op."""
    names: List[str] = []
    for entry in keep:
        if entry == "first":
            found = [n.name for n in model.graph.node if n.op_type == "Conv"][:1]
        elif entry == "last":
            found = [n.name for n in model.graph.node if n.op_type in ("Gemm", "MatMul")][-1:]
        else:
            block = entry.rstrip("/") + "/"  # a path: features.1 does not take features.10
            found = [n.name for n in model.graph.node if n.name.startswith(block)]
        if not found:
            raise SystemExit(f"--keep-float {entry!r}: no node of the graph is named so (node names look like "
                             f"{model.graph.node[len(model.graph.node) // 2].name!r})")
        names += [n for n in found if n not in names]
    return names


def quantise(model_id: str, calibration_pool: "str | List[str]", out: Path, method: str = "percentile",
             slices: int = CALIBRATION_SLICES, keep_float: Optional[List[str]] = None,
             ops: Optional[List[str]] = None) -> Dict[str, object]:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    proto = onnx.load(str(float_path(model_id)))  # external-data shards beside it load too
    folded = fold_fp16_casts(proto)
    bn_folded = fold_batchnorm_after_relu(proto)
    with tempfile.TemporaryDirectory() as tmp:
        f32 = Path(tmp) / "float32.onnx"
        pre = Path(tmp) / "float32-pre.onnx"
        onnx.save_model(proto, str(f32), save_as_external_data=True, location="float32.onnx.data")
        del proto
        # Shape inference and graph fusions first, as onnxruntime's quantisation guide asks.
        quant_pre_process(str(f32), str(pre), skip_symbolic_shape=False, save_as_external_data=True,
                          external_data_location="float32-pre.onnx.data")
        # Several pools share the slices evenly (phantoms and real anatomy: the ranges must cover both).
        pools = [calibration_pool] if isinstance(calibration_pool, str) else list(calibration_pool)
        parts = [calibration_slices(p, slices // len(pools) + (k < slices % len(pools))) for k, p in enumerate(pools)]
        data = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        excluded = kept_float_nodes(onnx.load(str(pre), load_external_data=False), keep_float or [])
        methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                   "entropy": CalibrationMethod.Entropy}
        quantize_static(str(pre), str(out), _Reader(data), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        op_types_to_quantize=ops or QUANTISED_OPS, calibrate_method=methods[method],
                        nodes_to_exclude=excluded,
                        use_external_data_format=False,
                        # onnxruntime's name says MinMax, but its passes over ranges serve every method
                        extra_options={"CalibStridedMinMax": _chunk(len(data["hu"]))})
    q = onnx.load(str(out))
    counts: Dict[str, int] = {}
    for n in q.graph.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            counts[n.op_type] = counts.get(n.op_type, 0) + 1
    meta = {p.key: p.value for p in onnx.load(str(float_path(model_id)), load_external_data=False).metadata_props}
    meta["quantization"] = "static int8 QDQ (models/training/quantize.py)"
    del q.metadata_props[:]
    for k, v in meta.items():
        q.metadata_props.add(key=k, value=v)
    q.producer_name = "models/training/quantize.py"
    # The layers kept float would store float32 weights: float16 halves them (B3 with its late stages
    # float: 37 MB). Measured with the rest of the file below, never assumed free.
    fp16 = to_fp16_storage(q, float_weights_outside_qdq(q))
    save_sharded(q, out)  # shards above 40 MB, as the float files
    return {"fp16_casts_folded": folded, "calibration_slices": int(len(data["hu"])), "method": method,
            "ops": list(ops or QUANTISED_OPS), "batchnorms_folded_after_relu": bn_folded,
            "kept_float": list(keep_float or []), "kept_float_nodes": len(excluded),
            "calibration_pool_seed": json.loads((Path(pools[0]) / "pool.json").read_text())["seed"],
            "calibration_pools": [{"pool": Path(p).name, "seed": json.loads((Path(p) / "pool.json").read_text())["seed"],
                                   "slices": int(len(part["hu"]))} for p, part in zip(pools, parts)],
            "qdq_nodes": counts, "float_weights_stored_fp16": fp16["fp16_initializers"],
            "bytes": sum(f.stat().st_size for f in out.parent.glob(out.name + "*"))}


def machine() -> str:
    import os
    import platform

    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    # int8 speed depends on the CPU's integer dot-product instructions more than on its name
    flags = next((set(l.split(":", 1)[1].split()) for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("flags")), set()) if Path("/proc/cpuinfo").exists() else set()
    isa = ([f for f in ("avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
           or [f for f in ("avx512f", "avx2") if f in flags][:1])
    return f"{os.cpu_count()}-core {model}{' (' + ', '.join(isa) + ')' if isa else ''}, load {load:.1f} at the start"


def cpu_session(path: Path, threads: int):
    """An onnxruntime CPU session with the app's choices (src/main/inference/session-options.ts):
    the CPU memory arena on, memory patterns off, one inter-op thread. Without the arena every
    intermediate tensor is mapped afresh on each run, and where page faults are dear (a virtual
    machine) that, not the arithmetic, sets the time a slice takes."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.enable_cpu_mem_arena, opts.enable_mem_pattern = True, False
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_batches(sess, s: Dict[str, np.ndarray], batch: int) -> np.ndarray:
    return np.concatenate([sess.run(["probabilities"], {"hu": s["hu"][i:i + batch], "window": s["window"][i:i + batch]})[0]
                           for i in range(0, len(s["hu"]), batch)])


def run_session(path: Path, s: Dict[str, np.ndarray], threads: int, batch: int) -> "tuple[np.ndarray, float]":
    sess = cpu_session(path, threads)
    t0 = time.perf_counter()
    out = run_batches(sess, s, batch)
    return out, (time.perf_counter() - t0) * 1000 / len(s["hu"])


def measure(model_id: str, name: str, path: Path, test: Dict[str, np.ndarray], threads: int, batch: int) -> Dict[str, object]:
    """One file on the held-out slices: per-label ROC-AUC (no threshold needed) and ms per slice."""
    prob, ms = run_session(path, test, threads, batch)
    labels = test["labels"]
    aucs = {l: roc_auc(labels[:, j], prob[:, j]) for j, l in enumerate(LABELS)}
    out = {"file": str(path.relative_to(MODELS_DIR.parent)), "sha256": sha256(path), "ms_per_slice": ms, "auc": aucs,
           "mean_auc": float(np.mean([a for a in aucs.values() if a is not None])),
           "ece_any": expected_calibration_error(labels[:, 0], prob[:, 0])}
    print(f"{model_id} {name}: mean AUC {out['mean_auc']:.4f}, any {aucs['any']:.4f}, {ms:.0f} ms/slice", flush=True)
    return out


def scheme(q: Dict[str, object]) -> str:
    """The quantisation in words, from what ``quantise`` recorded."""
    kept = list(q.get("kept_float") or [])  # type: ignore[call-overload]
    return (f"QDQ; weights int8 per channel, activations uint8 per tensor ({q.get('method', 'minmax')} ranges); "
            + ", ".join(q.get("ops") or QUANTISED_OPS) + " quantised"  # type: ignore[arg-type]
            + (f"; kept float (the layers int8 hurt most): {', '.join(map(str, kept))}" if kept else ""))


def speed(files: Dict[str, Path], test: Dict[str, np.ndarray], threads: int, batch: int,
          slices: int = 32, rounds: int = 3) -> Dict[str, float]:
    """Median ms per slice of each file over ``rounds`` turns, the files alternating on the same
    ``slices`` held-out slices (a warm-up run first), so that both see the same machine load."""
    sub = {k: v[:slices] for k, v in test.items()}
    sessions = {name: cpu_session(path, threads) for name, path in files.items()}
    times: Dict[str, List[float]] = {name: [] for name in files}
    for r in range(rounds + 1):
        for name, sess in sessions.items():
            t0 = time.perf_counter()
            run_batches(sess, sub, batch)
            if r:  # round 0 warms up
                times[name].append((time.perf_counter() - t0) * 1000 / len(sub["hu"]))
    out = {name: float(np.median(t)) for name, t in times.items()}
    print("speed, alternating: " + ", ".join(f"{k} {v:.0f} ms/slice" for k, v in out.items()), flush=True)
    return out


def measure_float(model_id: str, test: Dict[str, np.ndarray], test_key: str, threads: int, batch: int) -> Dict[str, object]:
    """The float file's figures, measured once per file and held-out set (cached beside the record)."""
    cache = Path(__file__).resolve().parent / "runs" / model_id / "quantization-float.json"
    sha = sha256(float_path(model_id))
    if cache.exists():
        c = json.loads(cache.read_text())
        if c.get("sha256") == sha and c.get("test_key") == test_key:
            print(f"{model_id} float: cached ({c['mean_auc']:.4f} mean AUC)", flush=True)
            return c
    out = measure(model_id, "float", float_path(model_id), test, threads, batch)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({**out, "test_key": test_key}, indent=2) + "\n")
    return out


def also_measured(model_id: str, spec: str, int8_file: Path, threads: int, batch: int) -> Dict[str, object]:
    """Float and int8 on one more held-out pool (``POOL[:STUDIES]``): per-label ROC-AUC and the cost."""
    pool, _, studies = spec.partition(":")
    data = pool_arrays(pool, int(studies) if studies else 10_000, None)
    f = measure(model_id, "float", float_path(model_id), data, threads, batch)
    i = measure(model_id, "int8", int8_file, data, threads, batch)
    info = json.loads((Path(pool) / "pool.json").read_text())
    return {"pool": Path(pool).name, "seed": info.get("seed"), "source": info.get("source"),
            "slices": int(len(data["hu"])), "studies": int(len(np.unique(data["study"]))),
            "mean_auc_float": f["mean_auc"], "mean_auc_int8": i["mean_auc"],
            "mean_auc_cost": float(f["mean_auc"]) - float(i["mean_auc"]),  # type: ignore[arg-type]
            "auc_float": f["auc"], "auc_int8": i["auc"], "ece_any_float": f["ece_any"], "ece_any_int8": i["ece_any"]}


def block_of(tensor: str) -> str:
    """The block a tensor of the exported graph belongs to: its path up to three levels
    (``/net/features/features.6/features.6.5/block/.../Mul_output_0`` -> ``/net/features/features.6``),
    the prefix ``--keep-float`` takes."""
    return "/".join(tensor.split("/")[:-1][:4]) or tensor


def activation_sqnr(int8_file: Path, pool: str, slices: int = 12) -> Dict[str, object]:
    """How much each quantised activation loses, on slices of ``pool``: the signal-to-quantisation-
    noise ratio (dB) of every tensor before and after its QuantizeLinear/DequantizeLinear pair
    (onnxruntime's qdq_loss_debug), and per block the lowest. The blocks lowest on real anatomy are
    the ones to keep float; use training slices here and judge the result on held-out ones."""
    from onnxruntime.quantization import qdq_loss_debug as debug

    data = calibration_slices(pool, slices)
    inputs = [{"hu": data["hu"][i:i + 1], "window": data["window"][i:i + 1]} for i in range(len(data["hu"]))]
    with tempfile.TemporaryDirectory() as tmp:
        augmented = Path(tmp) / "augmented.onnx"
        debug.modify_model_output_intermediate_tensors(str(int8_file), str(augmented), save_as_external_data=True)
        pairs = debug.create_activation_matching(debug.collect_activations(str(augmented), inputs))
    sqnr = {name: debug.compute_signal_to_quantization_noice_ratio(m["pre_qdq"], m["post_qdq"]) for name, m in pairs.items()}
    blocks: Dict[str, float] = {}
    for name, db in sqnr.items():
        blocks[block_of(name)] = min(db, blocks.get(block_of(name), float("inf")))
    worst = sorted(sqnr.items(), key=lambda kv: kv[1])[:12]
    print("lowest SQNR per block (dB): " + ", ".join(f"{b} {db:.1f}" for b, db in sorted(blocks.items(), key=lambda kv: kv[1])),
          flush=True)
    return {"pool": Path(pool).name, "slices": int(len(inputs)), "tensors": len(sqnr),
            "blocks_db": {b: round(db, 2) for b, db in sorted(blocks.items(), key=lambda kv: kv[1])},
            "worst_db": [{"tensor": n, "db": round(db, 2)} for n, db in worst]}


def worst_cost(record: Dict[str, object]) -> float:
    """The largest mean ROC-AUC cost over the test pool and every ``--also-pool``."""
    also = record.get("also") or []
    return max([float(record["mean_auc_cost"])] + [float(a["mean_auc_cost"]) for a in also])  # type: ignore[arg-type, index, union-attr]


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--calibration-pool", required=True, action="append",
                    help="pool whose slices set the activation ranges (repeatable: the slices are shared evenly)")
    ap.add_argument("--pool", required=True, help="held-out test pool (an untrained seed)")
    ap.add_argument("--studies", type=int, default=16)
    ap.add_argument("--also-pool", action="append", default=[], metavar="POOL[:STUDIES]",
                    help="another held-out pool the cost is measured on (repeatable; every study unless STUDIES): "
                         "the real anatomy with drawn bleeds (build-inserted --part held-out), where ranges "
                         "calibrated on phantoms may clip; the export adopts the int8 file only when every pool's cost "
                         "is within its limit")
    ap.add_argument("--method", choices=["minmax", "percentile", "entropy"], default="percentile",
                    help="how activation ranges are set from the calibration slices (percentile: onnxruntime's "
                         "99.999 %%; min-max let rare extreme activations stretch the ranges: it cost the "
                         "GPU-trained Inception-ResNet-V2 0.020 mean ROC-AUC against 0.0003)")
    ap.add_argument("--calibration-slices", type=int, default=CALIBRATION_SLICES)
    ap.add_argument("--keep-float", default="",
                    help="comma-separated: 'first' (the first convolution), 'last' (the classifier), and block paths "
                         "(every node under /net/features/features.6, say) stay float")
    ap.add_argument("--ops", choices=sorted(OP_SETS), default="default",
                    help="operators to quantise: 'default' (" + ", ".join(QUANTISED_OPS) + "), or 'chain', which adds "
                         + ", ".join(CHAIN_OPS[len(QUANTISED_OPS):]) + " so that int8 runs from one convolution to the next")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--measure-only", action="store_true", help="keep the int8 file; measure again")
    ap.add_argument("--sqnr-pool", metavar="POOL",
                    help="also record each block's lowest activation SQNR on 12 slices of POOL (real-anatomy "
                         "training slices): which blocks to keep float")
    args = ap.parse_args(argv)
    argv_used = sys.argv[1:] if argv is None else argv
    out = int8_path(args.model)
    record: Dict[str, object] = {"model": args.model,
                                 "command": "python -m models.training.quantize " + " ".join(shlex.quote(a) for a in argv_used)}
    t0 = time.time()
    host = machine()
    dest = Path(__file__).resolve().parent / "runs" / args.model / "quantization.json"
    if args.measure_only and dest.exists():  # how the file was made is still the record's
        record["quantization"] = json.loads(dest.read_text()).get("quantization")
        record["command"] = json.loads(dest.read_text()).get("command", record["command"]) + "   # measured again: " + record["command"]
    if not args.measure_only:
        record["quantization"] = quantise(args.model, args.calibration_pool, out, args.method, args.calibration_slices,
                                          [k for k in args.keep_float.split(",") if k], OP_SETS[args.ops])
        print(f"wrote {out} ({record['quantization']['bytes']} B) in {time.time() - t0:.0f} s", flush=True)
    test = pool_arrays(args.pool, args.studies, None)
    test_key = f"{json.loads((Path(args.pool) / 'pool.json').read_text())['seed']}:{args.studies}:{len(test['hu'])}"
    m = {"float": measure_float(args.model, test, test_key, args.threads, args.batch_size),
         "int8": measure(args.model, "int8", out, test, args.threads, args.batch_size)}
    # The passes above ran minutes apart, under whatever else the machine did then: the speed is
    # measured again with the two files taking turns on the same slices.
    timing = speed({"float": float_path(args.model), "int8": out}, test, args.threads, args.batch_size)
    for name, ms in timing.items():
        m[name] = dict(m[name], ms_per_slice=ms)
    hu, window = reference_input()
    ref = {"hu": hu, "window": window}
    record["reference"] = {"input": REFERENCE_NAME, **{
        name: run_session(path, ref, args.threads, len(hu))[0].round(6).tolist()
        for name, path in (("float", float_path(args.model)), ("int8", out))}}
    record["also"] = [also_measured(args.model, spec, out, args.threads, args.batch_size) for spec in args.also_pool]
    if args.sqnr_pool:
        record["sqnr"] = activation_sqnr(out, args.sqnr_pool)
    record.update({
        "scheme": scheme(record.get("quantization") or {}),
        "test": {"slices": int(len(test["hu"])), "studies": int(len(np.unique(test["study"]))),
                 "seed": json.loads((Path(args.pool) / "pool.json").read_text())["seed"]},
        "results": m,
        "mean_auc_cost": m["float"]["mean_auc"] - m["int8"]["mean_auc"],  # type: ignore[index]
        "speedup": m["float"]["ms_per_slice"] / m["int8"]["ms_per_slice"],  # type: ignore[index]
        "threads": args.threads, "batch_size": args.batch_size, "machine": host,
        "speed_rule": "median of 3 alternating turns of the float and int8 files over the same 32 held-out slices",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{args.model}: int8 costs {record['mean_auc_cost']:+.4f} mean AUC"
          + "".join(f" ({a['mean_auc_cost']:+.4f} on {a['pool']})" for a in record["also"])  # type: ignore[union-attr]
          + f", {record['speedup']:.2f}x faster; wrote {dest}")
    return record


if __name__ == "__main__":
    main()
