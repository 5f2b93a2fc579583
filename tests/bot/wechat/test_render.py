"""WeChat text for the topic list and a topic's common questions (rich output as plain text)."""
from __future__ import annotations

from actions import render
from bot.channels.base import BotMessage, Button, TurnResult
from bot.wechat.render import render_turn


def _one(message: dict) -> str:
    buttons = tuple(Button(b["title"], b["payload"]) for b in message["buttons"])
    (text,) = render_turn(TurnResult(messages=(BotMessage(message["text"], buttons,
                                                          message["custom"]),)))
    return text


def test_the_topics_are_listed_once_in_the_text() -> None:
    text = _one(render.topics_message(["社保", "医保", "老年人优待"]))
    assert "社保、医保、老年人优待" in text and "回复“社保”" not in text


def test_a_topics_questions_are_numbered_replies() -> None:
    text = _one(render.topic_entries_message("医保", [("a", "异地就医备案怎么办理？"),
                                                     ("b", "医保电子凭证怎么激活？")]))
    assert text.splitlines() == ["“医保”方面的常见问题", "回复1：异地就医备案怎么办理？",
                                 "回复2：医保电子凭证怎么激活？", "回复0：转人工"]
