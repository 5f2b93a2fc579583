"""Console access: sign-in with CSRF tokens and rate limits, sessions in HttpOnly SameSite
cookies, roles, the users page, and the one place where errors become pages."""
from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections import defaultdict, deque
from typing import Any, Awaitable, Callable, Deque, Dict, List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from knowledge.errors import ConflictError, KnowledgeError, NotFoundError, ValidationError
from knowledge.models import STAFF_ROLES
from knowledge.staff import LoginRefused, Staff

_LOGGER = logging.getLogger(__name__)

COOKIE = "govbot_console"
LOGIN_CSRF = "govbot_login_csrf"
PUBLIC = ("/admin/login", "/admin/static/")
LOGIN_WINDOW_S, LOGIN_TRIES = 300.0, 10
"""Failed sign-ins allowed from one address within the window (the account locks too)."""
FORM_MAX_BYTES = 8 * 1024 * 1024
"""A form's size limit: a 1 MB answer of Chinese text is about 3 MB as a posted form."""
IMPORT_MAX_BYTES = 50 * 1024 * 1024
"""An import file's limit (20,000 entries as CSV are about 20 MB)."""
ROLE_NAMES = {"editor": "编辑", "reviewer": "审核员", "admin": "管理员"}
_failures: Dict[str, Deque[float]] = defaultdict(deque)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def staff_of(request: web.Request) -> Staff:
    """The signed-in member of staff (the middleware has checked)."""
    return request["staff"]


def require(request: web.Request, role: str) -> Staff:
    """The member of staff, if their role allows ``role``'s work; else 403."""
    staff = staff_of(request)
    if not staff.can(role):
        raise web.HTTPForbidden(text=f"需要{ROLE_NAMES[role]}权限")
    return staff


async def context(request: web.Request) -> Dict[str, Any]:
    """What every page's template may use."""
    staff = request.get("staff")
    return {"staff": staff, "csrf": staff.csrf if staff else "", "path": request.path,
            "roles": ROLE_NAMES}


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/admin/api/") or \
        "application/json" in request.headers.get("Accept", "")


def _check_csrf(given: str, expected: str) -> None:
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise web.HTTPForbidden(text="表单已过期或来源无效（CSRF），请刷新页面后重试")


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page needs a live session (anonymous: the sign-in page, or 401 for the API);
    every POST needs the session's CSRF token."""
    if request.path.startswith(PUBLIC):
        return await handler(request)
    console = console_of(request)
    staff = await console.blocking(console.staff.session, request.cookies.get(COOKIE, ""))
    if staff is None:
        if _wants_json(request):
            raise web.HTTPUnauthorized(text='{"error": {"code": "login_required"}}',
                                       content_type="application/json")
        raise web.HTTPSeeOther("/admin/login")
    request["staff"] = staff
    if request.method == "POST":
        form = await request.post()
        _check_csrf(str(form.get("csrf", "")), staff.csrf)
    return await handler(request)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors, and refusals, as pages with the matching status. Forms may be larger
    than the server's other requests (a long answer): up to ``FORM_MAX_BYTES``."""
    request = request.clone(client_max_size=IMPORT_MAX_BYTES if request.path == "/admin/import"
                            else FORM_MAX_BYTES)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or _wants_json(request):
            raise
        return await _error_page(request, exc.status, exc.text or exc.reason)
    except NotFoundError as exc:
        return await _error_page(request, 404, str(exc))
    except ConflictError as exc:
        return await _error_page(request, 409, str(exc))
    except (ValidationError, KnowledgeError) as exc:
        return await _error_page(request, 400, str(exc))


async def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    """The error as a page (its own context: a refusal in a middleware never reached the
    handler, where the template context is made)."""
    titles = {401: "请先登录", 403: "没有权限", 404: "找不到页面", 409: "内容冲突"}
    page = dict(await context(request), request=request,
                title=titles.get(status, "请求有误"), message=message)
    return aiohttp_jinja2.render_template("error.html", request, page, status=status)


