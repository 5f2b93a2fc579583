"""The unanswered queue (grouped; a question becomes a similar question and the bot answers
it), terms that reach the search at once, the dashboard's figures and the audit log."""
from __future__ import annotations

import re

from console.queue import group, group_key
from tests.console.conftest import page_csrf, post_form, sign_in

ASKED = "社保登记到底去哪个地方弄啊"


def test_questions_differing_in_punctuation_or_politeness_are_grouped() -> None:
    assert group_key("请问，社保卡怎么补办？") == group_key("社保卡怎么补办呢")
    items = [{"id": 1, "query": "甲", "candidates": [{"id": "a"}]},
             {"id": 2, "query": "乙", "candidates": [{"id": "a"}]},
             {"id": 3, "query": "丙？", "candidates": []},
             {"id": 4, "query": "丙", "candidates": []}]
    assert [[i["id"] for i in g["items"]] for g in group(items)] == [[1, 2], [3, 4]]


async def test_a_queued_question_becomes_a_similar_question_and_is_answered(
        console, seeded_kb, records) -> None:
    before = seeded_kb.search(ASKED)
    assert not (before.decision == "answer" and before.candidates[0].id == "shebao-enroll")
    item = records.log_unanswered(ASKED, "web", "resident-1", before)
    records.log_unanswered(ASKED + "？", "wechat", "resident-2", before)
    await sign_in(console, "reviewer")
    page = await (await console.get("/admin/queue")).text()
    assert ASKED in page and "web" in page and "wechat" in page
    assert "用这个问题新建条目" in page and "/admin/entries/new?question=" in page
    csrf = await page_csrf(console, "/admin/queue")
    added = await post_form(console, f"/admin/queue/{item}/similar",
                            {"entry": "shebao-enroll"}, csrf)
    assert added.status == 303
    assert ASKED in seeded_kb.get_entry("shebao-enroll")["similar_questions"]
    after = seeded_kb.search(ASKED)
    assert after.decision == "answer" and after.candidates[0].id == "shebao-enroll"
    assert records.get_unanswered(item)["status"] == "done"
    done = await (await console.get("/admin/queue?status=done")).text()
    assert ASKED in done


async def test_an_editor_proposes_from_the_queue_and_a_reviewer_publishes(console, seeded_kb,
                                                                          records) -> None:
    item = records.log_unanswered(ASKED, "web", "r", None)
    await sign_in(console, "editor")
    csrf = await page_csrf(console, "/admin/queue")
    proposed = await post_form(console, f"/admin/queue/{item}/similar",
                               {"entry": "shebao-enroll"}, csrf)
    assert proposed.status == 303 and "proposed=" in proposed.headers["Location"]
    assert ASKED not in seeded_kb.get_entry("shebao-enroll")["similar_questions"]  # not live yet
    assert records.get_unanswered(item)["status"] == "pending"
    unknown = await post_form(console, f"/admin/queue/{item}/similar", {"entry": "nope"}, csrf)
    assert unknown.status == 400
    moved = await post_form(console, f"/admin/queue/{item}/status", {"status": "ignored"},
                            csrf)
    assert moved.status == 303 and records.get_unanswered(item)["status"] == "ignored"
    bad = await post_form(console, f"/admin/queue/{item}/status", {"status": "gone"}, csrf)
    assert bad.status == 400
    missing = await post_form(console, "/admin/queue/99999/status", {"status": "done"}, csrf)
    assert missing.status == 404


async def test_a_new_term_reaches_the_search_at_once(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    csrf = await page_csrf(console, "/admin/terms")
    empty = await post_form(console, "/admin/terms", {"variant": "", "standard": "社保"}, csrf)
    assert empty.status == 400 and "不能为空" in await empty.text()
    saved = await post_form(console, "/admin/terms", {"variant": "劳保本", "standard": "社保卡"},
                            csrf)
    assert saved.status == 303 and seeded_kb.terms()["劳保本"] == "社保卡"
    page = await (await console.get("/admin/terms?q=劳保本")).text()
    assert "<td>劳保本</td><td>社保卡</td>" in page
    removed = await post_form(console, "/admin/terms/delete", {"variant": "劳保本"}, csrf)
    assert removed.status == 303 and "劳保本" not in seeded_kb.terms()


async def test_the_dashboard_counts_questions_by_day_channel_and_decision(console,
                                                                          records) -> None:
    for channel, decision, entry in [("web", "answer", "shebao-enroll"),
                                     ("web", "answer", "shebao-enroll"),
                                     ("wechat", "clarify", ""), ("phone", "none", ""),
                                     ("web", "chosen", "shebao-enroll")]:
        records.log_question("问题", channel, decision, entry)
    records.log_unanswered("量子计算机", "phone", "r", None)
    await sign_in(console, "editor")
    page = await (await console.get("/admin/dashboard")).text()
    assert "<td>web</td><td>3</td>" in page and "<td>wechat</td><td>1</td>" in page
    assert "<td>直接回答</td><td>2</td><td>50.0%</td>" in page
    assert "<td>无法回答</td><td>1</td><td>25.0%</td>" in page
    assert "<td>怎么办理社会保险参保登记？</td><td>3</td>" in page
    assert "<td>量子计算机</td><td>1</td>" in page
    assert '<svg class="bars" role="img"' in page and "每天的提问数（数据表）" in page
    assert re.search(r"<tr><td>\d\d-\d\d</td><td>5</td></tr>", page)
