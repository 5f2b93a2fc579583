"""Save screenshots of the staff console's main pages (the demo console, no model needed).

Usage:
    python -m bench.console_screenshots

Writes ``docs/screenshots/console-*.png``.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import List

from bench.console_demo import PASSWORD, demo_console
from bench.screenshots import ARGS, CHROMIUM, OUT

PAGES = {"entries": "/admin/entries", "entry": "/admin/entries/shebao-card-replace",
         "try": "/admin/try?q=社保卡坏了怎么办", "queue": "/admin/queue",
         "handoff": "/admin/handoffs/{handoff}", "confusable": "/admin/confusable",
         "dashboard": "/admin/dashboard"}


def shoot(out: Path = OUT) -> List[Path]:
    """Sign in as a reviewer and capture each page at desktop width."""
    from playwright.sync_api import sync_playwright

    from tests.web.fake_app import ServerThread
    demo = demo_console(Path(tempfile.mkdtemp(prefix="govbot-console-shots-")))
    server = ServerThread(app=demo.app).start()
    written = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900},
                                       device_scale_factor=1, locale="zh-CN").new_page()
            page.goto(server.url + "/admin/login")
            page.screenshot(path=str(out / "console-login.png"))
            written.append(out / "console-login.png")
            page.get_by_label("用户名").fill("reviewer")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/admin/entries")
            for name, path in PAGES.items():
                page.goto(server.url + path.format(handoff=demo.handoff))
                target = out / f"console-{name}.png"
                page.screenshot(path=str(target))
                written.append(target)
            browser.close()
    finally:
        server.stop()
    return written


if __name__ == "__main__":
    for path in shoot():
        print(path)
    sys.exit(0)
