"""The WeChat API calls govbot makes: access_token (shared, refreshed once) and the
customer-service message that pushes an answer after the 5-second window."""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, TypeVar

import aiohttp

from bot.wechat.errors import ApiError
from knowledge.models import utcnow
from knowledge.outbox import TokenStore

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
REFRESH_MARGIN = timedelta(minutes=5)
"""A token this close to its expiry is refreshed before use."""
LEASE_WAIT_S = 10.0
_T = TypeVar("_T")
Blocking = Callable[..., Awaitable[Any]]


class WeChatApi:
    """Calls the API at ``api_base`` with one aiohttp session; blocking token-store calls go
    through ``run`` (the server's worker pool)."""

    def __init__(self, session: aiohttp.ClientSession, api_base: str, appid: str, secret: str,
                 tokens: TokenStore, run: Blocking) -> None:
        self.session = session
        self.api_base = api_base.rstrip("/")
        self.appid, self.secret = appid, secret
        self.tokens = tokens
        self._run = run
        self._lock = asyncio.Lock()
        self.refreshes = 0  # tokens this process fetched

    async def _call(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            async with self.session.request(method, self.api_base + path,
                                            timeout=aiohttp.ClientTimeout(total=10),
                                            **kwargs) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise ApiError(-1, f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(-1, "unexpected response")
        if data.get("errcode"):
            raise ApiError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    async def access_token(self, stale: str = "") -> str:
        """A valid token: the shared one, or a fresh one if it is missing, near expiry, or
        ``stale`` (the one the API just refused). Across instances one refreshes; the others
        wait for its token."""
        async with self._lock:
            state = await self._run(self.tokens.read)
            if state.token and state.token != stale and state.expires_at and \
                    state.expires_at - REFRESH_MARGIN > utcnow():
                return state.token
            deadline = asyncio.get_running_loop().time() + LEASE_WAIT_S
            while True:
                lease = await self._run(self.tokens.lease_refresh, state.token)
                if lease.leased:
                    break
                if lease.token != state.token and lease.token:  # another instance refreshed
                    return lease.token
                if asyncio.get_running_loop().time() > deadline:
                    raise ApiError(-1, "access_token refresh held elsewhere for too long")
                await asyncio.sleep(0.2)
            try:
                data = await self._call("GET", "/cgi-bin/token", params={
                    "grant_type": "client_credential", "appid": self.appid,
                    "secret": self.secret})
                token = str(data["access_token"])
                await self._run(self.tokens.store, token, float(data.get("expires_in", 7200)))
            except BaseException:
                await asyncio.shield(self._run(self.tokens.release))
                raise
            self.refreshes += 1
            return token

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message; an expired token is refreshed and the call
        retried once.

        Raises:
            ApiError: The API refused it (for example 45015: the 48-hour window has passed).
        """
        token = await self.access_token()
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        try:
            await self._send(token, body)
        except ApiError as exc:
            if not exc.token_expired:
                raise
            _LOGGER.info("access_token refused (%s): refreshing", exc.errcode)
            await self._send(await self.access_token(stale=token), body)

    async def _send(self, token: str, body: Dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/message/custom/send",
                         params={"access_token": token},
                         data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                         headers={"Content-Type": "application/json"})

    async def create_menu(self, menu: Dict[str, Any]) -> None:
        """Replace the account's custom menu (``govbot wechat menu FILE``)."""
        token = await self.access_token()
        await self._call("POST", "/cgi-bin/menu/create", params={"access_token": token},
                         data=json.dumps(menu, ensure_ascii=False).encode("utf-8"),
                         headers={"Content-Type": "application/json"})
