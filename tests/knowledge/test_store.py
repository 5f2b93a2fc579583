"""Tests for knowledge.store: slots and rows of entries, tombstones and the compacted copy."""
import re

import numpy as np

from knowledge.decide import RetrievalConfig
from knowledge.normalize import TermMap
from knowledge.segment import Segmenter
from knowledge.store import EntryStore, IndexDoc, user_words

CONFIG = RetrievalConfig()
TERMS = TermMap({"房本": "不动产权证书"})
DOCS = [IndexDoc(f"d{i}", f"第{i}类证件到期了怎么换领", (f"第{i}类证件过期",), f"答案{i}")
        for i in range(8)] + [IndexDoc("home", "房本丢了怎么补办", ("房本遗失",), "登报后申请补证。")]


def _store(encoder=None, docs=DOCS) -> EntryStore:
    store = EntryStore(CONFIG, Segmenter(), encoder)
    for doc in docs:
        store.insert(doc, CONFIG, TERMS, bulk=True)
    store.rows.refresh_mass(CONFIG.idf_power)
    store.refit_semantic(CONFIG, TERMS)
    if store.dense is not None:
        store.dense.flush()
    return store


def test_questions_become_rows_with_the_terms_applied():
    store = _store()
    slot = store.slots[store.by_id["home"]]
    assert slot.keys == ["不动产权证书丢了怎么补办", "不动产权证书遗失"]
    assert [store.rows.slot[r] for r in slot.rows] == [store.by_id["home"]] * 2
    assert store.mentioning(re.compile("房本")) == [DOCS[-1]]  # the texts as written


def test_delete_tombstones_until_the_store_is_sparse():
    store = _store()
    store.delete("d0")
    assert "d0" not in store.by_id and store.slots[0] is None
    for i in range(1, 8):
        store.delete(f"d{i}")
    assert store.rows.n_dead == 16 and store.mentioning(re.compile("证件")) == []
    assert not store.is_sparse()  # 16 of 18 rows dead, but under the floor of 500
    for i in range(300):
        store.insert(IndexDoc(f"m{i}", f"事项{i}怎么办", (f"事项{i}的材料",), ""), CONFIG, TERMS)
    for i in range(241):
        store.delete(f"m{i}")
    assert store.rows.n_dead == 498 and not store.is_sparse()
    store.delete("m241")
    assert store.is_sparse()  # 500 dead rows


def test_compacted_copy_keeps_the_live_entries_and_their_vectors(encoder):
    store = _store(encoder)
    store.delete("d3")
    before = {d.id: store.dense._vecs[store.slots[store.by_id[d.id]].rows].copy()
              for d in DOCS if d.id != "d3"}
    fresh = store.compacted(CONFIG, TERMS)
    assert list(fresh.by_id) == [d.id for d in DOCS if d.id != "d3"]
    assert fresh.rows.n == fresh.rows.n_alive == 2 * (len(DOCS) - 1) and fresh.rows.n_dead == 0
    for doc_id, vecs in before.items():
        slot, old = fresh.slots[fresh.by_id[doc_id]], store.slots[store.by_id[doc_id]]
        np.testing.assert_array_equal(fresh.dense._vecs[slot.rows], vecs)
        assert slot.keys == old.keys
        assert fresh.doc_len[fresh.by_id[doc_id]] == store.doc_len[store.by_id[doc_id]]
        assert [list(a) for a in slot.answer_terms] == [list(a) for a in old.answer_terms]
    # Its LSA space is the one a build of the live entries learns.
    built = _store(docs=[d for d in DOCS if d.id != "d3"])
    query = ["第5类证件过期了"]
    np.testing.assert_allclose(fresh.sem.similarities(query, [1.0], len(fresh.slots)),
                               built.sem.similarities(query, [1.0], len(built.slots)), atol=1e-6)


def test_user_words_are_keywords_and_short_questions():
    doc = IndexDoc("x", "老年卡怎么办", ("我已经七十岁了想办一张老年人优待卡该去哪里",), "",
                   keywords=("敬老卡",))
    assert user_words(doc) == ["敬老卡", "老年卡怎么办"]
