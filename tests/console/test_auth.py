"""Console access: nothing without signing in, CSRF on every form, cookie flags, rate limits
and lockout, roles, and sign-out."""
from __future__ import annotations

import re

import pytest

from console.auth import LOGIN_TRIES
from tests.console.conftest import PASSWORD, csrf_of, page_csrf, post_form, sign_in

PAGES = ["/admin", "/admin/", "/admin/entries", "/admin/entries/new",
         "/admin/entries/shebao-enroll", "/admin/entries/shebao-enroll/history", "/admin/queue",
         "/admin/terms", "/admin/dashboard", "/admin/audit", "/admin/users",
         "/admin/try?q=社保"]
FORMS = ["/admin/entries/new", "/admin/entries/shebao-enroll",
         "/admin/entries/shebao-enroll/status", "/admin/revisions/1/restore",
         "/admin/queue/1/status", "/admin/queue/1/similar", "/admin/terms",
         "/admin/terms/delete", "/admin/users", "/admin/logout"]


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_pages_go_to_the_sign_in_page(console, path) -> None:
    resp = await console.get(path, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/admin/login"


@pytest.mark.parametrize("path", FORMS)
async def test_anonymous_forms_change_nothing(console, path) -> None:
    resp = await console.post(path, data={"status": "published", "variant": "x"},
                              allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/admin/login"


async def test_anonymous_api_calls_get_401(console) -> None:
    resp = await console.get("/admin/api/entries")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "login_required"
    resp = await console.get("/admin/entries", headers={"Accept": "application/json"})
    assert resp.status == 401


async def test_the_sign_in_form_and_the_landmarks(console) -> None:
    html = await (await console.get("/admin/login")).text()
    assert re.search(r'<label for="username">用户名</label>', html)
    assert re.search(r'<label for="password">密码</label>', html)
    assert '<button type="submit">登录</button>' in html and 'lang="zh-CN"' in html
    signed = await sign_in(console, "editor")
    assert signed.status == 303 and signed.headers["Location"] == "/admin/entries"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the TLS test
    page = await (await console.get("/admin/entries")).text()
    nav = re.search(r'<nav aria-label="工作台导航">(.*?)</nav>', page, re.S).group(1)
    for link in ("/admin/entries", "/admin/queue", "/admin/terms", "/admin/dashboard",
                 "/admin/audit", "/admin/users"):
        assert f'href="{link}"' in nav


async def test_cookies_are_secure_behind_tls(console) -> None:
    console.holder.secure_cookies = True
    page = await console.get("/admin/login")
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # so a browser on plain HTTP sends it nowhere, and the sign-in is refused
    assert (await sign_in(console, "editor")).status == 403


async def test_a_wrong_password_then_lockout(console) -> None:
    for _ in range(4):
        refused = await sign_in(console, "reviewer", "wrong password!")
        assert refused.status == 401 and "用户名或密码不正确" in await refused.text()
    locked = await sign_in(console, "reviewer", "wrong password!")
    assert locked.status == 401 and "锁定" in await locked.text()
    again = await sign_in(console, "reviewer", PASSWORD)
    assert again.status == 401 and "锁定" in await again.text()
    admin = await sign_in(console, "admin")
    assert admin.status == 303
    log = await (await console.get("/admin/audit")).text()
    assert "account_locked" in log and log.count("login_failed") >= 5


async def test_failed_sign_ins_from_one_address_are_rate_limited(console) -> None:
    for i in range(LOGIN_TRIES):
        resp = await sign_in(console, f"nobody{i}", "wrong password!")
        assert resp.status == 401
    limited = await sign_in(console, "editor")  # even the right password waits
    assert limited.status == 429 and "尝试次数过多" in await limited.text()


async def test_forms_without_the_right_csrf_token_are_refused(console, seeded_kb) -> None:
    page = await console.get("/admin/login")
    token = csrf_of(await page.text())
    forged = await console.post("/admin/login", data={"csrf": "forged", "username": "editor",
                                                      "password": PASSWORD},
                                allow_redirects=False)
    assert forged.status == 403
    console.session.cookie_jar.clear()
    no_cookie = await console.post("/admin/login", data={"csrf": token, "username": "editor",
                                                         "password": PASSWORD},
                                   allow_redirects=False)
    assert no_cookie.status == 403
    assert (await sign_in(console, "reviewer")).status == 303
    before = seeded_kb.get_entry("shebao-enroll")
    for token in ("", "x" * 43):
        resp = await post_form(console, "/admin/entries/shebao-enroll/status",
                               {"status": "archived"}, token)
        assert resp.status == 403 and "CSRF" in await resp.text()
    assert seeded_kb.get_entry("shebao-enroll")["status"] == before["status"] == "published"


async def test_an_editor_cannot_publish_and_a_live_change_waits_for_a_reviewer(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    csrf = await page_csrf(console)
    resp = await post_form(console, "/admin/entries/shebao-enroll/status",
                           {"status": "archived"}, csrf)
    assert resp.status == 403
    entry = seeded_kb.get_entry("shebao-enroll")
    resp = await post_form(console, "/admin/entries/shebao-enroll",
                           {"question": "改了", "answer": "改了", "version": entry["version"]},
                           csrf)
    assert resp.status == 303 and resp.headers["Location"].endswith("?proposed=1")
    assert seeded_kb.get_entry("shebao-enroll")["question"] == entry["question"]  # not live
    applied = await post_form(console, "/admin/proposals/1", {"action": "apply"}, csrf)
    assert applied.status == 403  # only a reviewer publishes it
    for path in ("/admin/users", "/admin/audit"):
        assert (await console.get(path)).status == 403
    made = await post_form(console, "/admin/users", {"username": "x", "role": "admin",
                                                     "password": PASSWORD}, csrf)
    assert made.status == 403


async def test_admins_create_accounts_and_sign_out_ends_the_session(console) -> None:
    await sign_in(console, "admin")
    csrf = await page_csrf(console, "/admin/users")
    bad = await post_form(console, "/admin/users", {"username": "li", "role": "editor",
                                                    "password": "short"}, csrf)
    assert bad.status == 400 and "至少 10 个字符" in await bad.text()
    made = await post_form(console, "/admin/users", {"username": "li", "role": "editor",
                                                     "password": PASSWORD}, csrf)
    assert made.status == 303
    assert "<td>li</td>" in await (await console.get("/admin/users")).text()
    out = await post_form(console, "/admin/logout", {}, csrf)
    assert out.status == 303 and out.headers["Location"] == "/admin/login"
    assert (await console.get("/admin/entries", allow_redirects=False)).status == 303
