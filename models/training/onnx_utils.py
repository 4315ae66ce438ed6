"""ONNX post-processing under the model contract, and reading weights back out of an ONNX file.

* ``export_onnx``: torch.onnx.export (TorchScript exporter, opset 17, dynamic batch axis). Exported
  with ``TrainingMode.PRESERVE`` on a model in eval mode so BatchNorm is *not* folded into the
  convolutions (folding would make fused weights that fp16 cannot hold exactly), and without
  constant folding so the LSTM weights keep their PyTorch names (ONNX Runtime folds at load).
* ``to_fp16_storage``: float initializers stored as float16 with a Cast-to-float32 node each, so
  the graph computes in fp32 while the file is half the size. Only tensors that fp16 holds
  exactly are converted (the exported model was rounded through fp16 first), so nothing changes
  numerically.
* ``save_sharded``: external data in several files, each under a size cap (git keeps no file
  over 50 MB); onnxruntime-node resolves them relative to the model path.
* ``state_dict_from_onnx``: the PyTorch state dict back from the file (through the exporter's
  Identity de-duplication and our Casts), so validation runs PyTorch on exactly the shipped
  weights.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from .contract import INPUT_SIZE, MODELS_DIR, NUM_LABELS

OPSET = 17
FP16_SUFFIX = "__fp16"


def export_onnx(model: nn.Module, path: Path, extra_outputs: Sequence[str] = ()) -> onnx.ModelProto:
    """The contract's graph; ``extra_outputs`` name the model's further outputs, in the order its
    forward returns them after ``probabilities`` (the contract allows extra outputs, declared in the manifest)."""
    model = model.eval()
    hu = torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE)
    window = torch.tensor([[40.0, 80.0]])
    outputs = ["probabilities", *extra_outputs]
    kwargs = dict(
        input_names=["hu", "window"], output_names=outputs,
        dynamic_axes={"hu": {0: "N"}, "window": {0: "N"}, **{o: {0: "N"} for o in outputs}},
        opset_version=OPSET, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # newer torch: keep the TorchScript exporter
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, (hu, window), str(path), **kwargs)
    proto = onnx.load(str(path))
    return ensure_contract_inputs(proto)


def ensure_contract_inputs(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The exporter drops unused inputs; the contract wants `hu` and `window` on every model."""
    names = [i.name for i in proto.graph.input]
    if "window" not in names:
        proto.graph.input.append(helper.make_tensor_value_info("window", TensorProto.FLOAT, ["N", 2]))
    if "hu" not in names:
        proto.graph.input.insert(0, helper.make_tensor_value_info("hu", TensorProto.FLOAT, ["N", 1, INPUT_SIZE, INPUT_SIZE]))
    order = {"hu": 0, "window": 1}
    inputs = sorted(proto.graph.input, key=lambda i: order.get(i.name, 2))
    del proto.graph.input[:]
    proto.graph.input.extend(inputs)
    return proto


def to_fp16_storage(proto: onnx.ModelProto, rounded: Optional[Sequence[str]] = None) -> Dict[str, int]:
    """Store float initializers as float16 behind Cast nodes; returns counts for the record.

    By default only values that float16 holds exactly move (the exported weights were rounded to
    float16 before export, so nothing changes). Given ``rounded``, only the initializers it names move,
    rounded to float16 when within its range: an int8 file's float layers, whose weights the
    quantiser's batch-norm fusion recomputed in float32 (its scales must stay as they are); the
    caller measures the file it saves."""
    g = proto.graph
    casts: List[onnx.NodeProto] = []
    kept: List[onnx.TensorProto] = []
    converted = skipped = 0
    only = None if rounded is None else set(rounded)
    for init in list(g.initializer):
        if init.data_type != TensorProto.FLOAT or (only is not None and init.name not in only):
            kept.append(init)
            continue
        arr = numpy_helper.to_array(init)
        half = arr.astype(np.float16)
        lossy = only is not None and bool(np.isfinite(half).all())
        if not lossy and not np.array_equal(half.astype(np.float32), arr):
            skipped += 1  # not exactly representable: keep fp32 (only small constants end up here)
            kept.append(init)
            continue
        new = numpy_helper.from_array(half, init.name + FP16_SUFFIX)
        kept.append(new)
        casts.append(helper.make_node("Cast", [new.name], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "__to_fp32"))
        converted += 1
    del g.initializer[:]
    g.initializer.extend(kept)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    return {"fp16_initializers": converted, "fp32_initializers_kept": skipped}


