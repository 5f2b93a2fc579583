"""Tests for knowledge.encoder_bulk: the batched graph gives each text its one-text vector."""
import logging

import numpy as np
import pytest

from knowledge.encoder_bulk import BULK_FILE, bulk_graph, write_bulk
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


def test_installed_encoder_batches_give_one_text_vectors(encoder):
    texts = [f"{w}怎么办理" for w in ("社保卡", "医保卡", "公积金", "居住证", "身份证", "护照")] * 3
    texts += ["", "🙂🙂", "年满六十周岁的老年人可以申请哪些优待" * 9, "什么是霾", "幺二三四五"]
    texts += [f"第{i}个问题：公积金怎么提取" for i in range(40)]
    batched = encoder._run_many(list(dict.fromkeys(texts)))
    alone = [encoder.encode_query(t) for t in dict.fromkeys(texts)]
    np.testing.assert_array_equal(np.stack(batched), np.stack(alone))


def test_without_the_batched_graph_texts_are_encoded_one_by_one(tmp_path, encoder, caplog):
    from knowledge.encoder import SentenceEncoder, default_dir
    from knowledge.encoder_export import MODEL_FILE, TOKENIZER_FILE

    for name in (MODEL_FILE, TOKENIZER_FILE):
        (tmp_path / name).symlink_to(default_dir() / name)
    lone = SentenceEncoder(tmp_path, cache=False)
    texts = [f"第{i}个问题：残疾人证怎么办" for i in range(40)]
    with caplog.at_level(logging.WARNING, logger="knowledge.encoder"):
        got = lone.encode(texts)
    assert BULK_FILE in caplog.text
    np.testing.assert_array_equal(got, encoder.encode(texts))
