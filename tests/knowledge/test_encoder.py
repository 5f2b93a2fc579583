"""Tests for knowledge.encoder and the dense channel of the index (real m3e-small model)."""
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from knowledge.dense import run_beside
from knowledge.encoder import MAX_TOKENS, SentenceEncoder
from knowledge.encoder_files import MODEL_FILE
from knowledge.index import IndexDoc, SearchIndex


def test_vectors_are_unit_and_meaningful(encoder):
    vecs = encoder.encode(["社保卡丢了怎么补办", "社会保障卡遗失了如何补领", "护照怎么续签"])
    assert vecs.shape == (3, encoder.dim) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.1


def test_odd_inputs(encoder):
    vecs = encoder.encode(["", "   ", "\x00\x01", "🙂" * 50, "ＡＢＣ１２３"])
    assert vecs.shape == (5, encoder.dim) and np.isfinite(vecs).all()
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_long_text_keeps_its_end(encoder):
    question = "退休以后医保报销比例是多少"
    context = "我今年六十五岁了以前在工厂上班后来下岗又自己交了几年灵活就业的社保" * 4
    long = context + question
    tail = long[-(MAX_TOKENS - 2):]  # one token per Chinese character, plus [CLS] and [SEP]
    a, b = encoder.encode([long, tail])
    assert a @ b > 0.9999


def test_a_vector_does_not_depend_on_its_neighbours(encoder):
    # int8 dynamic quantisation scales activations per run: sharing a run would let texts
    # shift each other's vectors, and entries would not be encoded like queries. 40 texts: a
    # bulk call, batched by length (each text keeps its own scales) on several threads.
    texts = [f"第{i}个问题：公积金怎么提取" * (1 + i % 3) for i in range(40)]
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(alone[0], encoder.encode_query(texts[0]))


def test_cached_texts_are_not_re_encoded(encoder, monkeypatch):
    texts = ["残疾人证怎么申领（缓存测试）"]
    first = encoder.encode(texts, use_cache=True)

    def boom(_texts):
        raise AssertionError("encoded again")

    monkeypatch.setattr(encoder, "_run", boom)
    np.testing.assert_array_equal(encoder.encode(texts, use_cache=True), first)
    with pytest.raises(AssertionError):
        encoder.encode(texts)  # queries bypass the cache


def test_unwritable_cache_falls_back(tmp_path, encoder):
    from knowledge.encoder import default_dir

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for name in (MODEL_FILE, "tokenizer.json"):
        (model_dir / name).symlink_to(default_dir() / name)
    (model_dir / "vectors.sqlite").mkdir()  # a directory where the cache file should be
    enc = SentenceEncoder(model_dir)
    assert enc.encode(["户口迁移"], use_cache=True).shape == (1, enc.dim)


DOCS = [
    IndexDoc("hk", "怎样把户口迁到配偶所在地", ("夫妻投靠落户怎么办",), "携带结婚证到派出所申请。"),
    IndexDoc("gjj", "住房公积金怎么提取", ("公积金提取条件",), "购房、租房、退休可提取。"),
    IndexDoc("jz", "驾驶证到期怎么换证", ("驾照过期换证",), "到期前九十日内申请换证。"),
]


def test_dense_channel_finds_paraphrases(encoder):
    lexical, dense = SearchIndex(), SearchIndex(encoder=encoder)
    lexical.build(DOCS)
    dense.build(DOCS)
    query = "结了婚想把户籍落到老公那边"
    assert dense.raw_scores(query, 1)[0][0] == "hk"
    # The dense channel adds to, and never lowers, a question's lexical score.
    lex = dict(lexical.raw_scores(query, 3))
    assert all(score >= lex.get(doc_id, 0.0) for doc_id, score in dense.raw_scores(query, 3))


def test_dense_vectors_survive_upserts_and_compaction(encoder):
    idx = SearchIndex(encoder=encoder)
    idx.build(DOCS)
    for i in range(600):  # enough dead rows to trigger compaction
        idx.upsert(IndexDoc(f"tmp{i}", f"临时问题{i}", (), "无"))
        idx.remove(f"tmp{i}")
    idx.upsert(IndexDoc("jz", "机动车驾驶证有效期满换领", ("驾照到期",), "九十日内申请。"))
    assert idx.raw_scores("结了婚想把户籍落到老公那边", 1)[0][0] == "hk"
    assert idx.raw_scores("驾照快过期了", 1)[0][0] == "jz"


