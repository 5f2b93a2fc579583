"""Names and digests of the sentence encoder's files, shared by the run-time encoder and the
tool that fetches and converts it (neither imports the other)."""
from __future__ import annotations

import hashlib
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "encoder"
"""Where ``make install`` puts the encoder (``GOVBOT_ENCODER_DIR`` overrides it)."""
MODEL_FILE, TOKENIZER_FILE, SOURCE_FILE = "m3e-small.v2.int8.onnx", "tokenizer.json", "SOURCE.md"
LEGACY_MODEL_FILE = "model.int8.onnx"
"""The v1 graph an older install left; unused."""
CHECKPOINT_SHA256 = "78fbbe22d9bc31a59a95dfd1b1ceb4f9b65cf4ddf54d948a20952789c9ec4973"
"""SHA-256 of the m3e-small ``pytorch_model.bin`` the conversion accepts."""
BULK_FILE = "m3e-small.v2.bulk.int8.onnx"
BULK_VERSION = "1"
"""Version of the batched-graph rewrite; a batched graph written by another one is not used."""
SOURCE_KEY, VERSION_KEY = "govbot.source_sha1", "govbot.bulk_version"
"""Metadata of the batched graph: the SHA-1 of the one-text model it was made from, and
``BULK_VERSION``; the encoder uses the graph only when both match."""


def model_sha1(path: Path) -> str:
    """SHA-1 (hex) of a model file."""
    return hashlib.sha1(path.read_bytes()).hexdigest()


def matches(meta: dict[str, str], source_sha1: str) -> bool:
    """Whether a batched graph's metadata names ``source_sha1`` and this rewrite version."""
    return meta.get(SOURCE_KEY) == source_sha1 and meta.get(VERSION_KEY) == BULK_VERSION
