"""Web channel: frame parsing, WebSocket/REST delivery, exactly-once per message id, ordering."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict

import pytest
from aiohttp import WSMsgType

from bot.channels.registry import CHANNELS
from bot.channels.base import BotMessage, TurnResult
from bot.channels.web import (MAX_TEXT_CHARS, ClientMessage, ClientPing, FrameError, WebInput,
                              WebOutput, parse_frame)
from tests.web.fake_app import GateDialogue, make_app

_LOGGER = logging.getLogger(__name__)
SENDER = "wtest0123456789ab"


@pytest.fixture
def dialogue() -> GateDialogue:
    return GateDialogue()


@pytest.fixture
async def client(aiohttp_client: Any, dialogue: GateDialogue) -> Any:
    channel = WebInput(hotline="12345")
    app = make_app(dialogue, channel, with_tts=False)
    app["test_channel"] = channel
    return await aiohttp_client(app)


def frame(msg_id: str, text: str, sender: str = SENDER) -> Dict[str, Any]:
    return {"type": "message", "id": msg_id, "sender": sender, "text": text}


async def receive(ws: Any, kind: str) -> Dict[str, Any]:
    """Next frame of type ``kind`` (acks and pongs in between are skipped)."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout=5)
        assert msg.type == WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data["type"] == kind:
            return data


def test_channel_registered() -> None:
    assert CHANNELS["web"] is WebInput


@pytest.mark.parametrize("data,code", [
    ({"type": "message", "id": "a b", "sender": SENDER, "text": "x"}, "bad_id"),
    ({"type": "message", "id": "a1", "sender": "short", "text": "x"}, "bad_sender"),
    ({"type": "message", "id": "a1", "sender": SENDER, "text": "   "}, "empty_text"),
    ({"type": "message", "id": "a1", "sender": SENDER, "text": "长" * (MAX_TEXT_CHARS + 1)}, "text_too_long"),
    ({"type": "message", "id": "a1", "sender": SENDER, "text": "\u200b\ufeff\x00"}, "empty_text"),
    ({"type": "shutdown"}, "bad_frame"),
    (["not", "an", "object"], "bad_frame"),
], ids=["id", "sender", "blank", "too-long", "invisible-only", "type", "not-object"])
def test_parse_frame_rejects(data: Any, code: str) -> None:
    with pytest.raises(FrameError) as err:
        parse_frame(data)
    assert err.value.code == code


def test_parse_frame_accepts() -> None:
    msg = parse_frame({**frame("id-1", "  你好 "), "preferences": {"rate": "slow", "large_text": True,
                                                                 "volume": "bogus"}})
    assert isinstance(msg, ClientMessage)
    assert (msg.id, msg.sender, msg.text) == ("id-1", SENDER, "你好")
    assert msg.preferences is not None and msg.preferences.to_dict() == {
        "rate": "slow", "volume": "normal", "large_text": True}
    assert isinstance(parse_frame({"type": "ping"}), ClientPing)
    assert parse_frame(frame("id-2", "社保\ufeff卡\x07")).text == "社保卡"


def test_output_renders_turn() -> None:
    result = TurnResult(messages=(BotMessage(text="a"),))
    assert WebOutput().reply_frame("m1", result) == {
        "type": "reply", "reply_to": "m1", "messages": [{"text": "a"}],
        "preferences": {"rate": "normal", "volume": "normal", "large_text": False}}


async def test_ws_ack_then_reply(client: Any, dialogue: GateDialogue) -> None:
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_json({**frame("m1", "你好"), "preferences": {"large_text": True}})
    ack = await receive(ws, "ack")
    reply = await receive(ws, "reply")
    assert ack["id"] == "m1" and reply["reply_to"] == "m1"
    assert reply["messages"] == [{"text": "re:你好"}]
    (call,) = dialogue.calls
    assert call.sender == f"web:{SENDER}" and call.channel == "web"
    assert call.metadata["message_id"] == "m1"
    assert call.metadata["preferences"]["large_text"] is True
    await ws.close()