# ------------------------------------------------------------------ sign-in
async def login_page(request: web.Request, error: str = "", name: str = "",
                     status: int = 200) -> web.Response:
    """The sign-in form, with a fresh CSRF token in a cookie and in the form."""
    token = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        "login.html", request, {"login_csrf": token, "error": error, "name": name},
        status=status)
    _set_cookie(request, response, LOGIN_CSRF, token, max_age=3600)
    return response


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
                max_age: int | None = None) -> None:
    secure = request.secure or console_of(request).secure_cookies
    response.set_cookie(name, value, path="/admin", httponly=True, samesite="Strict",
                        secure=secure, max_age=max_age)


def _limited(address: str) -> bool:
    now = time.monotonic()
    tries = _failures[address]
    while tries and now - tries[0] > LOGIN_WINDOW_S:
        tries.popleft()
    return len(tries) >= LOGIN_TRIES


async def login(request: web.Request) -> web.Response:
    """Check the form's CSRF token, the address's rate and the password; open a session."""
    form = await request.post()
    _check_csrf(str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF, ""))
    console = console_of(request)
    name = str(form.get("username", "")).strip()[:64]
    address = request.remote or "?"
    if _limited(address):
        await console.blocking(console.staff.audit, name or "?", "login_rate_limited", address)
        return await login_page(request, "尝试次数过多，请 5 分钟后再试。", name, status=429)
    try:
        staff = await console.blocking(console.staff.authenticate, name,
                                       str(form.get("password", "")))
    except LoginRefused as refused:
        _failures[address].append(time.monotonic())
        await console.blocking(console.staff.audit, name or "?", "login_failed", address,
                               {"locked": refused.locked})
        message = ("账号因多次登录失败已暂时锁定，请 15 分钟后再试或联系管理员。"
                   if refused.locked else "用户名或密码不正确。")
        return await login_page(request, message, name, status=401)
    token = await console.blocking(console.staff.open_session, staff)
    await console.blocking(console.staff.audit, staff.name, "login", address)
    response = web.HTTPSeeOther("/admin/entries")
    _set_cookie(request, response, COOKIE, token)
    response.del_cookie(LOGIN_CSRF, path="/admin")
    raise response


async def logout(request: web.Request) -> web.Response:
    """End the session."""
    console = console_of(request)
    await console.blocking(console.staff.close_session, request.cookies.get(COOKIE, ""))
    await console.blocking(console.staff.audit, staff_of(request).name, "logout")
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie(COOKIE, path="/admin")
    raise response


# -------------------------------------------------------------------- users
async def users(request: web.Request) -> web.Response:
    """Accounts (admins only), with a form for a new one."""
    require(request, "admin")
    return await _users_page(request)


async def _users_page(request: web.Request, error: str = "", form: Any = None,
                      status: int = 200) -> web.Response:
    console = console_of(request)
    return aiohttp_jinja2.render_template("users.html", request, {
        "users": await console.blocking(console.staff.users), "error": error,
        "form": form or {}, "all_roles": STAFF_ROLES}, status=status)


async def create_user(request: web.Request) -> web.Response:
    """A new account from the users page."""
    staff = require(request, "admin")
    form = await request.post()
    console = console_of(request)
    try:
        await console.blocking(console.staff.create_user, str(form.get("username", "")),
                               str(form.get("role", "")), str(form.get("password", "")),
                               staff.name)
    except (ValidationError, ConflictError) as exc:
        return await _users_page(request, str(exc), form, status=400)
    raise web.HTTPSeeOther("/admin/users")


def routes() -> List[web.RouteDef]:
    """Sign-in, sign-out and users."""
    return [web.get("/login", login_page), web.post("/login", login),
            web.post("/logout", logout), web.get("/users", users),
            web.post("/users", create_user)]
