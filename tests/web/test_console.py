"""The staff console in a real browser: axe-core on every page, keyboard sign-in, and the key
flows as each role (an editor's draft, a reviewer's publishing, an edit conflict between two
browsers, restoring a version, a queued question made a similar question)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from bench.console_demo import ASKED, PASSWORD, demo_console
from tests.web.fake_app import ServerThread
from tests.web.helpers import run_axe

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console_server() -> Iterator[ServerThread]:
    """The demo console: a seeded knowledge base, one account per role, a queued question."""
    demo = demo_console(Path(tempfile.mkdtemp(prefix="govbot-console-")))
    server = ServerThread(app=demo.app).start()
    server.kb, server.handoff, server.ticket = demo.kb, demo.handoff, demo.ticket
    yield server
    server.stop()
    demo.kb.engine.dispose()


@pytest.fixture
def signed_in(browser: Any, console_server: ServerThread) -> Iterator[Any]:
    """Factory: a fresh browser context signed in as a role, by keyboard."""
    contexts = []

    def make(role: str) -> Any:
        context = browser.new_context(locale="zh-CN", bypass_csp=True,
                                      viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(console_server.url + "/admin/entries")
        assert page.url.endswith("/admin/login")
        page.get_by_label("用户名").focus()
        page.keyboard.type(role)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/admin/entries")
        return page

    yield make
    for context in contexts:
        context.close()


def test_every_page_is_axe_clean(signed_in: Any, console_server: ServerThread,
                                 axe_source: str, browser: Any) -> None:
    anonymous = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    anonymous.goto(console_server.url + "/admin/login")
    assert run_axe(anonymous, axe_source) == []
    anonymous.get_by_label("用户名").fill("nobody")
    anonymous.get_by_label("密码").fill("wrong password!")
    anonymous.get_by_role("button", name="登录").click()
    assert anonymous.get_by_role("alert").is_visible()
    assert run_axe(anonymous, axe_source) == []
    anonymous.context.close()
    page = signed_in("admin")
    for path in ("/admin/entries", "/admin/entries?status=published&page=2",
                 "/admin/entries/new", "/admin/entries/shebao-enroll",
                 "/admin/entries/shebao-enroll/history", "/admin/try?q=社保卡丢了怎么补办",
                 "/admin/try?q=社保", "/admin/queue", "/admin/queue?status=done",
                 "/admin/terms", "/admin/dashboard", "/admin/audit", "/admin/users",
                 "/admin/entries/no-such-entry", "/admin/handoffs",
                 f"/admin/handoffs/{console_server.handoff}", "/admin/tickets",
                 f"/admin/tickets/{console_server.ticket}", "/admin/transfer",
                 "/admin/confusable"):
        page.goto(console_server.url + path)
        assert page.locator("nav[aria-label='工作台导航']").count() == 1, path
        assert run_axe(page, axe_source) == [], path
    page.goto(console_server.url + "/admin/entries/new")
    page.get_by_role("button", name="保存").click()  # required fields: the browser says so
    assert page.url.endswith("/admin/entries/new")
    page.get_by_label("编号（必填）").fill("empty-answer")
    page.get_by_label("标准问题（必填）").fill("只有问题")
    page.get_by_label("完整答案（必填）").fill("   ")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("标准问题（必填）").input_value() == "只有问题"
    assert run_axe(page, axe_source) == []


def test_an_editors_draft_is_published_by_a_reviewer(signed_in: Any,
                                                     console_server: ServerThread) -> None:
    editor = signed_in("editor")
    editor.get_by_role("link", name="新建条目").click()
    editor.get_by_label("编号（必填）").fill("elder-bus-card")
    editor.get_by_label("标准问题（必填）").fill("老年人乘公交卡在哪里办理")
    editor.get_by_label("完整答案（必填）").fill("年满65周岁的老年人可持身份证到社区服务站申领公交卡。")
    editor.get_by_role("button", name="保存").click()
    editor.get_by_text("已保存。").wait_for()
    assert editor.get_by_role("button", name="发布").count() == 0  # editors cannot publish
    reviewer = signed_in("reviewer")
    reviewer.goto(console_server.url + "/admin/entries?status=draft")
    reviewer.get_by_role("link", name="elder-bus-card").click()
    reviewer.get_by_role("button", name="发布").click()
    reviewer.get_by_text("已发布").first.wait_for()
    assert console_server.kb.search("老年人乘公交卡在哪里办理").candidates[0].id == "elder-bus-card"


def test_two_browsers_editing_one_entry_and_restoring_a_version(
        signed_in: Any, console_server: ServerThread) -> None:
    first, second = signed_in("reviewer"), signed_in("admin")
    for page in (first, second):
        page.goto(console_server.url + "/admin/entries/pension-auth")
    first.get_by_label("简短答案（电话先读这一句）").fill("第一位的简短答案。")
    first.get_by_role("button", name="保存").click()
    first.get_by_text("已保存。").wait_for()
    second.get_by_label("简短答案（电话先读这一句）").fill("第二位的简短答案。")
    second.get_by_role("button", name="保存").click()
    second.get_by_role("heading", name="内容冲突").first.wait_for()
    assert second.get_by_text("第一位的简短答案。").count() >= 1
    assert second.get_by_text("第二位的简短答案。").count() >= 1
    assert console_server.kb.get_entry("pension-auth")["short_answer"] == "第一位的简短答案。"
    second.get_by_role("link", name="放弃我的修改，打开最新版本").click()
    second.get_by_role("link", name="版本历史").click()
    second.get_by_role("button", name="恢复到版本 1").click()
    second.get_by_role("heading", name="条目 pension-auth 的版本历史").wait_for()
    assert console_server.kb.get_entry("pension-auth")["short_answer"] != "第一位的简短答案。"


def test_a_queued_question_becomes_a_similar_question(signed_in: Any,
                                                      console_server: ServerThread) -> None:
    page = signed_in("reviewer")
    page.get_by_role("link", name="待答问题").click()
    page.get_by_role("heading", name=ASKED).wait_for()
    field = page.get_by_label("加为相似问题，条目编号").first
    field.fill("shebao-enroll")
    page.get_by_role("button", name="加入").first.click()
    page.get_by_text("机器人现在就能回答这种问法").wait_for()
    page.goto(console_server.url + "/admin/try?q=" + ASKED)
    assert page.get_by_text("直接回答").count() >= 1
    assert page.locator("td a", has_text="shebao-enroll").first.is_visible()


def test_permissions_in_the_browser(browser: Any, signed_in: Any, console_server: ServerThread,
                                    axe_source: str) -> None:
    """Anonymous pages go to the sign-in page; an editor's forged publish and a form without
    its CSRF token are refused; five wrong passwords lock the account."""
    anonymous = browser.new_context(locale="zh-CN").new_page()
    for path in ("/admin/entries", "/admin/export?format=csv", "/admin/handoffs"):
        anonymous.goto(console_server.url + path)
        assert anonymous.url.endswith("/admin/login"), path
    api = anonymous.request.get(console_server.url + "/admin/api/handoffs/1/messages")
    assert api.status == 401
    for _ in range(5):
        anonymous.goto(console_server.url + "/admin/login")
        anonymous.get_by_label("用户名").fill("admin")
        anonymous.get_by_label("密码").fill("a wrong password")
        anonymous.get_by_role("button", name="登录").click()
    anonymous.goto(console_server.url + "/admin/login")
    anonymous.get_by_label("用户名").fill("admin")
    anonymous.get_by_label("密码").fill(PASSWORD)
    anonymous.get_by_role("button", name="登录").click()
    assert "锁定" in anonymous.get_by_role("alert").inner_text()
    assert run_axe(anonymous, axe_source) == []
    anonymous.context.close()
    editor = signed_in("editor")
    editor.goto(console_server.url + "/admin/entries/pension-claim")
    assert editor.get_by_role("button", name="发布").count() == 0
    csrf = editor.locator("input[name=csrf]").first.get_attribute("value")
    forged = editor.request.post(console_server.url + "/admin/entries/pension-claim/status",
                                 form={"csrf": csrf, "status": "archived"})
    assert forged.status == 403
    no_token = editor.request.post(console_server.url + "/admin/terms",
                                   form={"variant": "劳保", "standard": "社保"})
    assert no_token.status == 403 and "CSRF" in no_token.text()
    editor.get_by_label("简短答案（电话先读这一句）").fill("编辑提议的简短答案。")
    editor.get_by_role("button", name="保存").click()
    editor.get_by_text("修改已提交，等待审核员发布。").wait_for()
    assert console_server.kb.get_entry("pension-claim")["short_answer"] != "编辑提议的简短答案。"
    reviewer = signed_in("reviewer")
    reviewer.goto(console_server.url + "/admin/proposals")
    assert run_axe(reviewer, axe_source) == []
    reviewer.get_by_role("link", name="pension-claim", exact=False).first.click()
    assert run_axe(reviewer, axe_source) == []
    reviewer.get_by_role("button", name="发布此修改").click()
    reviewer.get_by_text("已保存。").wait_for()
    assert console_server.kb.get_entry("pension-claim")["short_answer"] == "编辑提议的简短答案。"
