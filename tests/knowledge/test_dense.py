"""Tests for knowledge.dense: a build encodes its questions ahead, and flush uses them."""
import threading

import numpy as np
import pytest

from knowledge.dense import DenseRows
from knowledge.index import IndexDoc, SearchIndex
from knowledge.store import EntryStore

DOCS = [IndexDoc(f"d{i}", f"第{i}类证件到期了怎么换领", (f"第{i}类证件过期", f"{i}号证怎么续"),
                 "到期前九十日内申请。") for i in range(30)]


@pytest.fixture
def calls(encoder, monkeypatch):
    """Each call of ``encoder.encode`` as (thread name, texts); the real encoder runs."""
    seen, real = [], encoder.encode

    def spy(texts, use_cache=False):
        seen.append((threading.current_thread().name, list(texts)))
        return real(texts, use_cache=False)  # no cache: every call really encodes

    monkeypatch.setattr(encoder, "encode", spy)
    return seen


def test_a_build_encodes_its_questions_once_while_words_are_indexed(encoder, calls):
    idx = SearchIndex(encoder=encoder)
    idx.build(DOCS)
    questions = [q for d in DOCS for q in (d.title, *d.similar)]
    assert [(name, sorted(texts)) for name, texts in calls] == [("encode-ahead",
                                                                  sorted(questions))]
    rows = idx._store.dense._vecs[:len(questions)]
    np.testing.assert_array_equal(rows, np.stack([encoder.encode_query(q) for q in questions]))
    assert idx.raw_scores("第7类证件过期了", 1)[0][0] == "d7"


def test_rows_the_prefetch_missed_are_encoded_at_flush(encoder, calls):
    dense = DenseRows(encoder)
    dense.prefetch(["居住证怎么办", "居住证怎么办", "用不上的问题"])
    dense.set(0, "居住证怎么办", bulk=True)
    dense.set(1, "护照怎么续签", bulk=True)
    dense.flush()
    assert [texts for _name, texts in calls] == [["居住证怎么办", "用不上的问题"], ["护照怎么续签"]]
    for row, text in enumerate(("居住证怎么办", "护照怎么续签")):
        np.testing.assert_array_equal(dense._vecs[row], encoder.encode_query(text))
    dense.flush()  # the prefetch is used up: nothing is waited for or encoded again
    assert len(calls) == 2


def test_a_failed_prefetch_fails_the_build_and_the_next_build_works(encoder, calls,
                                                                     monkeypatch):
    spy = encoder.encode

    def broken(texts, use_cache=False):
        raise RuntimeError("onnxruntime failed")

    monkeypatch.setattr(encoder, "encode", broken)
    idx = SearchIndex(encoder=encoder)
    with pytest.raises(RuntimeError, match="onnxruntime failed"):
        idx.build(DOCS)
    assert len(idx) == 0  # not half built
    monkeypatch.setattr(encoder, "encode", spy)
    idx.build(DOCS)
    assert idx.raw_scores("3号证怎么续", 1)[0][0] == "d3"


def test_a_build_that_fails_after_the_prefetch_leaves_nothing_waiting(encoder, calls,
                                                                      monkeypatch):
    idx = SearchIndex(encoder=encoder)

    def broken(*_args):
        raise RuntimeError("refit failed")

    monkeypatch.setattr(EntryStore, "refit_semantic", broken)
    with pytest.raises(RuntimeError, match="refit failed"):
        idx.build(DOCS)
    assert len(idx) == 0 and idx._store.dense._ahead is None
    assert idx.raw_scores("3号证怎么续", 1) == []  # a search neither waits nor fails
