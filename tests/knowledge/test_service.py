"""KnowledgeService: audited edits, live index updates, conflicts, terms, cross-process sync."""
from __future__ import annotations

import threading

import pytest

from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.schema import EntryInput
from knowledge.service import KnowledgeService
from knowledge.store import EntryStore
from tests.conftest import missing


def _entry(ext_id: str = "e-1", question: str = "老年人优待证怎么办理？", **kw) -> EntryInput:
    row = {"id": ext_id, "question": question,
           "answer": "年满60周岁的本市户籍老人可到社区申请老年人优待证。", **kw}
    return EntryInput.from_mapping(row)


def _top_id(kb: KnowledgeService, query: str):
    result = kb.search(query)
    return result.candidates[0].id if result.candidates else None


def test_publish_edit_archive_take_effect_at_once(kb):
    kb.save_entry(_entry(status="draft"), "staff")
    assert _top_id(kb, "老年人优待证怎么办理") is None  # drafts are not searchable
    kb.set_status("e-1", "published", "staff")
    assert _top_id(kb, "老年人优待证怎么办理") == "e-1"
    kb.save_entry(_entry(question="高龄津贴怎么申请？"), "staff")
    assert _top_id(kb, "高龄津贴怎么申请") == "e-1"
    kb.set_status("e-1", "archived", "staff")
    assert _top_id(kb, "高龄津贴怎么申请") is None


def test_every_change_is_audited_and_restorable(kb):
    kb.save_entry(_entry(), "alice")
    kb.save_entry(_entry(question="老年卡怎么办？"), "bob")
    kb.set_status("e-1", "archived", "carol")
    history = kb.history("e-1")
    assert [(h["action"], h["actor"], h["version"]) for h in history] == [
        ("create", "alice", 1), ("update", "bob", 2), ("status", "carol", 3)]
    assert history[1]["before"]["question"] == "老年人优待证怎么办理？"
    assert history[1]["after"]["question"] == "老年卡怎么办？"
    outcome = kb.restore_revision(history[0]["id"], "dave")
    assert outcome.version == 4
    entry = kb.get_entry("e-1")
    assert entry["question"] == "老年人优待证怎么办理？" and entry["status"] == "published"
    assert kb.history("e-1")[-1]["actor"] == "dave"
    assert _top_id(kb, "老年人优待证怎么办理") == "e-1"


def test_unchanged_save_makes_no_revision(kb):
    kb.save_entry(_entry(), "alice")
    assert kb.save_entry(_entry(), "alice").action == "unchanged"
    assert len(kb.history("e-1")) == 1


def test_stale_version_is_a_conflict_and_loses_nothing(kb):
    kb.save_entry(_entry(), "alice")
    kb.save_entry(_entry(question="老年卡怎么办？"), "bob", expected_version=1)
    with pytest.raises(ConflictError):
        kb.save_entry(_entry(question="被覆盖？"), "carol", expected_version=1)
    assert kb.get_entry("e-1")["question"] == "老年卡怎么办？"


def test_missing_things_are_not_found(kb):
    with pytest.raises(NotFoundError):
        kb.set_status("nope", "archived", "x")
    with pytest.raises(NotFoundError):
        kb.restore_revision(9999, "x")
    with pytest.raises(ValidationError):
        kb.set_status("nope", "deleted", "x")


def test_terms_expand_queries_live_and_are_audited(kb):
    kb.save_entry(_entry("e-2", "养老金每月什么时候发放？",
                         answer="养老金按月发放到社保卡。"), "staff")
    kb.save_term("退休工资", "养老金", "staff")
    assert kb.terms()["退休工资"] == "养老金"
    assert _top_id(kb, "退休工资每月几号发") == "e-2"
    kb.delete_term("退休工资", "staff")
    assert "退休工资" not in kb.terms()
    actions = [h["action"] for h in kb.history("退休工资")]
    assert actions == ["create", "delete"]
    with pytest.raises(ValidationError):
        kb.save_term("养老金", "养老金", "staff")


def test_term_chains_are_rejected(kb):
    kb.save_term("退休金", "养老金", "staff")
    with pytest.raises(ValidationError):
        kb.save_term("养老钱", "退休金", "staff")
    with pytest.raises(ValidationError):
        kb.save_term("养老金", "退休工资", "staff")


def test_other_process_sees_changes_without_restart(engine):
    writer = KnowledgeService(engine, poll_seconds=0)
    reader = KnowledgeService(engine, poll_seconds=0)
    writer.load_index()
    reader.load_index()
    writer.save_entry(_entry(), "staff")
    assert _top_id(reader, "老年人优待证怎么办理") == "e-1"
    writer.set_status("e-1", "archived", "staff")
    assert _top_id(reader, "老年人优待证怎么办理") is None


def test_seed_knowledge_base_loads_and_answers(seeded_kb):
    assert seeded_kb.count("published") >= 80
    assert len(seeded_kb.terms()) >= 50
    result = seeded_kb.search("社保卡丢了怎么补办")
    assert result.decision in ("answer", "clarify")
    assert "社保卡" in result.candidates[0].question or "社会保障卡" in result.candidates[0].question


def test_a_failed_rebuild_leaves_an_empty_index_that_the_next_search_rebuilds(kb, monkeypatch):
    kb.save_entry(_entry(), "staff")
    kb.save_entry(_entry("e-2", "高龄津贴怎么申请？"), "staff")
    assert kb.load_index() == 2

    def broken(*_args):
        raise RuntimeError("refit failed")

    monkeypatch.setattr(EntryStore, "refit_semantic", broken)
    with pytest.raises(RuntimeError, match="refit failed"):
        kb.load_index()
    assert len(kb.index) == 0 and not kb.index_loaded  # not half of an index
    with pytest.raises(RuntimeError, match="refit failed"):
        kb.search("高龄津贴怎么申请")  # tries again, and says so when it fails again
    monkeypatch.undo()
    assert _top_id(kb, "高龄津贴怎么申请") == "e-2" and len(kb.index) == 2


def test_searches_go_on_while_a_rebuild_prunes_the_vector_cache(kb, monkeypatch):
    """A prune large enough to compact the cache file takes a second or so: load_index runs it
    after letting go of the lock that searches wait on."""
    kb.save_entry(_entry(), "staff")
    pruning, release, found = threading.Event(), threading.Event(), []

    def slow_prune() -> int:
        pruning.set()
        release.wait(10)
        return 0

    monkeypatch.setattr(kb.index, "prune_vectors", slow_prune)
    loader = threading.Thread(target=kb.load_index)
    loader.start()
    try:
        assert pruning.wait(10)
        searcher = threading.Thread(target=lambda: found.append(_top_id(kb, "老年人优待证怎么办")))
        searcher.start()
        searcher.join(5)
        assert found == ["e-1"]  # answered while the prune still runs
    finally:
        release.set()
        loader.join(10)


def test_a_save_goes_through_while_a_prune_holds_the_vector_cache(kb):
    """A prune that compacts the cache holds it for a second or so; a staff save, which holds
    the index lock that searches wait on, encodes its questions afresh instead of waiting."""
    encoder = kb.index._encoder
    if encoder is None or encoder._cache is None:
        missing("needs the installed sentence encoder and its cache")
    done = []
    with encoder._cache._lock:  # what VectorCache.prune holds
        saver = threading.Thread(target=lambda: done.append(
            kb.save_entry(_entry(question="残疾人两项补贴怎么申请？"), "staff")))
        saver.start()
        saver.join(10)
        assert done, "the save waited for the prune"
        assert _top_id(kb, "残疾人两项补贴怎么申请") == "e-1"
