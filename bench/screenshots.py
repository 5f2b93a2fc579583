"""Save screenshots of the web chat in each mode at desktop width and at 320 px.

Usage:
    python -m bench.screenshots --url http://127.0.0.1:8080        # a running `govbot serve`
    python -m bench.screenshots --demo                               # fixture replies, no model needed

Writes ``docs/screenshots/{default,elder,contrast}-{desktop,320}.png``.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence

_LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTIONS = ["怎么办证件", "社保卡丢了怎么办"]
SIZES = {"desktop": (1280, 900), "320": (320, 640)}


def _ask(page: Any, text: str) -> None:
    before = page.locator("#log-list > li.msg-bot").count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#log-list > li.msg-bot').length > n && "
        "document.getElementById('log').getAttribute('aria-busy') === 'false'", arg=before, timeout=60000)


def shoot(url: str, out: Path, questions: Sequence[str]) -> List[Path]:
    """Drive chromium through each mode and size; returns the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for mode in ("default", "elder", "contrast"):
            for size, (width, height) in SIZES.items():
                context = browser.new_context(viewport={"width": width, "height": height},
                                              device_scale_factor=1, locale="zh-CN")
                page = context.new_page()
                page.goto(url.rstrip("/") + "/")
                page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
                page.click("#welcome-yes" if mode == "elder" else "#welcome-no")
                if mode == "contrast":
                    page.click("#sw-contrast")
                for question in questions:
                    _ask(page, question)
                page.evaluate("document.activeElement.blur()")
                guide = page.locator(".guide").first
                if size == "desktop" and guide.count():
                    guide.evaluate("g => g.closest('li').scrollIntoView({block: 'start'})")
                path = out / f"{mode}-{size}.png"
                page.screenshot(path=str(path), full_page=size == "320")
                written.append(path)
                context.close()
        browser.close()
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="base URL of a running govbot server")
    parser.add_argument("--demo", action="store_true", help="serve the page with fixture replies")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--ask", action="append", help="question to ask (repeatable)")
    args = parser.parse_args(argv)
    if not args.url and not args.demo:
        parser.error("give --url or --demo")
    questions = args.ask or QUESTIONS
    server = None
    if args.demo:
        sys.path.insert(0, str(ROOT))
        from tests.web.fake_app import ServerThread

        server = ServerThread().start()
    try:
        for path in shoot(args.url or server.url, args.out, questions):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