async def test_ws_duplicate_is_replayed_not_rerun(client: Any, dialogue: GateDialogue) -> None:
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_json(frame("m1", "你好"))
    first = await receive(ws, "reply")
    await ws.send_json(frame("m1", "你好"))
    second = await receive(ws, "reply")
    assert second["messages"] == first["messages"] and second.get("duplicate") is True
    assert len(dialogue.calls) == 1
    await ws.close()


async def test_resend_after_reconnect_mid_turn(client: Any, dialogue: GateDialogue) -> None:
    ws1 = await client.ws_connect("/webhooks/web/ws")
    await ws1.send_json(frame("m9", "wait for me"))
    await receive(ws1, "ack")
    await ws1.close()  # the connection drops while the turn is running
    ws2 = await client.ws_connect("/webhooks/web/ws")
    await ws2.send_json(frame("m9", "wait for me"))  # the page re-sends its pending message
    await asyncio.sleep(0.1)
    dialogue.gate.set()
    reply = await receive(ws2, "reply")
    assert reply["reply_to"] == "m9" and reply["messages"] == [{"text": "re:wait for me"}]
    assert len(dialogue.calls) == 1
    await ws2.close()


async def test_turns_of_one_sender_run_in_order(client: Any, dialogue: GateDialogue) -> None:
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_json(frame("a1", "wait first"))
    await ws.send_json(frame("a2", "second"))
    await asyncio.sleep(0.2)
    assert [c.text for c in dialogue.calls] == ["wait first"]  # the second waits its turn
    dialogue.gate.set()
    replies = [await receive(ws, "reply"), await receive(ws, "reply")]
    assert [r["reply_to"] for r in replies] == ["a1", "a2"]
    await ws.close()


async def test_ws_bad_frames_get_error_frames(client: Any) -> None:
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_str("{not json")
    assert (await receive(ws, "error"))["code"] == "bad_json"
    await ws.send_json(frame("m1", ""))
    err = await receive(ws, "error")
    assert err["code"] == "empty_text" and err["reply_to"] == "m1"
    await ws.send_json({"type": "ping"})
    assert (await receive(ws, "pong")) == {"type": "pong"}
    await ws.close()


async def test_dialogue_failure_is_reported_and_retryable(client: Any, dialogue: GateDialogue) -> None:
    dialogue.fail_next = True
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_json(frame("m1", "你好"))
    err = await receive(ws, "error")
    assert err["code"] == "dialogue_failed" and err["reply_to"] == "m1" and "12345" in err["message"]
    await ws.send_json(frame("m1", "你好"))
    assert (await receive(ws, "reply"))["messages"] == [{"text": "re:你好"}]
    assert len(dialogue.calls) == 2
    await ws.close()


async def test_rest_fallback_shares_dedupe_with_ws(client: Any, dialogue: GateDialogue) -> None:
    resp = await client.post("/webhooks/web/messages", json=frame("r1", "你好"))
    assert resp.status == 200
    body = await resp.json()
    assert body["type"] == "reply" and body["messages"] == [{"text": "re:你好"}]
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_json(frame("r1", "你好"))
    assert (await receive(ws, "reply")).get("duplicate") is True
    assert len(dialogue.calls) == 1
    await ws.close()


