"""End to end: the page in Debian chromium against ``govbot serve`` with the trained Rasa model."""
from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from tests.web.helpers import ask, run_axe

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
