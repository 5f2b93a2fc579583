"""``govbot wechat menu`` checks a menu against WeChat's rules and publishes it; ``outbox``
lists the pushes that did not reach residents."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.wechat_cli import _publish, check_menu
from knowledge.errors import ValidationError
from tests.channels.wechat_fakes import APPID, FakeApi

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "wechat-menu.example.json"


def test_the_shipped_example_menu_is_valid(capsys: Any) -> None:
    assert main(["wechat", "menu", str(EXAMPLE), "--dry-run"]) == 0
    assert "菜单有效" in capsys.readouterr().out


@pytest.mark.parametrize("menu", [
    {},
    {"button": []},
    {"button": [{"type": "click", "name": "a", "key": "ASK:x"}] * 4},
    {"button": [{"type": "click", "name": "太长的菜单名字超过十六字节", "key": "ASK:x"}]},
    {"button": [{"type": "click", "name": "查询", "key": "whatever"}]},
    {"button": [{"type": "click", "name": "查询", "key": "ASK:" + "问" * 50}]},
    {"button": [{"type": "view", "name": "网页", "url": "javascript:alert(1)"}]},
    {"button": [{"name": "多", "sub_button": [{"type": "click", "name": "a", "key": "HUMAN"}] * 6}]},
], ids=["empty", "no-buttons", "four", "long-name", "foreign-key", "long-key", "bad-url", "six-subs"])
def test_bad_menus_are_refused_with_a_reason(menu: Any) -> None:
    with pytest.raises(ValidationError):
        check_menu(menu)


def test_a_broken_file_is_a_coded_error(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "menu.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["wechat", "menu", str(bad), "--dry-run"]) == 2
    assert "[invalid]" in capsys.readouterr().err


async def test_publish_posts_the_menu_with_a_token(aiohttp_server: Any, tmp_path: Path) -> None:
    from bot.settings import Settings
    api = FakeApi()
    server = await aiohttp_server(api.app())
    settings = Settings.from_env({"GOVBOT_VAR_DIR": str(tmp_path), "GOVBOT_WECHAT_APPID": APPID,
                                  "GOVBOT_WECHAT_SECRET": "s3cret", "GOVBOT_WECHAT_TOKEN": "t",
                                  "GOVBOT_WECHAT_API_BASE": str(server.make_url(""))})
    menu = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    await _publish(settings, menu)
    assert api.pushes == [{"menu": menu}] and api.tokens_issued == 1
