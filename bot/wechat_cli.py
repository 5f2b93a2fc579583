"""``govbot wechat …``: publish the account's menu, list pushes that did not reach residents."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Dict, List

from knowledge.errors import ValidationError

MENU_TYPES = ("click", "view", "miniprogram")


def check_menu(menu: Any) -> Dict[str, Any]:
    """Validate a menu against WeChat's rules: 1–3 buttons, each a leaf or 1–5 sub-buttons;
    names of at most 16 bytes (top) or 60 bytes (sub); click keys of at most 128 bytes, and
    govbot's keys ``ASK:<question>`` or ``HUMAN``.

    Raises:
        ValidationError: The first problem found, in words staff understand.
    """
    if not isinstance(menu, dict) or not isinstance(menu.get("button"), list):
        raise ValidationError("菜单须为 {\"button\": [...]} / the menu needs a \"button\" list")
    buttons = menu["button"]
    if not 1 <= len(buttons) <= 3:
        raise ValidationError("一级菜单须为 1 到 3 个 / 1 to 3 top-level buttons")
    for top in buttons:
        subs = top.get("sub_button") if isinstance(top, dict) else None
        _check_button(top, 16, leaf=not subs)
        if subs:
            if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
                raise ValidationError(f"“{top.get('name')}”的子菜单须为 1 到 5 个 / 1 to 5 sub-buttons")
            for sub in subs:
                _check_button(sub, 60, leaf=True)
    return menu


def _check_button(button: Any, max_name: int, leaf: bool) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("name"), str) or \
            not button["name"].strip():
        raise ValidationError("每个菜单须有名称 / every button needs a name")
    name = button["name"]
    if len(name.encode("utf-8")) > max_name:
        raise ValidationError(f"菜单名“{name}”过长（{max_name} 字节以内）/ name too long")
    if not leaf:
        return
    kind = button.get("type")
    if kind not in MENU_TYPES:
        raise ValidationError(f"“{name}”的类型须为 {', '.join(MENU_TYPES)} / bad type {kind!r}")
    if kind == "click":
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode("utf-8")) > 128:
            raise ValidationError(f"“{name}”的 key 须为 1–128 字节 / key of 1-128 bytes")
        if key != "HUMAN" and not (key.startswith("ASK:") and key[4:].strip()):
            raise ValidationError(f"“{name}”的 key 须为 ASK:问题 或 HUMAN / key ASK:<question> or HUMAN")
    if kind == "view" and not str(button.get("url", "")).startswith(("http://", "https://")):
        raise ValidationError(f"“{name}”须有网址 / a view button needs a url")


async def _publish(settings: Any, menu: Dict[str, Any]) -> None:
    import aiohttp

    from bot.bootstrap import prepare_database
    from bot.wechat.api import WeChatApi
    from knowledge.outbox import TokenStore
    engine = prepare_database(settings, seed=False)

    async def run(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async with aiohttp.ClientSession() as session:
        api = WeChatApi(session, settings.wechat_api_base, settings.wechat_appid,
                        settings.wechat_secret,
                        TokenStore(engine, f"wechat:{settings.wechat_appid}"), run)
        await api.create_menu(menu)


def cmd_menu(args: argparse.Namespace) -> int:
    from bot.settings import Settings
    from bot.wechat.errors import ApiError
    settings = Settings.from_env(database_url=args.db)
    try:
        menu = check_menu(json.loads(Path(args.file).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"无法读取菜单文件 / cannot read the menu file: {exc}") from None
    if args.dry_run:
        print("菜单有效 / the menu is valid")
        return 0
    if not (settings.wechat_appid and settings.wechat_secret):
        raise ValidationError("需要 GOVBOT_WECHAT_APPID 和 GOVBOT_WECHAT_SECRET / both are needed")
    try:
        asyncio.run(_publish(settings, menu))
    except ApiError as exc:
        print(f"微信接口拒绝 / WeChat refused: {exc}", file=sys.stderr)
        return 1
    print("菜单已发布 / the menu is published")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from bot.bootstrap import prepare_database
    from bot.settings import Settings
    from knowledge.outbox import OutboxStore
    engine = prepare_database(Settings.from_env(database_url=args.db), seed=False)
    rows: List[Any] = OutboxStore(engine).list(status=args.status, channel="wechat",
                                               limit=args.limit)
    for row in rows:
        print(json.dumps({"id": row.id, "status": row.status, "to": row.recipient,
                          "attempts": row.attempts, "error": row.last_error,
                          "created_at": str(row.created_at), "text": row.text},
                         ensure_ascii=False))
    print(f"{len(rows)} 条 / pushes", file=sys.stderr)
    return 0


def add_wechat_commands(sub: Any, db_help: str) -> None:
    """``govbot wechat menu FILE`` and ``govbot wechat outbox``."""
    wechat = sub.add_parser("wechat", help="微信公众号 / WeChat Official Account")
    wsub = wechat.add_subparsers(dest="wechat_command", metavar="命令/command", required=True)
    menu = wsub.add_parser("menu", help="校验并发布自定义菜单 / validate and publish the menu")
    menu.add_argument("file", help="菜单 JSON（见 docs/wechat-menu.example.json）/ menu JSON")
    menu.add_argument("--dry-run", action="store_true", help="只校验 / validate only")
    menu.add_argument("--db", help=db_help)
    menu.set_defaults(func=cmd_menu)
    outbox = wsub.add_parser("outbox", help="推送记录（默认只看失败的）/ pushes (failed by default)")
    outbox.add_argument("--status", default="failed",
                        choices=["failed", "pending", "waiting", "sent"])
    outbox.add_argument("--limit", type=int, default=100)
    outbox.add_argument("--db", help=db_help)
    outbox.set_defaults(func=cmd_outbox)