@pytest.mark.parametrize("payload,code", [
    ("not json", "bad_json"),
    (json.dumps(frame("x y", "hi")), "bad_id"),
], ids=["not-json", "bad-id"])
async def test_rest_errors_are_json(client: Any, payload: str, code: str) -> None:
    resp = await client.post("/webhooks/web/messages", data=payload,
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == code


async def test_config_page_and_assets(client: Any) -> None:
    config = await (await client.get("/webhooks/web/config")).json()
    assert config["hotline"] == "12345"
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and '<html lang="zh-CN">' in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    for asset in ("app.js", "render.js", "speech.js", "connection.js", "early.js", "app.css"):
        resp = await client.get(f"/static/{asset}")
        assert resp.status == 200, asset
        text = await resp.text()
        assert "http://" not in text and "https://" not in text.replace("https:\"", ""), asset
    assert "javascript" in (await client.get("/static/app.js")).content_type


async def test_close_sockets_disconnects_clients(client: Any) -> None:
    ws = await client.ws_connect("/webhooks/web/ws")
    await ws.send_json({"type": "ping"})
    await receive(ws, "pong")
    await client.server.app["test_channel"].close_sockets()
    msg = await asyncio.wait_for(ws.receive(), timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_staff_replies_are_pushed_to_the_residents_open_page(aiohttp_client: Any,
                                                                   engine: Any) -> None:
    """A page says hello with its conversation; a staff reply reaches it without a request,
    once, and not another resident's page; while staff hold it the bot is quiet."""
    from knowledge.handoffs import TAKEN, HandoffDesk
    from knowledge.records import Records
    from tests.web.fake_app import make_runner
    dialogue = GateDialogue()
    runner = make_runner(dialogue)
    runner.handoffs = desk = HandoffDesk(engine)
    client = await aiohttp_client(make_app(dialogue, WebInput(hotline="12345"),
                                           with_tts=False, runner=runner))
    hid = Records(engine).create_handoff(f"web:{SENDER}", "web", "人工", [])
    mine = await client.ws_connect("/webhooks/web/ws")
    other = await client.ws_connect("/webhooks/web/ws")
    await mine.send_json({"type": "hello", "sender": SENDER})
    await other.send_json({"type": "hello", "sender": "wsomeoneelse0001"})
    desk.take(hid, "wang")
    desk.reply(hid, "wang", "您好，我是王芳。")
    await runner.refresh_held()
    first, second = await receive(mine, "push"), await receive(mine, "push")
    assert first["messages"][0]["text"] == TAKEN
    assert second["messages"][0] == {"text": "工作人员：您好，我是王芳。",
                                     "custom": {"type": "staff"}}
    await mine.send_json(frame("m1", "我的社保卡丢了"))
    reply = await receive(mine, "reply")
    assert reply["messages"] == [] and dialogue.calls == []  # the bot stays quiet
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(other.receive(), timeout=1.5)  # nothing for another resident
    bad = await client.ws_connect("/webhooks/web/ws")
    await bad.send_json({"type": "hello", "sender": "x"})
    assert (await receive(bad, "error"))["code"] == "bad_sender"
    for ws in (mine, other, bad):
        await ws.close()


async def test_a_page_without_websockets_gets_its_staff_messages_by_asking(aiohttp_client: Any,
                                                                          engine: Any) -> None:
    """Over plain HTTP a hello is answered with the messages due to that page alone, each
    once; a ping is still a pong."""
    from knowledge.handoffs import TAKEN, HandoffDesk
    from knowledge.records import Records
    from tests.web.fake_app import make_runner
    dialogue = GateDialogue()
    runner = make_runner(dialogue)
    runner.handoffs = desk = HandoffDesk(engine)
    client = await aiohttp_client(make_app(dialogue, WebInput(hotline="12345"),
                                           with_tts=False, runner=runner))

    async def ask(sender: str) -> Dict[str, Any]:
        resp = await client.post("/webhooks/web/messages", json={"type": "hello", "sender": sender})
        assert resp.status == 200
        return await resp.json()

    hid = Records(engine).create_handoff(f"web:{SENDER}", "web", "人工", [])
    assert await ask(SENDER) == {"type": "pushes", "frames": []}
    desk.take(hid, "wang")
    desk.reply(hid, "wang", "您好，我是王芳。")
    assert (await ask("wsomeoneelse0001"))["frames"] == []  # not another resident's
    frames = (await ask(SENDER))["frames"]
    assert [f["messages"][0]["text"] for f in frames] == [TAKEN, "工作人员：您好，我是王芳。"]
    assert all(f["type"] == "push" for f in frames)
    assert (await ask(SENDER))["frames"] == []  # shown once
    resp = await client.post("/webhooks/web/messages", json={"type": "ping"})
    assert await resp.json() == {"type": "pong"}
    resp = await client.post("/webhooks/web/messages", json={"type": "hello", "sender": "x"})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_sender"