def test_a_huge_query_is_judged_by_its_end(encoder):
    """Context first, question last: only the tail of a 6,000-character message is read (the
    lexical channels once kept its first 2,000 characters and lost the question)."""
    lexical, dense = SearchIndex(), SearchIndex(encoder=encoder)
    lexical.build(DOCS)
    dense.build(DOCS)
    query = "我家住在朝阳区，孩子在上小学，平时工作比较忙。" * 300 + "驾驶证到期了怎么换证"
    assert len(query) > 6000
    for idx in (lexical, dense):
        assert idx.raw_scores(query, 1)[0][0] == "jz"


def test_concurrent_searches_share_the_lexical_worker(encoder):
    """Searches on two indexes from four threads queue on the one lexical worker and get the
    same results as one after another."""
    first, second = SearchIndex(encoder=encoder), SearchIndex(encoder=encoder)
    first.build(DOCS)
    second.build(DOCS[::-1])
    queries = ["结了婚想把户籍落到老公那边", "驾照快过期了", "公积金怎么取出来", "社保卡丢了"] * 5
    jobs = [(idx, q) for q in queries for idx in (first, second)]
    expected = [idx.raw_scores(q, 3) for idx, q in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda job: job[0].raw_scores(job[1], 3), jobs))
    assert got == expected


def test_a_job_on_the_worker_may_use_the_worker():
    assert run_beside(lambda: run_beside(lambda x: x + 1, 1).result(timeout=5)).result(5) == 2


def test_a_tail_of_junk_does_not_hide_the_question(encoder):
    lexical, dense = SearchIndex(), SearchIndex(encoder=encoder)
    lexical.build(DOCS)
    dense.build(DOCS)
    for junk in ("😭" * 600, "！？" * 400, " ~ " * 300):
        query = "驾驶证到期了怎么换证" + junk
        for idx in (lexical, dense):
            assert idx.raw_scores(query, 1)[0][0] == "jz", junk[:2]


def test_a_failed_query_encoding_waits_for_the_lexical_worker(encoder, monkeypatch):
    """The lexical scoring runs on a worker thread while the caller encodes: when encoding fails,
    the error reaches the caller only after the worker has stopped reading the index."""
    idx = SearchIndex(encoder=encoder)
    idx.build(DOCS)
    real_lexical, finished = idx._lexical, []

    def slow_lexical(query, prepared=None):
        time.sleep(0.2)
        out = real_lexical(query, prepared)
        finished.append(time.perf_counter())
        return out

    def broken(text):
        raise RuntimeError("onnxruntime failed")

    monkeypatch.setattr(idx, "_lexical", slow_lexical)
    monkeypatch.setattr(encoder, "encode_query", broken)
    with pytest.raises(RuntimeError):
        idx.raw_scores("驾照快过期了", 1)
    assert finished  # the worker was done before the error came out
    monkeypatch.undo()
    assert idx.raw_scores("驾照快过期了", 1)[0][0] == "jz"


def test_an_older_conversion_is_named_and_dense_retrieval_is_off(tmp_path, monkeypatch, caplog):
    from knowledge import encoder as encoder_mod

    (tmp_path / "model.int8.onnx").write_bytes(b"v1")
    monkeypatch.setitem(encoder_mod._OPTIONS, "enabled", True)
    monkeypatch.setitem(encoder_mod._OPTIONS, "dir", tmp_path)
    monkeypatch.setattr(encoder_mod, "_DEFAULT", {})
    with caplog.at_level("WARNING", logger="knowledge.encoder"):
        assert encoder_mod.load_default() is None
    assert "older conversion" in caplog.text and "make install" in caplog.text
    (tmp_path / "model.int8.onnx").unlink()
    monkeypatch.setattr(encoder_mod, "_DEFAULT", {})
    caplog.clear()
    with caplog.at_level("WARNING", logger="knowledge.encoder"):
        assert encoder_mod.load_default() is None
    assert "no sentence encoder" in caplog.text
