"""Entries in the console: a draft is invisible until published, edit conflicts, history and
restore, bad input kept in the form, markup made inert, the list's filters, and 试一试."""
from __future__ import annotations

import re

from tests.console.conftest import page_csrf, post_form, sign_in

NEW = {"id": "elder-bus-card", "question": "老年人乘公交卡在哪里办理",
       "similar_questions": "老人公交卡怎么办\n老年卡坐公交免费吗",
       "answer": "年满65周岁的本市常住老年人，可持身份证到社区服务站申领老年人公交卡。",
       "category": "老年人优待", "department": "民政局", "materials": "居民身份证\n近期照片"}


async def test_a_draft_is_invisible_until_a_reviewer_publishes_it(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    csrf = await page_csrf(console)
    made = await post_form(console, "/admin/entries/new", NEW, csrf)
    assert made.status == 303, await made.text()
    entry = seeded_kb.get_entry("elder-bus-card")
    assert entry["status"] == "draft" and entry["materials"] == ["居民身份证", "近期照片"]
    assert entry["similar_questions"] == ["老人公交卡怎么办", "老年卡坐公交免费吗"]
    assert all(c.id != "elder-bus-card" for c in seeded_kb.search("老人公交卡怎么办").candidates)
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console)
    published = await post_form(console, "/admin/entries/elder-bus-card/status",
                                {"status": "published", "version": entry["version"]}, csrf)
    assert published.status == 303
    result = seeded_kb.search("老人公交卡怎么办")
    assert result.decision == "answer" and result.candidates[0].id == "elder-bus-card"
    log = await (await console.get("/admin/audit")).text()
    assert "status_published" in log and "create_entry" in log


async def test_the_second_of_two_edits_gets_the_conflict_page(console, seeded_kb) -> None:
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console)
    entry = seeded_kb.get_entry("shebao-enroll")
    form = {name: (entry[name] if not isinstance(entry[name], list) else "\n".join(entry[name]))
            for name in ("question", "answer", "category", "department")}
    first = await post_form(console, "/admin/entries/shebao-enroll",
                            dict(form, answer="第一位工作人员的答案。", version=entry["version"]),
                            csrf)
    assert first.status == 303
    second = await post_form(console, "/admin/entries/shebao-enroll",
                             dict(form, answer="第二位工作人员的答案。", version=entry["version"]),
                             csrf)
    page = await second.text()
    assert second.status == 409 and "已被他人修改" in page
    assert "第一位工作人员的答案。" in page and "第二位工作人员的答案。" in page
    assert seeded_kb.get_entry("shebao-enroll")["answer"] == "第一位工作人员的答案。"
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    kept = await post_form(console, "/admin/entries/shebao-enroll",
                           dict(form, answer="第二位工作人员的答案。", version=version), csrf)
    assert kept.status == 303  # overwriting on purpose, from the conflict page
    assert seeded_kb.get_entry("shebao-enroll")["answer"] == "第二位工作人员的答案。"


async def test_history_shows_the_change_and_restores_an_old_version(console, seeded_kb) -> None:
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console)
    entry = seeded_kb.get_entry("shebao-enroll")
    old_answer = entry["answer"]
    await post_form(console, "/admin/entries/shebao-enroll",
                    {"question": entry["question"], "answer": "改过的答案。",
                     "version": entry["version"]}, csrf)
    page = await (await console.get("/admin/entries/shebao-enroll/history")).text()
    assert '<ins aria-label="新增">改过的答案</ins>' in page
    restores = re.findall(r'action="/admin/revisions/(\d+)/restore"', page)
    assert len(restores) >= 2
    back = await post_form(console, f"/admin/revisions/{restores[-1]}/restore", {}, csrf)
    assert back.status == 303
    assert seeded_kb.get_entry("shebao-enroll")["answer"] == old_answer


async def test_bad_input_is_refused_in_the_form_with_what_was_typed(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    csrf = await page_csrf(console)
    empty = await post_form(console, "/admin/entries/new", dict(NEW, question=""), csrf)
    page = await empty.text()
    assert empty.status == 400 and "缺少 question" in page and "老年人公交卡" in page
    assert 'aria-invalid="true"' in page
    huge = "很长的答案" * 70_000  # 350,000 characters: about 1 MB of UTF-8
    big = await post_form(console, "/admin/entries/new", dict(NEW, answer=huge), csrf)
    assert big.status == 400 and "answer" in await big.text()
    taken = await post_form(console, "/admin/entries/new", dict(NEW, id="shebao-enroll"), csrf)
    assert taken.status == 409 and "已存在" in await taken.text()
    assert seeded_kb.get_entry("shebao-enroll")["question"] != NEW["question"]
    bad_id = await post_form(console, "/admin/entries/new", dict(NEW, id="有 空格"), csrf)
    assert bad_id.status == 400
    assert seeded_kb.get_entry("elder-bus-card") is None


async def test_markup_is_stored_as_typed_and_shown_inert(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    csrf = await page_csrf(console)
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    made = await post_form(console, "/admin/entries/new",
                           dict(NEW, question="公交卡" + script, answer=script), csrf)
    assert made.status == 303
    assert seeded_kb.get_entry("elder-bus-card")["answer"] == script
    for path in ("/admin/entries/elder-bus-card", "/admin/entries?q=公交卡",
                 "/admin/entries/elder-bus-card/history"):
        page = await (await console.get(path)).text()
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path


async def test_the_list_filters_and_pages(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    page = await (await console.get("/admin/entries")).text()
    total = int(re.search(r"共 (\d+) 条", page).group(1))
    assert total == seeded_kb.count() and page.count('<tr><td><a href="/admin/entries/') == 50
    second = await (await console.get("/admin/entries?page=2")).text()
    assert second.count('<tr><td><a href="/admin/entries/') == min(50, total - 50)
    found = await (await console.get("/admin/entries?q=shebao-enroll")).text()
    assert "共 1 条" in found
    drafts = await (await console.get("/admin/entries?status=draft")).text()
    assert "共 0 条" in drafts
    category = seeded_kb.get_entry("shebao-enroll")["category"]
    narrowed = await (await console.get("/admin/entries", params={"category": category})).text()
    assert 0 < int(re.search(r"共 (\d+) 条", narrowed).group(1)) < total
    assert (await console.get("/admin/entries?page=x")).status == 200


async def test_try_shows_the_decision_the_candidates_and_each_channels_reply(console) -> None:
    await sign_in(console, "editor")
    page = await (await console.get("/admin/try", params={"q": "怎么办理社会保险参保登记",
                                                          "entry": "shebao-enroll"})).text()
    assert "直接回答" in page and "条目 shebao-enroll 排在第一" in page
    for channel in ("网页", "微信", "电话"):
        assert f"<h3>{channel}</h3>" in page
    assert "听详细内容，请按1" in page
    none = await (await console.get("/admin/try", params={"q": "量子计算机的原理是什么"})).text()
    assert "无法回答" in none and "12345" in none
