"""WeChat channel: verification, every message type in the three modes, the 5-second rule,
retries answered once (on one instance or two), hostile input, and the access token."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Tuple

import pytest
from aiohttp import web
from defusedxml.ElementTree import fromstring

from bot.channels import wechat as wechat_mod
from bot.channels.wechat import WeChatInput
from bot.turns import TurnRunner
from knowledge.deliveries import DeliveryStore
from knowledge.outbox import OutboxStore, TokenStore
from tests.channels.wechat_fakes import (ACCOUNT, AES_KEY, APPID, TOKEN, FakeApi,
                                         ScriptedDialogue, decrypt_reply, encrypted, message,
                                         query, text)

PATH = "/webhooks/wechat/"


def reply_fields(xml: str) -> dict:
    return {child.tag: child.text or "" for child in fromstring(xml.encode())}


@pytest.fixture
def api_state() -> FakeApi:
    return FakeApi()


@pytest.fixture
async def api_url(aiohttp_server: Any, api_state: FakeApi) -> str:
    server = await aiohttp_server(api_state.app())
    return str(server.make_url("")).rstrip("/")


async def instance(aiohttp_client: Any, engine: Any, dialogue: ScriptedDialogue, api_url: str,
                   aes: bool = True) -> Tuple[Any, WeChatInput]:
    """One govbot instance with the WeChat channel (on the shared test database)."""
    runner = TurnRunner(lambda: dialogue, ["wechat"], deliveries=DeliveryStore(engine))
    channel = WeChatInput(TOKEN, APPID, "s3cret", AES_KEY if aes else "", api_url, "12345")
    app = web.Application()
    app.add_subapp("/webhooks/wechat", channel.subapp(runner))
    return await aiohttp_client(app), channel


@pytest.fixture
def dialogue() -> ScriptedDialogue:
    return ScriptedDialogue(delay=0.6)


@pytest.fixture
async def client(aiohttp_client: Any, engine: Any, dialogue: ScriptedDialogue,
                 api_url: str) -> Any:
    return (await instance(aiohttp_client, engine, dialogue, api_url))[0]


async def post_plain(client: Any, xml: str, **q: Any) -> Tuple[int, str]:
    resp = await client.post(PATH, params=query(**q), data=xml.encode())
    return resp.status, await resp.text()


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- verification
async def test_server_verification_echoes(client: Any) -> None:
    resp = await client.get(PATH, params=query(echostr="echo-123"))
    assert resp.status == 200 and await resp.text() == "echo-123"


@pytest.mark.parametrize("params,status,code", [
    (lambda: {**query(echostr="e"), "signature": "0" * 40}, 403, "wechat_bad_signature"),
    (lambda: query(ts=int(time.time()) - 301, echostr="e"), 403, "wechat_stale_timestamp"),
    (lambda: query(ts=int(time.time()) + 400, echostr="e"), 403, "wechat_stale_timestamp"),
    (lambda: {**query(echostr="e"), "timestamp": "abc"}, 403, "wechat_stale_timestamp"),
    (lambda: query(), 400, "wechat_missing_param"),
], ids=["forged", "replayed-old", "future", "garbage-time", "no-echostr"])
async def test_verification_refuses(client: Any, params: Any, status: int, code: str) -> None:
    resp = await client.get(PATH, params=params())
    assert resp.status == status and (await resp.json())["error"]["code"] == code


# ---------------------------------------------------------------- message types, modes
@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
async def test_text_answered_passively_in_every_mode(client: Any, dialogue: ScriptedDialogue,
                                                     mode: str) -> None:
    xml = text("社保卡丢了怎么补办", msg_id=f"m-{mode}")
    if mode == "plaintext":
        status, body = await post_plain(client, xml)
        fields = reply_fields(body)
    else:
        data, q = encrypted(xml, compatible=(mode == "compatible"))
        resp = await client.post(PATH, params=q, data=data)
        status, body = resp.status, await resp.text()
        assert "<Encrypt>" in body
        fields = reply_fields(decrypt_reply(body))
    assert status == 200
    assert fields["Content"] == "答：社保卡丢了怎么补办"
    assert fields["ToUserName"] == "oResident1" and fields["FromUserName"] == ACCOUNT
    assert dialogue.calls[-1].sender == "wechat:oResident1"


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
@pytest.mark.parametrize("xml,expect", [
    (message("voice", MediaId="m", Format="amr", Recognition="公积金怎么提取"), "答：公积金怎么提取"),
    (message("voice", MediaId="m", Format="amr", Recognition=""), "没有听清"),
    (message("event", msg_id=None, Event="subscribe"), "欢迎关注"),
    (message("event", msg_id=None, Event="CLICK", EventKey="ASK:老年卡怎么办"), "答：老年卡怎么办"),
    (message("image", PicUrl="http://x/y.jpg", MediaId="m"), "只能看懂文字和语音"),
    (message("location", Location_X="39.9", Location_Y="116.3", Scale="15", Label="北京"),
     "只能看懂文字和语音"),
    (message("link", Title="t", Description="d", Url="http://x"), "只能看懂文字和语音"),
], ids=["voice", "voice-unheard", "subscribe", "menu-click", "image", "location", "link"])
async def test_each_message_type(client: Any, xml: str, expect: str, mode: str) -> None:
    if mode == "plaintext":
        status, body = await post_plain(client, xml)
    else:
        data, q = encrypted(xml, compatible=(mode == "compatible"))
        resp = await client.post(PATH, params=q, data=data)
        status, body = resp.status, decrypt_reply(await resp.text())
    assert status == 200 and expect in reply_fields(body)["Content"]
    if "欢迎" in expect:
        assert "12345" in reply_fields(body)["Content"] and "人工" in reply_fields(body)["Content"]


async def test_unsubscribe_and_unknown_events_get_success(client: Any) -> None:
    for event in ("unsubscribe", "VIEW", "TEMPLATESENDJOBFINISH"):
        status, body = await post_plain(client, message("event", msg_id=None, Event=event))
        assert (status, body) == (200, "success")


async def test_menu_person_key_and_zero_reach_a_person(client: Any,
                                                       dialogue: ScriptedDialogue) -> None:
    await post_plain(client, message("event", msg_id=None, Event="CLICK", EventKey="HUMAN"))
    await post_plain(client, text("0", msg_id="zero"))
    assert [c.text for c in dialogue.calls] == ["/request_human", "/request_human"]


async def test_candidates_are_numbered_replies_and_one_picks(client: Any,
                                                            dialogue: ScriptedDialogue) -> None:
    _, body = await post_plain(client, text("社保卡", msg_id="c1"))
    content = reply_fields(body)["Content"]
    assert "回复1：社保卡丢了怎么补办" in content and "回复2：社保卡怎么激活" in content
    assert "回复0：转人工" in content
    await post_plain(client, text("1", msg_id="c2"))
    assert dialogue.calls[-1].text == "1" and dialogue.calls[-1].sender == "wechat:oResident1"


async def test_long_answers_short_first_then_full_on_request(client: Any, api_state: FakeApi,
                                                             dialogue: ScriptedDialogue) -> None:
    _, body = await post_plain(client, text("长答案", msg_id="l1"))
    content = reply_fields(body)["Content"]
    assert content.startswith("带身份证到窗口办理。") and "回复“详细”" in content
    _, body = await post_plain(client, text("详细", msg_id="l2"))
    assert dialogue.calls[-1].text == "/repeat"
    first = reply_fields(body)["Content"]
    assert len(first.encode()) <= 2000 and first.endswith("。")
    await wait_for(lambda: len(api_state.pushes) >= 1)  # the rest, split at sentences
    pushed = "".join(p["text"]["content"] for p in api_state.pushes)
    assert first + pushed == "第一步，带身份证到窗口。" * 120


# ---------------------------------------------------------------- the 5-second rule, retries
async def test_slow_answer_says_success_then_pushes(client: Any, api_state: FakeApi,
                                                    monkeypatch: Any) -> None:
    monkeypatch.setattr(wechat_mod, "PASSIVE_WINDOW_S", 0.2)
    status, body = await post_plain(client, text("slow 公积金", msg_id="s1"))
    assert (status, body) == (200, "success")
    await wait_for(lambda: api_state.pushes)
    (push,) = api_state.pushes
    assert push["touser"] == "oResident1" and push["msgtype"] == "text"
    assert push["text"]["content"] == "答：slow 公积金" and push["token"] == "T1"


async def test_retries_are_answered_once(client: Any, dialogue: ScriptedDialogue,
                                         api_state: FakeApi, monkeypatch: Any) -> None:
    bodies = [await post_plain(client, text("你好", msg_id="r1")) for _ in range(3)]
    replies = [reply_fields(b) for _, b in bodies]
    for reply in replies:  # a reply's CreateTime is the second it was sent, not the answer
        reply.pop("CreateTime")
    assert replies[0] == replies[1] == replies[2] and len(dialogue.calls) == 1
    monkeypatch.setattr(wechat_mod, "PASSIVE_WINDOW_S", 0.2)
    first = await post_plain(client, text("slow 医保", msg_id="r2"))
    second = await post_plain(client, text("slow 医保", msg_id="r2"))
    await asyncio.sleep(0.8)
    third = await post_plain(client, text("slow 医保", msg_id="r2"))  # after the answer
    assert [first[1], second[1], third[1]] == ["success"] * 3
    await wait_for(lambda: api_state.pushes)
    await asyncio.sleep(0.5)
    assert len(api_state.pushes) == 1 and len(dialogue.calls) == 2


async def test_events_are_deduplicated_by_sender_and_time(client: Any,
                                                          dialogue: ScriptedDialogue) -> None:
    click = message("event", msg_id=None, create_time=1_700_000_000, Event="CLICK",
                    EventKey="ASK:社保卡")
    for _ in range(3):
        await post_plain(client, click)
    assert len(dialogue.calls) == 1


async def test_a_retry_on_a_second_instance_is_answered_once(aiohttp_client: Any, engine: Any,
                                                             api_url: str, api_state: FakeApi,
                                                             monkeypatch: Any) -> None:
    monkeypatch.setattr(wechat_mod, "PASSIVE_WINDOW_S", 0.2)
    one, two = ScriptedDialogue(delay=0.8), ScriptedDialogue(delay=0.8)
    a, _ = await instance(aiohttp_client, engine, one, api_url)
    b, _ = await instance(aiohttp_client, engine, two, api_url)
    assert (await post_plain(a, text("slow 户口", msg_id="x1")))[1] == "success"
    assert (await post_plain(b, text("slow 户口", msg_id="x1")))[1] == "success"
    await wait_for(lambda: api_state.pushes)
    await asyncio.sleep(1.0)
    assert len(api_state.pushes) == 1 and len(one.calls) + len(two.calls) == 1
    # a fast one retried on the other instance gets the same passive reply, no second turn
    first = await post_plain(a, text("你好", msg_id="x2"))
    again = await post_plain(b, text("你好", msg_id="x2"))
    assert reply_fields(first[1])["Content"] == reply_fields(again[1])["Content"]
    assert len(one.calls) + len(two.calls) == 2


# ---------------------------------------------------------------- hostile input
XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>'
       '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                    for i in range(1, 10))
          + ']><xml><Content>&lol9;</Content></xml>')


@pytest.mark.parametrize("body,status,code", [
    (XXE, 400, "wechat_unsafe_xml"),
    (LAUGHS, 400, "wechat_unsafe_xml"),
    ("<xml><Content>unclosed", 400, "wechat_bad_xml"),
    ("not xml at all", 400, "wechat_bad_xml"),
    ("<root><a>1</a></root>", 400, "wechat_bad_xml"),
    ("<xml><MsgType>text</MsgType></xml>", 400, "wechat_bad_xml"),
    (text("你好").replace("</xml>", "<MsgType>voice</MsgType></xml>"), 400, "wechat_bad_xml"),
    ("   ", 400, "wechat_empty_body"),
    ("<xml>" + "<a>x</a>" * 20000 + "</xml>", 413, "payload_too_large"),
], ids=["xxe", "billion-laughs", "invalid", "not-xml", "wrong-root", "missing-fields",
        "repeated-field", "empty", "oversized"])
async def test_hostile_bodies_are_refused(client: Any, dialogue: ScriptedDialogue, body: str,
                                          status: int, code: str) -> None:
    resp = await client.post(PATH, params=query(), data=body.encode())
    assert resp.status == status and (await resp.json())["error"]["code"] == code
    assert not dialogue.calls


async def test_forged_and_replayed_messages_are_refused(client: Any,
                                                        dialogue: ScriptedDialogue) -> None:
    xml = text("你好", msg_id="f1")
    resp = await client.post(PATH, params={**query(), "signature": "f" * 40}, data=xml.encode())
    assert resp.status == 403
    resp = await client.post(PATH, params=query(ts=int(time.time()) - 3600), data=xml.encode())
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "wechat_stale_timestamp"
    data, q = encrypted(xml)
    resp = await client.post(PATH, params={**q, "msg_signature": "0" * 40}, data=data)
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "wechat_bad_signature"
    garbled = data.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")
    from bot.wechat.crypto import sign
    enc = garbled.split(b"<Encrypt><![CDATA[")[1].split(b"]]>")[0].decode()
    q2 = {**q, "msg_signature": sign(TOKEN, q["timestamp"], q["nonce"], enc)}
    resp = await client.post(PATH, params=q2, data=garbled)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "wechat_decrypt_failed"
    assert not dialogue.calls


async def test_safe_mode_without_a_key_is_a_clear_error(aiohttp_client: Any, engine: Any,
                                                        api_url: str) -> None:
    client, _ = await instance(aiohttp_client, engine, ScriptedDialogue(), api_url, aes=False)
    data, q = encrypted(text("你好"))
    resp = await client.post(PATH, params=q, data=data)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "wechat_no_aes_key"


# ---------------------------------------------------------------- access token and pushes
async def test_expired_token_is_refreshed_and_the_push_retried(client: Any, api_state: FakeApi,
                                                               monkeypatch: Any) -> None:
    monkeypatch.setattr(wechat_mod, "PASSIVE_WINDOW_S", 0.1)
    await post_plain(client, text("slow 1", msg_id="t1"))
    await wait_for(lambda: api_state.pushes)
    api_state.refuse_tokens.append("T1")  # WeChat now says 40001 for the cached token
    await post_plain(client, text("slow 2", msg_id="t2"))
    await wait_for(lambda: len(api_state.pushes) == 2)
    assert [p["token"] for p in api_state.pushes] == ["T1", "T2"]
    assert api_state.tokens_issued == 2


async def test_a_concurrent_refresh_runs_once_across_instances(engine: Any, api_url: str,
                                                               api_state: FakeApi) -> None:
    import aiohttp

    from bot.wechat.api import WeChatApi
    api_state.token_delay = 0.3

    async def run(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async with aiohttp.ClientSession() as session:
        apis = [WeChatApi(session, api_url, APPID, "s3cret", TokenStore(engine, "wechat:x"), run)
                for _ in range(3)]  # three instances sharing one database
        tokens = await asyncio.gather(*(api.access_token() for api in apis for _ in range(2)))
    assert set(tokens) == {"T1"} and api_state.tokens_issued == 1


async def test_pushes_queued_elsewhere_are_sent(client: Any, engine: Any,
                                                 api_state: FakeApi) -> None:
    """A staff answer (``govbot answer``) is queued by another process; the server sends it."""
    OutboxStore(engine).add("wechat", "oResident9", "工作人员回复：已办好。", "handoff-1")
    await wait_for(lambda: api_state.pushes)
    assert api_state.pushes[0]["touser"] == "oResident9"


async def test_failed_pushes_are_retried_then_kept_for_staff(client: Any, engine: Any,
                                                             api_state: FakeApi, monkeypatch: Any,
                                                             caplog: Any) -> None:
    monkeypatch.setattr(wechat_mod, "PASSIVE_WINDOW_S", 0.1)
    api_state.fail_next = [-1, 45009]  # a transient failure, then the API's rate limit
    await post_plain(client, text("slow 重试", msg_id="p1"))
    await wait_for(lambda: api_state.pushes, timeout=15)
    assert api_state.pushes[0]["text"]["content"] == "答：slow 重试"
    api_state.fail_next = [45015]  # the 48-hour window has passed: no point retrying
    with caplog.at_level(logging.ERROR, logger="bot.channels.wechat"):
        await post_plain(client, text("slow 太晚", msg_id="p2"))
        outbox = OutboxStore(engine)
        await wait_for(lambda: outbox.list(status="failed"))
    (failed,) = outbox.list(status="failed")
    assert failed.recipient == "oResident1" and "45015" in failed.last_error
    assert failed.text == "答：slow 太晚" and "45015" in caplog.text
