"""Tests for knowledge.encoder_bulk: the batched graph gives each text its one-text vector."""
import logging

import numpy as np
import pytest

from knowledge.encoder_bulk import bulk_graph, is_current, write_bulk
from knowledge.encoder_files import BULK_FILE
from knowledge.encoder_export import convert
from tests.knowledge.test_encoder_export import _tiny_bert


def _sessions(tmp_path):
    import onnxruntime as ort

    convert(_tiny_bert(layers=2, width=32, heads=2, vocab=60, positions=40), tmp_path / "one.onnx",
            layers=2, heads=2)
    write_bulk(tmp_path / "one.onnx", tmp_path / "bulk.onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    one = ort.InferenceSession(str(tmp_path / "one.onnx"), providers=["CPUExecutionProvider"])
    return one, ort.InferenceSession(str(tmp_path / "bulk.onnx"), options,
                                     providers=["CPUExecutionProvider"])


def test_each_row_of_a_batch_equals_its_text_alone(tmp_path):
    one, bulk = _sessions(tmp_path)
    rng = np.random.default_rng(3)
    for length in (1, 2, 7, 30):
        # Texts of very different ranges share a batch: one scale for all would shift them.
        batch = rng.integers(0, 60, (9, length))
        batch[0] = 0
        got = bulk.run(["hidden"], {"input_ids": batch})[0]
        for i, ids in enumerate(batch):
            alone = one.run(["hidden"], {"input_ids": ids[None]})[0][0]
            np.testing.assert_array_equal(got[i], alone)
        np.testing.assert_array_equal(bulk.run(["hidden"], {"input_ids": batch[3:5]})[0], got[3:5])


def test_batching_with_one_shared_scale_would_be_caught(tmp_path):
    """The one-text graph fed a batch quantises all its texts together; the check above must
    see that as a difference, or it would prove nothing."""
    one, _bulk = _sessions(tmp_path)
    batch = np.random.default_rng(4).integers(0, 60, (9, 12))
    shared = one.run(["hidden"], {"input_ids": batch})[0]
    alone = np.stack([one.run(["hidden"], {"input_ids": r[None]})[0][0] for r in batch])
    assert not np.array_equal(shared, alone)


def test_weights_with_a_zero_point_are_refused(tmp_path):
    import onnx
    from onnx import numpy_helper

    convert(_tiny_bert(), tmp_path / "one.onnx", layers=2, heads=2)
    model = onnx.load(str(tmp_path / "one.onnx"))
    zp = next(i for i in model.graph.initializer if i.name.endswith("w_zero_point"))
    zp.CopyFrom(numpy_helper.from_array(np.array(3, np.int8), zp.name))
    with pytest.raises(ValueError, match="zero point"):
        bulk_graph(model)


def test_each_text_is_quantised_by_itself_even_when_all_zero(tmp_path):
    """One quantised product alone, fed an all-zero text beside others of different ranges."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(5).integers(-127, 128, (6, 4)).astype(np.int8)
    graph = helper.make_graph(
        [helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
         helper.make_node("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"]),
         helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["xs", "ws"], ["scale"]),
         helper.make_node("Mul", ["accf", "scale"], ["hidden"])],
        "product", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "T", 6])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "T", 4])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(np.int8(0), "wz"),
         numpy_helper.from_array(np.float32(0.02), "ws")])
    one = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    one.ir_version = 8
    onnx.save(one, str(tmp_path / "one.onnx"))
    write_bulk(tmp_path / "one.onnx", tmp_path / "bulk.onnx")
    runs = {name: ort.InferenceSession(str(tmp_path / f"{name}.onnx"),
                                       providers=["CPUExecutionProvider"]) for name in ("one", "bulk")}
    x = np.random.default_rng(6).normal(0, 1, (4, 3, 6)).astype(np.float32)
    x[0], x[1], x[2] = 0.0, np.abs(x[1]) * 50, -np.abs(x[2])  # zero, positive, negative
    got = runs["bulk"].run(["hidden"], {"x": x})[0]
    for i in range(len(x)):
        alone = runs["one"].run(["hidden"], {"x": x[i:i + 1]})[0][0]
        np.testing.assert_array_equal(got[i], alone)
    assert not got[0].any()


def test_attention_with_a_mask_is_refused(tmp_path):
    import onnx

    convert(_tiny_bert(), tmp_path / "one.onnx", layers=2, heads=2)
    model = onnx.load(str(tmp_path / "one.onnx"))
    node = next(n for n in model.graph.node if n.op_type == "QAttention")
    node.input[5] = "mask_index"
    with pytest.raises(ValueError, match="mask"):
        bulk_graph(model)


def test_the_batched_graph_names_the_model_it_was_made_from(tmp_path):
    convert(_tiny_bert(), tmp_path / "a.onnx", layers=2, heads=2)
    convert(_tiny_bert(seed=1), tmp_path / "b.onnx", layers=2, heads=2)
    write_bulk(tmp_path / "a.onnx", tmp_path / "bulk.onnx")
    assert is_current(tmp_path / "bulk.onnx", tmp_path / "a.onnx")
    assert not is_current(tmp_path / "bulk.onnx", tmp_path / "b.onnx")
    assert not is_current(tmp_path / "missing.onnx", tmp_path / "a.onnx")


@pytest.fixture(scope="module")
def fresh_encoder(tmp_path_factory, encoder):
    """The installed model and tokenizer, with a batched graph written by this code."""
    from knowledge.encoder import SentenceEncoder, default_dir
    from knowledge.encoder_files import MODEL_FILE, TOKENIZER_FILE

    where = tmp_path_factory.mktemp("fresh_encoder")
    for name in (MODEL_FILE, TOKENIZER_FILE):
        (where / name).symlink_to(default_dir() / name)
    write_bulk(where / MODEL_FILE, where / BULK_FILE)
    return SentenceEncoder(where, cache=False)


def test_installed_encoder_batches_give_one_text_vectors(fresh_encoder):
    texts = [f"{w}怎么办理" for w in ("社保卡", "医保卡", "公积金", "居住证", "身份证", "护照")] * 3
    texts += ["", "🙂🙂", "年满六十周岁的老年人可以申请哪些优待" * 9, "什么是霾", "幺二三四五"]
    texts += [f"第{i}个问题：公积金怎么提取" for i in range(40)]
    unique = list(dict.fromkeys(texts))
    batched = fresh_encoder._run_many(unique)
    assert not fresh_encoder._bulk_missing  # the batched graph was used
    alone = [fresh_encoder.encode_query(t) for t in unique]
    np.testing.assert_array_equal(np.stack(batched), np.stack(alone))


@pytest.mark.parametrize("batched", ["missing", "from another model"])
def test_without_a_matching_batched_graph_texts_are_encoded_one_by_one(tmp_path, encoder, caplog,
                                                                        batched):
    from knowledge.encoder import SentenceEncoder, default_dir
    from knowledge.encoder_files import MODEL_FILE, TOKENIZER_FILE

    for name in (MODEL_FILE, TOKENIZER_FILE):
        (tmp_path / name).symlink_to(default_dir() / name)
    if batched != "missing":
        convert(_tiny_bert(), tmp_path / "other.onnx", layers=2, heads=2)
        write_bulk(tmp_path / "other.onnx", tmp_path / BULK_FILE)
    lone = SentenceEncoder(tmp_path, cache=False)
    texts = [f"第{i}个问题：残疾人证怎么办" for i in range(40)]
    with caplog.at_level(logging.WARNING, logger="knowledge.encoder"):
        got = lone.encode(texts)
    assert BULK_FILE in caplog.text
    np.testing.assert_array_equal(got, encoder.encode(texts))