def float_weights_outside_qdq(proto: onnx.ModelProto, min_elements: int = 1024) -> List[str]:
    """The float32 initializers of at least ``min_elements`` values that no QuantizeLinear or
    DequantizeLinear reads: the weights of the layers an int8 file keeps float (its scales and zero
    points stay as the quantiser wrote them, so onnxruntime still fuses each Q/DQ pair)."""
    qdq_inputs = {i for n in proto.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear") for i in n.input}
    return [t.name for t in proto.graph.initializer
            if t.data_type == TensorProto.FLOAT and t.name not in qdq_inputs and int(np.prod(t.dims)) >= min_elements]


def save_sharded(proto: onnx.ModelProto, path: Path, shard_bytes: int = 40 * 1024 * 1024,
                 inline_below: int = 40 * 1024 * 1024) -> List[Path]:
    """Save ``proto`` at ``path``; when its tensors exceed ``inline_below`` bytes, move them into
    external files ``<name>.data-000``, ``-001`` ... each at most ``shard_bytes``. Returns all files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(path.name + ".data-*"):
        old.unlink()
    tensors = [t for t in proto.graph.initializer if t.HasField("raw_data")]
    total = sum(len(t.raw_data) for t in tensors)
    files = [path]
    if total > inline_below:
        shard, offset, handle = -1, shard_bytes, None
        for t in sorted(tensors, key=lambda t: t.name):
            n = len(t.raw_data)
            if n < 1024:
                continue  # tiny tensors stay inline
            if n > shard_bytes:
                raise ValueError(f"tensor {t.name} ({n} bytes) exceeds a shard")
            if offset + n > shard_bytes:
                if handle:
                    handle.close()
                shard += 1
                offset = 0
                shard_path = path.parent / f"{path.name}.data-{shard:03d}"
                files.append(shard_path)
                handle = open(shard_path, "wb")
            pad = (-offset) % 64  # keep tensors 64-byte aligned
            handle.write(b"\0" * pad)  # type: ignore[union-attr]
            offset += pad
            handle.write(t.raw_data)  # type: ignore[union-attr]
            onnx.external_data_helper.set_external_data(t, location=files[-1].name, offset=offset, length=n)
            t.data_location = TensorProto.EXTERNAL
            t.ClearField("raw_data")
            offset += n
        if handle:
            handle.close()
    onnx.save_model(proto, str(path))
    return files


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def state_dict_from_onnx(path: Path, model: nn.Module) -> Dict[str, torch.Tensor]:
    """Float weights of ``model`` read back from the ONNX file at ``path`` (upcast to fp32)."""
    resolve = _graph_values(onnx.load(str(path), load_external_data=True))  # through Identity and Cast
    out: Dict[str, torch.Tensor] = {}
    missing: List[str] = []
    for key, ref in model.state_dict().items():
        if not ref.is_floating_point():
            out[key] = ref.clone()  # e.g. BatchNorm's num_batches_tracked: not in the graph
            continue
        arr = resolve(key)
        if arr is None and key.startswith("calibration."):
            out[key] = ref.clone()  # exported before calibration lived in the graph: identity
            continue
        if arr is None:
            missing.append(key)
            continue
        t = torch.from_numpy(np.array(arr, dtype=np.float32))
        if tuple(t.shape) != tuple(ref.shape):
            raise ValueError(f"{key}: shape {tuple(t.shape)} in ONNX, {tuple(ref.shape)} in PyTorch")
        out[key] = t
    if missing:
        raise KeyError(f"{len(missing)} weights not found in {path}: {missing[:5]}")
    return out


def _graph_values(proto: onnx.ModelProto):
    """A reader of the float value behind a name: an initializer, or one reached through Identity,
    Cast or a DequantizeLinear of initializers (``(q - zero_point) * scale``, per tensor or along
    its axis), as an int8 file stores its weights and biases."""
    inits = {t.name: t for t in proto.graph.initializer}
    producer = {o: n for n in proto.graph.node for o in n.output}

    def value(name: str, depth: int = 0) -> Optional[np.ndarray]:
        if name in inits:
            return numpy_helper.to_array(inits[name])
        node = producer.get(name)
        if node is None or depth > 8:
            return None
        if node.op_type in ("Identity", "Cast") and len(node.input) == 1:
            v = value(node.input[0], depth + 1)
            return None if v is None else v.astype(np.float32)
        if node.op_type == "DequantizeLinear":
            parts = [value(i, depth + 1) if i else None for i in node.input]
            q, scale = parts[0], parts[1]
            if q is None or scale is None:
                return None
            zero = parts[2] if len(parts) > 2 and parts[2] is not None else np.zeros_like(scale)
            q, scale, zero = q.astype(np.float64), scale.astype(np.float64), zero.astype(np.float64)
            if scale.ndim == 1 and q.ndim > 1:
                axis = next((a.i for a in node.attribute if a.name == "axis"), 1) % q.ndim
                shape = [1] * q.ndim
                shape[axis] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            return ((q - zero) * scale).astype(np.float32)
        return None

    return value


def float_graph_from_qdq(proto: onnx.ModelProto) -> Dict[str, int]:
    """Rewrite an int8 QDQ graph, in place, into the float graph it approximates: every
    DequantizeLinear of stored integers (weights, biases) becomes the float initializer it yields,
    and every QuantizeLinear -> DequantizeLinear pair on an activation is removed, its consumers
    reading the float activation. The arithmetic is then float32 from end to end on the same
    weights the int8 file holds, which is what an int8 file is measured against where its float
    source is not shipped (``npm run bench``'s float run). Returns counts of what changed."""
    g = proto.graph
    value = _graph_values(proto)
    consumers: Dict[str, List[onnx.NodeProto]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}
    rename: Dict[str, str] = {}
    drop: set = set()
    folded: List[onnx.TensorProto] = []
    pairs = 0
    for n in g.node:
        if n.op_type == "DequantizeLinear":
            stored = value(n.output[0])
            if stored is not None:
                folded.append(numpy_helper.from_array(stored.astype(np.float32), n.output[0]))
                drop.add(id(n))
        elif n.op_type == "QuantizeLinear":
            readers = consumers.get(n.output[0], [])
            if not readers or any(r.op_type != "DequantizeLinear" for r in readers) or n.output[0] in outputs:
                raise ValueError(f"QuantizeLinear {n.name or n.output[0]} feeds more than DequantizeLinear: not a QDQ pair")
            drop.add(id(n))
            pairs += 1
            for r in readers:
                drop.add(id(r))
                rename[r.output[0]] = n.input[0]
    # A pair's activation may itself be the output of another pair (chained Q/DQ around one tensor).
    def source(name: str) -> str:
        while name in rename:
            name = rename[name]
        return name

    kept = [n for n in g.node if id(n) not in drop]
    for n in kept:
        for k, i in enumerate(n.input):
            n.input[k] = source(i)
    for o in g.output:
        if source(o.name) != o.name:
            kept.append(helper.make_node("Identity", [source(o.name)], [o.name], name=o.name + "__float"))
    del g.node[:]
    g.node.extend(kept)
    used = {i for n in g.node for i in n.input} | outputs
    before = len(g.initializer)
    inits = [t for t in g.initializer if t.name in used]
    removed_inits = before - len(inits)
    inits += [t for t in folded if t.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    # The quantised tensors' recorded types (uint8/int8) no longer hold: let onnxruntime infer them.
    del g.value_info[:]
    return {"dequantize_folded": len(folded), "qdq_pairs_removed": pairs,
            "initializers_removed": removed_inits,
            "qdq_nodes_left": sum(1 for n in g.node if n.op_type in ("QuantizeLinear", "DequantizeLinear"))}


def state_dict_from_int8_onnx(path: Path, model: nn.Module) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Float weights of ``model`` read back from an int8 (QDQ) file at ``path``, and the batch-norm
    layers whose statistics must be measured again before training (``restat_batchnorm``).

    The quantiser's pre-processing folds each batch norm into the convolution before it
    (``ConvBnFusion_W_<conv>.weight``, ``ConvBnFusion_BN_B_<bn>.bias``) and a residual scale into the
    convolution it multiplies (``ConvMulFusion_W_<conv>.weight``): the folded weights are dequantised,
    each batch norm is set to pass its input through plus the folded bias, and a scaled convolution
    is divided by its block's ``scale``. In evaluation the network then computes what the int8 file
    computes with float activations; the original batch-norm factors are gone, so their statistics
    are measured again on training slices. Raises KeyError when a float weight of ``model`` is not
    accounted for, so a file of another network never loads silently."""
    proto = onnx.load(str(path), load_external_data=True)
    value = _graph_values(proto)
    modules = dict(model.named_modules())
    ref = model.state_dict()
    out: Dict[str, torch.Tensor] = {}
    folded: List[str] = []

    def put(key: str, arr: np.ndarray) -> None:
        t = torch.from_numpy(np.array(arr, dtype=np.float32))
        if key not in ref:
            raise KeyError(f"{path.name}: {key} is not a weight of {type(model).__name__}")
        if tuple(t.shape) != tuple(ref[key].shape):
            raise ValueError(f"{key}: shape {tuple(t.shape)} in ONNX, {tuple(ref[key].shape)} in PyTorch")
        out[key] = t

    for node in proto.graph.node:
        if node.op_type != "Conv":
            continue
        w_name = node.input[1].removesuffix("_DequantizeLinear_Output")
        w, b = value(node.input[1]), (value(node.input[2]) if len(node.input) > 2 and node.input[2] else None)
        if w is None:
            raise KeyError(f"{path.name}: the weight of {node.name} is not a constant")
        if w_name.startswith("ConvBnFusion_W_"):
            conv = w_name.removeprefix("ConvBnFusion_W_").removesuffix(".weight")
            bn_key = node.input[2].removeprefix("ConvBnFusion_BN_B_").removesuffix(".bias")
            bn = modules.get(bn_key)
            if not isinstance(bn, nn.modules.batchnorm._BatchNorm) or b is None:
                raise KeyError(f"{path.name}: {node.name} folds a batch norm {bn_key!r} the model does not have")
            put(f"{conv}.weight", w)
            put(f"{bn_key}.weight", np.ones_like(b))
            put(f"{bn_key}.bias", b)
            put(f"{bn_key}.running_mean", np.zeros_like(b))
            put(f"{bn_key}.running_var", np.full_like(b, 1.0 - bn.eps))
            folded.append(bn_key)
        elif w_name.startswith("ConvMulFusion_W_"):
            conv = w_name.removeprefix("ConvMulFusion_W_").removesuffix(".weight")
            parent = modules.get(conv.rpartition(".")[0])
            scale = getattr(parent, "scale", None)
            if not isinstance(scale, float) or scale == 0.0:
                raise KeyError(f"{path.name}: {node.name} folds a multiplier, but {conv}'s block has no scale")
            put(f"{conv}.weight", w / scale)
            if b is not None:
                put(f"{conv}.bias", b / scale)
        else:
            conv = w_name.removesuffix(".weight")
            put(f"{conv}.weight", w)
            if b is not None:
                put(f"{conv}.bias", b)
    for key, t in ref.items():  # the head (Gemm), the calibration, and anything stored under its own name
        if key in out:
            continue
        if not t.is_floating_point():
            out[key] = t.clone()
            continue
        arr = value(key)
        if arr is None:
            raise KeyError(f"{path.name}: {key} not found (is it an int8 file of {type(model).__name__}?)")
        put(key, arr)
    return out, folded


@torch.no_grad()
def restat_batchnorm(model: nn.Module, folded: Sequence[str], batches: Sequence[Tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Give the batch norms ``state_dict_from_int8_onnx`` passed through their statistics again,
    measured on ``batches`` of (hu, window), without changing what the network computes in
    evaluation: each layer's running mean m and variance v become its input's, its weight
    sqrt(v + eps) and its bias the folded bias plus m. Training then normalises each batch by
    statistics close to these, as it did before the weights were folded."""
    modules = dict(model.named_modules())
    sums: Dict[str, Tuple[Any, Any, float]] = {}
    hooks = []
    for name in folded:
        bn = modules[name]

        def hook(_m: nn.Module, inputs: Tuple[torch.Tensor, ...], _o: torch.Tensor, name: str = name) -> None:
            x = inputs[0].detach().double()
            dims = [d for d in range(x.ndim) if d != 1]
            s1, s2, n = sums.get(name, (0.0, 0.0, 0.0))
            sums[name] = (s1 + x.sum(dims), s2 + (x * x).sum(dims), n + x.numel() / x.shape[1])

        hooks.append(bn.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        for hu, win in batches:
            model(hu, win)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    for name in folded:
        bn = modules[name]
        if name not in sums:
            raise RuntimeError(f"batch norm {name} saw no input: cannot measure its statistics")
        s1, s2, n = sums[name]
        mean = s1 / n
        var = (s2 / n - mean * mean).clamp_min(0.0)
        bias = bn.bias.detach().double()  # the folded bias (the layer passes its input through)
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.copy_((bias + mean).float())


def check_contract(proto: onnx.ModelProto) -> None:
    ins = {i.name: i for i in proto.graph.input}
    outs = {o.name: o for o in proto.graph.output}
    for name in ("hu", "window"):
        if name not in ins or ins[name].type.tensor_type.elem_type != TensorProto.FLOAT:
            raise ValueError(f"input {name!r} missing or not float32")
    if "probabilities" not in outs:
        raise ValueError("output 'probabilities' missing")
    dims = outs["probabilities"].type.tensor_type.shape.dim
    if len(dims) != 2 or dims[1].dim_value != NUM_LABELS:
        raise ValueError("output 'probabilities' must be [N, 6]")


def file_sizes(files: List[Path]) -> List[Tuple[str, int]]:
    return [(f.name, os.path.getsize(f)) for f in files]


#: models/manifest.json, which onnx_export.py writes and training reads (--init onnx: the history).
MANIFEST = MODELS_DIR / "manifest.json"


def graphs_of(entry: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A manifest model's ONNX graphs (not their external data), as the app's manifest.ts roleOf reads them."""
    return [f for f in entry["files"] if f.get("role", "model") == "model" and str(f["path"]).endswith(".onnx")]


def cpu_graph(entry: Dict[str, Any]) -> Dict[str, Any]:
    """The graph the app loads on the CPU provider (manifest.ts graphFor): the one listing "cpu",
    else one that names no providers, else the first."""
    graphs = graphs_of(entry)
    return next((f for f in graphs if "cpu" in (f.get("providers") or ["cpu"])), graphs[0])


def read_manifest() -> Dict[str, Any]:
    if MANIFEST.exists():
        return json.loads(MANIFEST.read_text())
    return {}
