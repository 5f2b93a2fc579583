"""End to end: the page in Debian chromium against ``govbot serve`` with the trained Rasa model."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from tests.web.helpers import ask, run_axe, wait_replies

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser: Any, live_server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True,
                                  locale="zh-CN")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.goto(live_server.url + "/")
    pg.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    yield pg
    context.close()


def test_answer_follow_up_clarify_choose_through_rasa(page, axe_source):
    ask(page, "社保卡丢了怎么补办")
    assert page.locator(".guide").count() >= 1
    ask(page, "要带什么材料")
    assert "居民身份证" in page.locator("#log-list > li.msg-bot").last.inner_text()
    ask(page, "社保卡")
    assert page.locator(".candidate").count() >= 2
    title = page.locator(".candidate").nth(1).inner_text().strip().splitlines()[-1].strip("？? ")
    ask(page, "2")
    last = page.locator("#log-list > li.msg-bot").last.inner_text()
    assert title[-5:] in last, (title, last)
    assert run_axe(page, axe_source) == []
    assert page.errors == []


def test_a_resident_who_cannot_name_the_service_browses_by_topic(page, axe_source):
    ask(page, "我也不知道该问啥")
    topics = page.locator("#log-list > li.msg-bot").last.locator(".msg-actions button")
    assert topics.first.inner_text() == "社保" and topics.last.inner_text() == "转人工"
    before = page.locator("#log-list > li.msg-bot").count()
    topics.filter(has_text="医保").first.click()
    wait_replies(page, before + 1)
    entries = page.locator("#log-list > li.msg-bot").last.locator(".candidate")
    assert entries.count() >= 3
    title = entries.nth(1).inner_text().strip().splitlines()[-1].strip("？? ")
    entries.nth(1).focus()
    page.keyboard.press("Enter")  # by keyboard alone
    wait_replies(page, before + 2)
    assert title[-5:] in page.locator("#log-list > li.msg-bot").last.inner_text()
    assert run_axe(page, axe_source) == []
    assert page.errors == []


def test_kb_answer_with_markup_renders_inert(page, live_server):
    from knowledge.db import make_engine
    from knowledge.schema import EntryInput
    from knowledge.service import KnowledgeService
    kb = KnowledgeService(make_engine(live_server.env["GOVBOT_DATABASE_URL"]))
    kb.save_entry(EntryInput.from_mapping({
        "id": "xss-probe", "question": "冰壶馆开放时间是什么时候？",
        "answer": "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>每天九点开放。"}),
        "staff")
    time.sleep(2.5)  # the server picks up other processes' edits within GOVBOT_KB_POLL_SECONDS
    ask(page, "冰壶馆开放时间是什么时候")
    last = page.locator("#log-list > li.msg-bot").last
    assert "<img src=x" in last.inner_text()
    assert last.locator("img, script").count() == 0
    assert page.evaluate("window.__xss === undefined")


def test_staff_take_over_reply_and_hand_back_a_web_conversation(page, browser, live_server,
                                                                axe_source):
    """A resident asks for a person; staff take the conversation in the console, reply live
    (the bot stays quiet), and hand it back; then the bot answers again."""
    import subprocess
    import sys

    from tests.conftest import ROOT
    made = subprocess.run([sys.executable, "-m", "bot.cli", "admin", "create-user", "wangfang",
                           "--role", "editor", "--password-stdin"],
                          input="correct horse battery\n", text=True, cwd=ROOT,
                          env=live_server.env, capture_output=True, timeout=120)
    assert made.returncode == 0 or "已存在" in made.stderr, made.stderr
    ask(page, "我要转人工")
    assert "转接单号" in page.locator("#log-list > li.msg-bot").last.inner_text()
    staff = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    staff.goto(live_server.url + "/admin/login")
    staff.get_by_label("用户名").fill("wangfang")
    staff.get_by_label("密码").fill("correct horse battery")
    staff.get_by_role("button", name="登录").click()
    staff.get_by_role("link", name="转人工").first.click()
    staff.locator("a", has_text="转接单").last.click()
    assert staff.get_by_text("我要转人工").count() >= 1  # the transcript
    staff.get_by_role("button", name="接手这个对话").click()
    staff.get_by_label("回复居民").fill("您好，我是王芳，请问您要办什么业务？")
    staff.get_by_role("button", name="发送").click()
    page.wait_for_function("() => [...document.querySelectorAll('#log-list > li')]"
                           ".some(li => li.innerText.includes('我是王芳'))", timeout=15000)
    bots_before = page.locator("#log-list > li.msg-bot").count()
    page.fill("#input", "我的社保卡丢了")
    page.press("#input", "Enter")
    staff.get_by_text("我的社保卡丢了").wait_for(timeout=15000)  # the page polls for it
    assert page.locator("#log-list > li.msg-bot").count() == bots_before  # the bot is quiet
    assert run_axe(staff, axe_source) == []
    staff.get_by_role("button", name="交还机器人").click()
    page.wait_for_function("() => [...document.querySelectorAll('#log-list > li')]"
                           ".some(li => li.innerText.includes('交回智能助手'))", timeout=15000)
    ask(page, "社保卡丢了怎么补办")
    assert page.locator(".guide").count() >= 1
    assert page.errors == []
    staff.context.close()


def test_staff_replies_reach_a_page_whose_network_blocks_websockets(browser, live_server):
    """WebSockets never open: the page talks over plain HTTP, and still shows staff replies,
    which it asks for every few seconds."""
    from knowledge.db import make_engine
    from knowledge.handoffs import HandoffDesk
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    context.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.goto(live_server.url + "/")
    pg.wait_for_function("() => document.documentElement.dataset.connection === 'open'",
                         timeout=20000)  # after four failed sockets
    ask(pg, "我要转人工")
    said = pg.locator("#log-list > li.msg-bot").last.inner_text()
    handoff_id = int(re.search(r"转接单号\D*(\d+)", said).group(1))
    desk = HandoffDesk(make_engine(live_server.env["GOVBOT_DATABASE_URL"]))
    desk.take(handoff_id, "wang")
    desk.reply(handoff_id, "wang", "您好，我是王芳，请讲。")
    pg.wait_for_function("() => [...document.querySelectorAll('#log-list > li')]"
                         ".some(li => li.innerText.includes('我是王芳'))", timeout=15000)
    assert pg.errors == []
    context.close()
