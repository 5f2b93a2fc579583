"""``govbot shell``: chat with the assistant in the terminal, same agent and database as the server."""
from __future__ import annotations

import asyncio
import logging
import sys

from actions import runtime
from bot.bootstrap import open_services, prepare_database
from bot.channels.base import InboundMessage
from bot.dialogue import Dialogue, load_agent
from bot.settings import Settings
from bot.training import model_path

_LOGGER = logging.getLogger(__name__)


async def run_shell(settings: Settings, sender: str) -> int:
    """Read lines from stdin until EOF or "/exit"; print replies with numbered choices."""
    model = model_path(settings)
    if not model.is_file():
        print("未找到模型，请先运行 `govbot train` / no model: run `govbot train`", file=sys.stderr)
        return 2
    engine = prepare_database(settings)
    kb, records = open_services(settings, engine)
    runtime.install(runtime.Services(kb=kb, records=records, hotline=settings.hotline))
    dialogue = Dialogue(load_agent(settings, str(model)))
    print("您好，请输入问题（输入 /exit 退出）/ type a question, /exit to quit", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "/exit":
            return 0
        if not line.strip():
            continue
        result = await dialogue.handle(InboundMessage(sender, line.strip(), "shell"))
        for message in result.messages:
            print("客服：" + message.plain_text(), flush=True)
