"""Tests for knowledge.checkpoint: the torch-free checkpoint reader and its refusals."""
import collections
import io
import os
import pickle
import sys
import types
import zipfile

import numpy as np
import pytest

from knowledge.checkpoint import load_checkpoint
from knowledge.errors import ExportError


def _fake_torch_checkpoint(arrays: dict) -> bytes:
    """A zip checkpoint laid out as torch.save writes it, made without torch."""
    torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while pickling")

    FloatStorage.__module__, _rebuild_tensor_v2.__module__ = "torch", "torch._utils"
    FloatStorage.__qualname__, _rebuild_tensor_v2.__qualname__ = "FloatStorage", "_rebuild_tensor_v2"
    torch_mod.FloatStorage, utils_mod._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2
    blobs = {}

    class Storage:
        def __init__(self, key, data):
            self.key, self.data = key, data

    class Tensor:
        def __init__(self, storage, shape, stride):
            self.storage, self.shape, self.stride = storage, shape, stride

        def __reduce__(self):
            return (_rebuild_tensor_v2, (self.storage, 0, self.shape, self.stride, False,
                                         collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                blobs[obj.key] = obj.data.tobytes()
                return ("storage", FloatStorage, obj.key, "cpu", obj.data.size)
            return None

    state = collections.OrderedDict()
    for i, (name, (data, shape, stride)) in enumerate(arrays.items()):
        state[name] = Tensor(Storage(str(i), data), shape, stride)
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch_mod, "torch._utils": utils_mod})
    try:
        buf = io.BytesIO()
        Pickler(buf, protocol=2).dump(state)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("model/data.pkl", buf.getvalue())
        for key, raw in blobs.items():
            zf.writestr(f"model/data/{key}", raw)
    return out.getvalue()


def test_reads_tensors_with_strides():
    flat = np.arange(6, dtype=np.float32)
    data = _fake_torch_checkpoint({"w": (flat, (2, 3), (3, 1)),
                                   "w_t": (flat, (3, 2), (1, 3))})
    state = load_checkpoint(data)
    np.testing.assert_array_equal(state["w"], flat.reshape(2, 3))
    np.testing.assert_array_equal(state["w_t"], flat.reshape(2, 3).T)


def test_refuses_other_pickle_globals():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("m/data.pkl", pickle.dumps(os.system))
    with pytest.raises(ExportError) as err:
        load_checkpoint(buf.getvalue())
    assert err.value.code == "checkpoint_global"


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_rejects_non_checkpoints(data):
    with pytest.raises(ExportError) as err:
        load_checkpoint(data)
    assert err.value.code == "checkpoint_format"
