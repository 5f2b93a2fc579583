"""Read a PyTorch zip checkpoint into NumPy arrays without torch, refusing any other pickle."""
from __future__ import annotations

import collections
import io
import logging
import pickle
import zipfile

import numpy as np

from knowledge.errors import ExportError

_LOGGER = logging.getLogger(__name__)

_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "HalfStorage": np.float16}


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
