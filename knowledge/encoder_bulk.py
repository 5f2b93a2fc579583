"""Batched form of the int8 encoder graph: each text keeps its own activation scales."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.encoder_files import BULK_VERSION, SOURCE_KEY, VERSION_KEY, matches, model_sha1

if TYPE_CHECKING:
    import onnx

_LOGGER = logging.getLogger(__name__)

_MS = "com.microsoft"
_TINY = np.float32(np.finfo(np.float32).tiny)


class GraphBuilder:
    """Appends ONNX nodes and constants; a node's output is named ``<prefix><Kind>_<n>``
    unless given."""

    def __init__(self, prefix: str = ""):
        self.nodes: list = []
        self.inits: list = []
        self._prefix, self._n = prefix, 0

    def const(self, name: str, arr) -> str:
        """Add the constant ``arr`` (stored in C order) as ``name``; returns ``name``."""
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, kind: str, inputs: list[str], out: str | list[str] | None = None,
           domain: str = "", **attrs) -> str:
        """Add a ``kind`` node; returns its (first) output."""
        from onnx import helper

        self._n += 1
        outs = [out] if isinstance(out, str) else out or [f"{self._prefix}{kind}_{self._n}"]
        self.nodes.append(helper.make_node(kind, inputs, outs, domain=domain, **attrs))
        return outs[0]


def bulk_graph(model: "onnx.ModelProto") -> "onnx.ModelProto":
    """Rewrite the one-text int8 encoder (``encoder_export.convert``) to take a batch of texts
    of one length, ``input_ids`` of shape ``[B, T]``, in place.

    In the one-text graph, ``DynamicQuantizeLinear`` picks one scale and zero point for the
    whole input, and ONNX Runtime's ``MatMulInteger`` and ``QAttention`` take only one of each.
    Here each text gets its own, by the same formula, and each integer product is corrected
    for it: ``(x - z) W = x W - z colsum(W)``, exact in int32. The float steps are those ONNX
    Runtime's fused kernels run for the one-text graph, in the same order (bias after the
    scale, residual and layer norm in ``SkipLayerNormalization``, attention scaled by 1/8,
    which is exact), so each row of a batch equals the one-text vector bit for bit; the tests
    hold both to that. The encoder runs it with basic graph optimisation, as written.

    Args:
        model: The int8 one-text graph.

    Returns:
        ``model``, rewritten.

    Raises:
        ValueError: A product's weights have a non-zero zero point (``convert`` quantises them
            symmetrically), or an attention node has a mask, past state or causal order.
    """
    from onnx import TensorProto, numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    b = GraphBuilder("bulk_")
    zero, q255 = b.const("bulk_zero", np.float32(0)), b.const("bulk_255", np.float32(255))
    tiny, flat = b.const("bulk_tiny", _TINY), b.const("bulk_flat", np.array([-1], np.int64))
    colsums: dict[str, str] = {}

    def product(xq: str, weight: str, x_zero: str, w_zero: str,
                out: str | None = None) -> str:
        if np.any(numpy_helper.to_array(inits[w_zero])):
            raise ValueError(f"{weight}: weights with a zero point are not supported")
        if weight not in colsums:
            w = numpy_helper.to_array(inits[weight]).astype(np.int32)
            colsums[weight] = b.const(weight + "_colsum", w.sum(axis=0, dtype=np.int32))
        correction = b.op("Mul", [b.op("Cast", [x_zero], to=TensorProto.INT32), colsums[weight]])
        return b.op("Sub", [b.op("MatMulInteger", [xq, weight]), correction], out)

    def quantize(node) -> None:  # DynamicQuantizeLinear, one scale and zero point per text
        x, (xq, scale, zp) = node.input[0], node.output
        lo = b.op("Min", [b.op("ReduceMin", [x], axes=[1, 2], keepdims=1), zero])
        hi = b.op("Max", [b.op("ReduceMax", [x], axes=[1, 2], keepdims=1), zero])
        # An all-zero text would get scale 1 from ONNX Runtime; any scale gives it the same
        # zeros, and this form avoids an Equal/Where pair.
        b.op("Max", [b.op("Div", [b.op("Sub", [hi, lo]), q255]), tiny], scale)
        zf = b.op("Clip", [b.op("Neg", [b.op("Div", [lo, scale])]), zero, q255])
        b.op("Cast", [b.op("Round", [zf])], zp, to=TensorProto.UINT8)
        b.op("QuantizeLinear", [x, b.op("Reshape", [scale, flat]), b.op("Reshape", [zp, flat])],
             xq, axis=0)

    def attention(node) -> None:  # QAttention without a mask
        if len(node.input) < 8 or any(node.input[5:6]) or any(node.input[8:]) or any(
                a.name == "unidirectional" and a.i for a in node.attribute):
            raise ValueError(f"{node.output[0]}: attention with a mask, past state or causal "
                             "order is not supported")
        xq, weight, bias, x_scale, w_scale, _, x_zero, w_zero = node.input[:8]
        out, width = node.output[0], numpy_helper.to_array(inits[weight]).shape[1] // 3
        heads = next(a.i for a in node.attribute if a.name == "num_heads")
        acc = b.op("Cast", [product(xq, weight, x_zero, w_zero)], to=TensorProto.FLOAT)
        qkv = b.op("Add", [b.op("Mul", [acc, b.op("Mul", [x_scale, w_scale])]), bias])
        parts = [f"{out}_{p}" for p in "qkv"]
        b.op("Split", [qkv, b.const(out + "_split", np.array([width] * 3, np.int64))], parts,
             axis=2)
        split = b.const(out + "_heads", np.array([0, 0, heads, width // heads], np.int64))
        q, k, v = (b.op("Transpose", [b.op("Reshape", [p, split])], perm=perm) for p, perm in
                   zip(parts, ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3])))
        alpha = b.const(out + "_alpha", np.float32(1.0 / np.sqrt(width // heads)))
        probs = b.op("Softmax", [b.op("Mul", [b.op("MatMul", [q, k]), alpha])], axis=-1)
        ctx = b.op("Transpose", [b.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        b.op("Reshape", [ctx, b.const(out + "_merge", np.array([0, 0, width], np.int64))], out)

    def residual_norm(node) -> bool:  # LayerNorm(Add(Add(product, bias), skip)) -> SkipLN
        outer = producer.get(node.input[0])
        inner = producer.get(outer.input[0]) if outer is not None else None
        if inner is None or outer.op_type != "Add" or inner.op_type != "Add" \
                or inner.input[1] not in inits or outer.input[1] in inits:
            return False
        eps = next(a.f for a in node.attribute if a.name == "epsilon")
        b.op("SkipLayerNormalization", [outer.input[0], outer.input[1], *node.input[1:3]],
             node.output[0], domain=_MS, epsilon=eps)
        return True

    for node in g.node:
        if node.op_type == "DynamicQuantizeLinear":
            quantize(node)
        elif node.op_type == "MatMulInteger":
            product(*node.input[:4], out=node.output[0])
        elif node.op_type == "QAttention":
            attention(node)
        elif node.op_type != "LayerNormalization" or not residual_norm(node):
            b.nodes.append(node)
    used = {i for n in b.nodes for i in n.input}
    kept = [n for n in b.nodes if n.op_type != "Add" or any(o in used or o == "hidden"
                                                             for o in n.output)]
    del g.node[:]
    g.node.extend(kept)
    read = {i for n in kept for i in n.input}
    for init in [i for i in g.initializer if i.name not in read]:
        g.initializer.remove(init)
    g.initializer.extend(b.inits)
    return model


def write_bulk(single: Path, dest: Path) -> None:
    """Write the batched graph of the one-text int8 model file ``single`` to ``dest``, with
    the source's SHA-1 and ``BULK_VERSION`` in its metadata."""
    import onnx

    model = bulk_graph(onnx.load(str(single)))
    for key, value in ((SOURCE_KEY, model_sha1(single)), (VERSION_KEY, BULK_VERSION)):
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(dest))


def is_current(bulk: Path, single: Path) -> bool:
    """Whether ``bulk`` exists and was written from ``single`` by this rewrite version."""
    import onnx

    if not bulk.exists():
        return False
    meta = {p.key: p.value for p in onnx.load(str(bulk), load_external_data=False).metadata_props}
    return matches(meta, model_sha1(single))
