"""The staff console mounted at ``/admin``: its services from the server's, and the channel
previews that its 试一试 box shows (the reply as the web page, WeChat and the phone give it)."""
from __future__ import annotations

from typing import Any, AsyncIterator, Dict, List, Mapping

from aiohttp import web

from bot.channels.base import BotMessage, TurnResult
from bot.wechat.render import render_turn
from console.app import Console, console_app
from knowledge.staff import StaffStore
from voice import prompts as P


def _phone(message: Mapping[str, Any]) -> str:
    """What a caller hears first for one message (the call flow's wording)."""
    custom = message.get("custom") or {}
    kind = custom.get("type")
    if kind in ("guide", "answer"):
        return " ".join((P.short_answer(custom.get("short", ""), message.get("text", "")),
                         P.DETAIL_HINT))
    if kind == "candidates":
        titles = [c["title"] for c in custom.get("candidates", [])][:3]
        return " ".join((P.CHOOSE_TITLE, *P.numbered(titles),
                         P.option(P.NONE_OF_THESE, str(len(titles) + 1))))
    return " ".join((str(message.get("text", "")), P.OFFER_PERSON))


def previews(messages: List[Dict[str, Any]]) -> Dict[str, str]:
    """The bot's messages on each channel."""
    result = TurnResult(messages=tuple(BotMessage.from_rasa(m) for m in messages))
    web = "\n\n".join(m.text + ("\n按钮：" + "｜".join(b.title for b in m.buttons)
                                 if m.buttons else "") for m in result.messages)
    return {"网页": web,
            "微信": "\n\n".join(render_turn(result)),
            "电话": "\n".join(_phone(m) for m in messages)}


def add_console(app: web.Application, kb_key: Any, records_key: Any, engine_key: Any,
                runner: Any, hotline: str, secure: bool) -> None:
    """Mount the console; its services are filled in once the server's are open."""
    console = Console(kb=None, records=None, staff=None,  # type: ignore[arg-type]
                      blocking=runner.blocking, previews=previews, hotline=hotline,
                      secure_cookies=secure, held_changed=runner.refresh_held)

    async def console_ctx(app: web.Application) -> AsyncIterator[None]:
        console.kb, console.records = app[kb_key], app[records_key]
        console.staff = StaffStore(app[engine_key])
        yield

    app.cleanup_ctx.append(console_ctx)
    app.add_subapp("/admin", console_app(console))
