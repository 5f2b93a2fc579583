"""Page helpers for the browser tests: chatting, axe-core, and the checks axe does not make."""
from __future__ import annotations

import logging
from typing import Any, Dict, List

_LOGGER = logging.getLogger(__name__)

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BOT = "#log-list > li.msg-bot"

_AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""

_VISIBLE = """
  const visible = (el) => {
    if (!el || el.closest('[hidden], .visually-hidden')) return false;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && r.bottom > 0;
  };
"""

TARGETS_JS = """(min) => {""" + _VISIBLE + """
  const sel = 'button, a[href], input, textarea, select, [role=switch], [tabindex]:not([tabindex="-1"])';
  const bad = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.id === 'log' || !visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width < min - 0.5 || r.height < min - 0.5)
      bad.push((el.id || el.className || el.tagName) + ' "' + el.textContent.trim().slice(0, 12) + '" ' +
               Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return bad;
}"""

FONTS_JS = """() => {""" + _VISIBLE + """
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !visible(el) || el.closest('script, style')) continue;
    const cs = getComputedStyle(el);
    const size = parseFloat(cs.fontSize);
    const lh = cs.lineHeight === 'normal' ? 0 : parseFloat(cs.lineHeight) / size;
    out.push({text: node.textContent.trim().slice(0, 16), size, lh});
  }
  return out;
}"""

CLIPPING_JS = """() => {""" + _VISIBLE + """
  const bad = [];
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) bad.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || el.classList.contains('skip-link')) continue;
    const cs = getComputedStyle(el);
    const clips = ['hidden', 'clip'].includes(cs.overflowX) || ['hidden', 'clip'].includes(cs.overflowY);
    if ((clips || el.matches('button, a, label')) &&
        (el.scrollWidth > el.clientWidth + 1 || (clips && el.scrollHeight > el.clientHeight + 1)))
      bad.push('clipped: ' + (el.id || el.className || el.tagName) + ' ' + el.textContent.trim().slice(0, 12));
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 || r.left < -1) bad.push('off-screen: ' + (el.id || el.className || el.tagName));
  }
  return bad;
}"""

FOCUS_JS = """
() => {
  const lum = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    const ch = m.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const bgOf = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const bg = getComputedStyle(n).backgroundColor;
      const alpha = bg.startsWith('rgba') ? parseFloat(bg.split(',')[3]) : 1;
      if (alpha > 0.5) return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const el = document.activeElement;
  if (!el.dataset.tabIndexSeen) el.dataset.tabIndexSeen = String(document.querySelectorAll('[data-tab-index-seen]').length + 1);
  const cs = getComputedStyle(el);
  const bg = bgOf(el.parentElement || el);
  const [a, b] = [lum(cs.outlineColor), lum(bg)];
  return {
    uid: el.dataset.tabIndexSeen,
    key: el.id ? '#' + el.id : (el.className ? '.' + String(el.className).split(' ')[0] : el.tagName.toLowerCase()),
    style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor, bg,
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    visible: el !== document.body && el.getBoundingClientRect().width > 0,
  };
}"""


def run_axe(page: Any, axe_source: str) -> List[Dict[str, Any]]:
    """Inject axe-core (once per document) and return the WCAG 2.2 A/AA violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    return page.evaluate(_AXE_RUN, AXE_TAGS)


def ask(page: Any, text: str, wait: bool = True) -> None:
    """Type ``text``, press Enter, and (by default) wait until the reply is rendered."""
    before = page.locator(BOT).count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    if wait:
        wait_replies(page, before + 1)


def wait_replies(page: Any, count: int, timeout: float = 15000) -> None:
    """Wait until ``count`` bot messages are shown and the log is no longer busy."""
    page.wait_for_function(
        "n => document.querySelectorAll('#log-list > li.msg-bot').length >= n && "
        "document.getElementById('log').getAttribute('aria-busy') === 'false'", arg=count, timeout=timeout)


def sender(page: Any) -> str:
    """The conversation id the page keeps in localStorage, as the channel namespaces it."""
    return "web:" + page.evaluate("JSON.parse(localStorage.getItem('govbot.sender'))")


def converse(page: Any) -> None:
    """A conversation with a clarification (candidates) and a service-guide card."""
    ask(page, "怎么办证件")
    ask(page, "社保卡丢了怎么办")
    assert page.locator(".candidate").count() == 3
    assert page.locator(".guide").count() == 1


def set_mode(page: Any, mode: str) -> None:
    """``default``, ``elder`` (via the first-visit prompt) or ``contrast``."""
    if mode == "elder":
        page.click("#welcome-yes")
        page.wait_for_function("() => document.documentElement.classList.contains('elder')")
    elif mode == "contrast":
        page.click("#welcome-no")
        page.click("#sw-contrast")
        page.wait_for_function("() => document.documentElement.classList.contains('contrast')")
