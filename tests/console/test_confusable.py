"""Confusable entries: pairs counted from the clarifications residents met, with their
questions and picks; merging folds one entry into the other and the bot answers at once."""
from __future__ import annotations

import pytest

from knowledge.confusable import confusable_pairs, merge_entries
from knowledge.errors import ValidationError
from tests.console.conftest import page_csrf, post_form, sign_in

A, B, C = "shebao-card-replace", "shebao-card-loss", "pension-auth"


def log_offers(records) -> None:
    for query in ("社保卡坏了", "社保卡不见了", "社保卡坏了"):
        records.log_question(query, "web", "clarify", "", [A, B, C])
    records.log_question("1", "web", "chosen", B, [A, B, C])
    records.log_question("退休认证", "web", "clarify", "", [C, A])
    records.log_question("你好", "web", "answer", A)


def test_pairs_are_counted_with_their_questions_and_picks(engine, seeded_kb, records) -> None:
    log_offers(records)
    first, second = confusable_pairs(engine)
    assert (first["a"], first["b"], first["count"]) == (B, A, 3) or \
        (first["a"], first["b"], first["count"]) == (A, B, 3)
    assert first["questions"] == ["社保卡坏了", "社保卡不见了"]
    assert first["picked"] == {B: 1} and first["a_title"] and first["b_title"]
    assert second["count"] == 1


def test_merging_folds_one_entry_into_the_other(engine, seeded_kb) -> None:
    folded = seeded_kb.get_entry(B)
    merged = merge_entries(seeded_kb, A, B, "reviewer")
    assert folded["question"] in merged["similar_questions"]
    assert seeded_kb.get_entry(B)["status"] == "archived"
    result = seeded_kb.search(folded["question"])
    assert result.candidates[0].id == A
    with pytest.raises(ValidationError):
        merge_entries(seeded_kb, A, A, "reviewer")
    with pytest.raises(ValidationError):
        merge_entries(seeded_kb, A, "no-such", "reviewer")


async def test_the_report_page_and_merge_by_role(console, seeded_kb, records) -> None:
    log_offers(records)
    await sign_in(console, "editor")
    page = await (await console.get("/admin/confusable")).text()
    assert "反问 3 次" in page and "社保卡不见了" in page and "合并：保留" not in page
    csrf = await page_csrf(console, "/admin/confusable")
    refused = await post_form(console, "/admin/confusable/merge", {"keep": A, "fold": B}, csrf)
    assert refused.status == 403
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console, "/admin/confusable")
    done = await post_form(console, "/admin/confusable/merge", {"keep": A, "fold": B}, csrf)
    assert done.status == 303 and seeded_kb.get_entry(B)["status"] == "archived"
    same = await post_form(console, "/admin/confusable/merge", {"keep": A, "fold": A}, csrf)
    assert same.status == 400
