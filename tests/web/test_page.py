"""The chat page in a real browser: axe-core, target sizes, fonts, reflow, zoom, keyboard, aria-busy."""
from __future__ import annotations

import logging
from typing import Any, Callable

import pytest

from tests.web.helpers import (CLIPPING_JS, FOCUS_JS, FONTS_JS, TARGETS_JS, ask, converse, run_axe,
                               set_mode)

_LOGGER = logging.getLogger(__name__)
pytestmark = pytest.mark.browser
MODES = ["default", "elder", "contrast"]


@pytest.mark.parametrize("mode", MODES)
def test_axe_clean_before_and_after_conversation(new_page: Callable[..., Any], axe_source: str,
                                                 mode: str) -> None:
    page = new_page(axe=True)
    set_mode(page, mode)
    assert run_axe(page, axe_source) == []
    converse(page)
    page.click(".view-toggle button[data-view='short']")  # the short view too
    assert run_axe(page, axe_source) == []
    assert page.errors == []


def test_axe_clean_at_320px(new_page: Callable[..., Any], axe_source: str) -> None:
    page = new_page(width=320, height=640, axe=True)
    set_mode(page, "elder")
    converse(page)
    assert run_axe(page, axe_source) == []


@pytest.mark.parametrize("mode,minimum", [("default", 44), ("elder", 60), ("contrast", 44)])
def test_every_target_is_large_enough(new_page: Callable[..., Any], mode: str, minimum: int) -> None:
    page = new_page()
    assert page.evaluate(TARGETS_JS, 44) == []  # first screen, incl. the first-visit prompt
    set_mode(page, mode)
    converse(page)
    assert page.evaluate(TARGETS_JS, minimum) == []


def test_elder_fonts_and_line_height(new_page: Callable[..., Any]) -> None:
    page = new_page()
    set_mode(page, "elder")
    converse(page)
    texts = page.evaluate(FONTS_JS)
    assert len(texts) > 40
    small = [t for t in texts if t["size"] < 22]
    tight = [t for t in texts if t["lh"] < 1.5 - 1e-3]
    assert small == [] and tight == []
    page.click("#font-up")
    page.click("#font-up")
    texts = page.evaluate(FONTS_JS)
    assert min(t["size"] for t in texts) >= 30
    assert page.locator("#status").inner_text() == "字号：大"


def test_default_mode_is_smaller_than_elder(new_page: Callable[..., Any]) -> None:
    page = new_page()
    default = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#input')).fontSize)")
    set_mode(page, "elder")
    elder = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#input')).fontSize)")
    assert 16 <= default < 22 <= elder


@pytest.mark.parametrize("mode", MODES)
def test_reflow_at_320px(new_page: Callable[..., Any], mode: str) -> None:
    page = new_page(width=320, height=640)
    set_mode(page, mode)
    converse(page)
    page.click("#font-up")
    assert page.evaluate(CLIPPING_JS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_200_percent_zoom_and_text_size(new_page: Callable[..., Any]) -> None:
    # Browser zoom 200% on a 1280×800 window leaves a 640×400 CSS-pixel viewport.
    page = new_page(width=640, height=400)
    converse(page)
    assert page.evaluate(CLIPPING_JS) == []
    page.locator("#handoff").scroll_into_view_if_needed()
    assert page.locator("#handoff").is_visible()
    # 200% text size (WCAG 1.4.4) at desktop width, in every mode.
    page = new_page()
    converse(page)
    page.evaluate("document.documentElement.style.fontSize = 'calc((var(--base) + var(--step) * 0.25) * 200%)'")
    for mode in MODES:
        page.evaluate("m => { const c = document.documentElement.classList;"
                      " c.toggle('elder', m === 'elder'); c.toggle('contrast', m === 'contrast'); }", mode)
        assert page.evaluate(CLIPPING_JS) == [], mode


@pytest.mark.parametrize("mode", MODES)
def test_tab_walk_reaches_everything_with_visible_focus(new_page: Callable[..., Any], mode: str) -> None:
    page = new_page()
    set_mode(page, mode)
    converse(page)
    page.focus(".skip-link")  # the first focusable element of the page
    seen = [page.evaluate(FOCUS_JS)]
    for _ in range(80):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS_JS)
        if info["uid"] == seen[0]["uid"]:
            break  # walked the whole page and came back: no trap
        seen.append(info)
    else:
        pytest.fail("Tab never came back to the first element: " + str([s["key"] for s in seen]))
    keys = [s["key"] for s in seen]
    for key in (".skip-link", "#sw-elder", "#sw-contrast", "#sw-read", "#font-up", "#log",
                ".candidate", "#input", "#send", "#mic", "#handoff", ".hotline-link"):
        assert key in keys, (key, keys)
    assert keys.count(".candidate") == 3
    order = [keys.index(k) for k in ("#sw-elder", "#log", ".candidate", "#input", "#send", "#handoff")]
    assert order == sorted(order), keys
    for info in seen:
        if not info["visible"]:
            continue
        assert info["style"] != "none" and info["width"] >= 2, info
        assert info["ratio"] >= 3, info
    page.focus("#input")
    page.keyboard.press("Shift+Tab")  # backwards works too
    assert page.evaluate(FOCUS_JS)["uid"] == seen[keys.index("#input") - 1]["uid"]


def test_aria_busy_while_reply_is_written(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.evaluate("""() => {
      window.__events = [];
      new MutationObserver((records) => records.forEach((r) => window.__events.push(
        r.type === 'attributes' ? 'busy=' + r.target.getAttribute('aria-busy')
          : 'added:' + [...r.addedNodes].map((n) => n.className).join(',')))
      ).observe(document.getElementById('log'), {attributes: true, attributeFilter: ['aria-busy'],
                                                 childList: true, subtree: true});
    }""")
    ask(page, "慢回复", wait=False)
    assert page.get_attribute("#log", "aria-busy") == "true"
    assert page.inner_text("#status") == "正在回复…"
    assert "较慢的回复" not in page.inner_text("#log")
    page.wait_for_function("() => document.getElementById('log').getAttribute('aria-busy') === 'false'")
    assert page.inner_text("#status") == ""
    events = [e for e in page.evaluate("window.__events") if e.startswith("busy") or "msg-bot" in e]
    assert events == ["busy=true", "added:msg msg-bot", "busy=false"]
