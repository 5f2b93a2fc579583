"""The keypad catalog: categories largest first, entries most asked first, published only."""
from __future__ import annotations

import knowledge.catalog as catalog_module
from knowledge.catalog import KbCatalog


def test_entries_are_ordered_by_how_often_they_were_asked(seeded_kb, records,
                                                          monkeypatch) -> None:
    catalog = KbCatalog(seeded_kb.engine)
    first = catalog.categories()[0]
    before = catalog.entries(first)
    assert len(before) >= 3
    last_id, middle_id = before[-1][0], before[len(before) // 2][0]
    for _ in range(3):
        records.log_question("问题", "web", "answer", last_id)
    records.log_question("问题", "phone", "chosen", middle_id)
    records.log_question("问题", "web", "none")
    assert catalog.entries(first) == before  # the counts are read again every few minutes
    monkeypatch.setattr(catalog_module, "RECOUNT_S", 0.0)
    after = [eid for eid, _ in catalog.entries(first)]
    assert after[:2] == [last_id, middle_id]
    rest = [eid for eid, _ in before if eid not in (last_id, middle_id)]
    assert after[2:] == rest  # the others keep the order they were added in
    assert catalog.categories()[0] == first  # the first menu does not move with the counts


def test_categories_come_largest_first_and_drafts_are_left_out(seeded_kb) -> None:
    catalog = KbCatalog(seeded_kb.engine)
    sizes = [len(catalog.entries(c)) for c in catalog.categories()]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) > 0
    eid = catalog.entries(catalog.categories()[0])[0][0]
    assert catalog.entry(eid)["question"]
    assert catalog.entry("no-such-entry") is None
