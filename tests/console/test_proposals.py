"""An editor's change to a published entry waits as a proposal: the live answer stays until
a reviewer publishes it; a proposal overtaken by another change is refused; one returned
changes nothing."""
from __future__ import annotations

from tests.console.conftest import page_csrf, post_form, sign_in


async def propose(console, seeded_kb, answer: str) -> int:
    entry = seeded_kb.get_entry("shebao-enroll")
    await sign_in(console, "editor")
    csrf = await page_csrf(console)
    resp = await post_form(console, "/admin/entries/shebao-enroll",
                           {"question": entry["question"], "answer": answer,
                            "category": entry["category"], "version": entry["version"]}, csrf)
    assert resp.status == 303
    page = await (await console.get("/admin/proposals")).text()
    return int(page.split("<caption>共 ")[1].split(" 条")[0])


async def test_a_reviewer_publishes_an_editors_change(console, seeded_kb) -> None:
    before = seeded_kb.get_entry("shebao-enroll")
    assert await propose(console, seeded_kb, "编辑改写的新答案。") == 1
    assert seeded_kb.get_entry("shebao-enroll")["answer"] == before["answer"]
    page = await (await console.get("/admin/entries/shebao-enroll")).text()
    assert "editor 提议的修改" in page and '<ins aria-label="新增">' in page
    assert "发布此修改" not in page  # not for editors
    bad = await post_form(console, "/admin/entries/shebao-enroll",
                          {"question": "", "answer": "x", "version": before["version"]},
                          await page_csrf(console))
    assert bad.status == 400  # a proposal is checked like a save
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console)
    page = await (await console.get("/admin/entries/shebao-enroll")).text()
    assert "发布此修改" in page
    done = await post_form(console, "/admin/proposals/1", {"action": "apply"}, csrf)
    assert done.status == 303
    after = seeded_kb.get_entry("shebao-enroll")
    assert after["answer"] == "编辑改写的新答案。" and after["status"] == "published"
    again = await post_form(console, "/admin/proposals/1", {"action": "apply"}, csrf)
    assert again.status == 409
    assert "proposal_apply" in await (await console.get("/admin/audit")).text()


async def test_an_overtaken_proposal_is_refused_and_a_returned_one_changes_nothing(
        console, seeded_kb) -> None:
    await propose(console, seeded_kb, "第一个提议。")
    await propose(console, seeded_kb, "第二个提议。")
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console)
    assert (await post_form(console, "/admin/proposals/1", {"action": "apply"}, csrf)).status == 303
    overtaken = await post_form(console, "/admin/proposals/2", {"action": "apply"}, csrf)
    assert overtaken.status == 409 and "已被修改" in await overtaken.text()
    assert seeded_kb.get_entry("shebao-enroll")["answer"] == "第一个提议。"
    returned = await post_form(console, "/admin/proposals/2", {"action": "reject"}, csrf)
    assert returned.status == 303
    assert "没有待审核的修改" in await (await console.get("/admin/proposals")).text()
    assert (await post_form(console, "/admin/proposals/99", {"action": "apply"}, csrf)).status == 404
