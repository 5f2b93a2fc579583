"""Integration: multi-turn conversations through ``/api/chat`` on a real server with the trained model."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def sender() -> str:
    return "t-" + uuid.uuid4().hex[:12]


def texts(body: dict) -> str:
    return "\n".join(m["text"] for m in body["messages"])


def customs(body: dict, kind: str) -> list:
    return [m["custom"] for m in body["messages"] if (m.get("custom") or {}).get("type") == kind]


def test_health_and_metrics(live_server):
    status, body = live_server.post("/api/chat", json.dumps({"sender": "m1", "text": "你好"}).encode())
    assert status == 200
    import urllib.request
    with urllib.request.urlopen(live_server.url + "/healthz") as resp:
        health = json.loads(resp.read())
    assert health["status"] == "ok" and health["entries_indexed"] >= 80 and health["agent"]
    with urllib.request.urlopen(live_server.url + "/metrics") as resp:
        metrics = resp.read().decode()
    assert "govbot_turns_total" in metrics and 'route="/api/chat"' in metrics


def test_answer_then_follow_up_fields_from_same_entry(live_server):
    s = sender()
    first = live_server.chat(s, "社保卡丢了怎么补办")
    guide = customs(first, "guide") or customs(first, "answer")
    assert guide, first
    entry_id = guide[0]["entry_id"]
    follow = live_server.chat(s, "要带什么材料？")
    fields = customs(follow, "field")
    assert fields and fields[0]["entry_id"] == entry_id, follow
    assert "materials" in fields[0]["fields"]
    where = live_server.chat(s, "在哪里办？")
    assert customs(where, "field")[0]["entry_id"] == entry_id


def test_clarify_then_choose_by_typing_two(live_server):
    s = sender()
    body = live_server.chat(s, "社保卡")
    cands = customs(body, "candidates")
    assert cands, body
    items = cands[0]["candidates"]
    assert 2 <= len(items) <= 3
    assert body["messages"][0]["buttons"][1]["payload"].startswith("/choose_option")
    chosen = live_server.chat(s, "2")
    answered = customs(chosen, "guide") + customs(chosen, "answer")
    assert answered and answered[0]["entry_id"] == items[1]["id"], chosen


def test_clarify_then_choose_by_button_payload(live_server):
    s = sender()
    body = live_server.chat(s, "社保卡")
    items = customs(body, "candidates")[0]["candidates"]
    chosen = live_server.chat(s, body["messages"][0]["buttons"][0]["payload"])
    answered = customs(chosen, "guide") + customs(chosen, "answer")
    assert answered[0]["entry_id"] == items[0]["id"]


def test_unknown_question_is_declined_honestly(live_server):
    body = live_server.chat(sender(), "养狗要办什么证")
    assert customs(body, "none") or customs(body, "candidates"), body
    assert not customs(body, "guide")


def test_handoff_from_anywhere(live_server):
    s = sender()
    live_server.chat(s, "我要投诉")
    body = live_server.chat(s, "转人工")
    handoff = customs(body, "handoff")
    assert handoff and handoff[0]["handoff_id"] >= 1, body
    after = live_server.chat(s, "公积金租房怎么提取")
    assert customs(after, "guide") or customs(after, "answer") or customs(after, "candidates")


def test_complaint_form_with_correction(live_server):
    s = sender()
    assert "具体" in texts(live_server.chat(s, "我要投诉"))
    assert "哪个区" in texts(live_server.chat(s, "我家楼下的饭馆每天半夜还在装修，噪音特别大"))
    assert "电话" in texts(live_server.chat(s, "朝阳区"))
    confirm = live_server.chat(s, "13812345678")
    assert customs(confirm, "ticket_confirm")[0]["phone"] == "13812345678", confirm
    corrected = live_server.chat(s, "电话不对，是13900001111")
    assert customs(corrected, "ticket_confirm")[0]["phone"] == "13900001111", corrected
    done = live_server.chat(s, "确认")
    ticket = customs(done, "ticket")
    assert ticket and ticket[0]["number"].startswith("GD"), done


def test_progress_check(live_server):
    s = sender()
    assert "编号" in texts(live_server.chat(s, "帮我查一下办件进度"))
    body = live_server.chat(s, "SB202611200001")
    progress = customs(body, "progress")
    assert progress and progress[0]["found"], body


def test_a_ticket_number_brings_the_staff_answer_back_to_its_sender(live_server):
    s = sender()
    live_server.chat(s, "我要投诉")
    live_server.chat(s, "小区门口的路灯坏了一个多月了")
    live_server.chat(s, "朝阳区")
    live_server.chat(s, "13812345678")
    number = customs(live_server.chat(s, "确认"), "ticket")[0]["number"]
    waiting = customs(live_server.chat(s, f"查询{number}"), "progress")
    assert waiting and waiting[0]["found"] and waiting[0]["status"] == "new", waiting
    subprocess.run([sys.executable, "-m", "bot.cli", "answer", "ticket", number,
                    "已通知街道，三日内修好。"], cwd=ROOT, env=live_server.env, check=True,
                   capture_output=True)
    body = live_server.chat(s, f"我的工单{number}处理得怎么样了")
    assert customs(body, "progress")[0]["answer"] == "已通知街道，三日内修好。", body
    assert "三日内修好" in texts(body)
    stranger = live_server.chat(sender(), f"查询{number}")  # numbers run in sequence
    assert customs(stranger, "progress")[0]["status"] == "answered"
    assert "三日内修好" not in texts(stranger), stranger


def test_preferences_and_repeat(live_server):
    s = sender()
    first = live_server.chat(s, "租房可以提取公积金吗")
    body = live_server.chat(s, "说慢一点")
    assert body["preferences"]["rate"] == "slow"
    again = live_server.chat(s, "再说一遍")
    assert again["messages"][0]["text"] == first["messages"][0]["text"]
    assert again["preferences"]["rate"] == "slow"
    assert live_server.chat(s, "字太小了看不清")["preferences"]["large_text"] is True


@pytest.mark.parametrize("body,status,code", [
    (b"", 400, "empty_body"),
    (b"{not json", 400, "invalid_json"),
    (b"\xff\xfe\x00bad", 400, "invalid_encoding"),
    (b"[1,2]", 400, "invalid_json"),
    (json.dumps({"sender": "a", "text": ""}).encode(), 400, "empty_text"),
    (json.dumps({"sender": "a", "text": "   "}).encode(), 400, "empty_text"),
    (json.dumps({"sender": "a", "text": "你好\x07"}).encode(), 400, "control_characters"),
    (json.dumps({"sender": "a b", "text": "你好"}).encode(), 400, "invalid_sender"),
    (json.dumps({"sender": "a", "text": 5}).encode(), 400, "invalid_text"),
    (json.dumps({"sender": "a", "text": "你好", "message_id": "a b"}).encode(), 400,
     "invalid_message_id"),
    (json.dumps({"sender": "a", "text": "你好", "message_id": 7}).encode(), 400,
     "invalid_message_id"),
    (json.dumps({"sender": "a", "text": "字" * 3000}, ensure_ascii=False).encode(), 413, "text_too_long"),
    (json.dumps({"sender": "a", "text": "字" * 100_000}, ensure_ascii=False).encode(), 413,
     "payload_too_large"),
])
def test_bad_input_gets_clear_json_error(live_server, body, status, code):
    got_status, got = live_server.post("/api/chat", body)
    assert got_status == status, got
    assert got["error"]["code"] == code and got["error"]["message"]


def test_html_is_accepted_and_echoed_inert(live_server):
    s = sender()
    body = live_server.chat(s, "<script>alert('x')</script>社保卡怎么补办")
    assert body["messages"]
    raw_status, raw = live_server.post("/api/chat", json.dumps(
        {"sender": s, "text": "<img src=x onerror=alert(1)>"}).encode())
    assert raw_status == 200


def test_server_survives_bad_input_and_keeps_serving(live_server):
    for _ in range(3):
        live_server.post("/api/chat", b"\x00\x01\x02")
    assert live_server.chat(sender(), "你好")["messages"]


@pytest.mark.parametrize("start", [
    [],                                       # before anything
    ["社保卡丢了怎么补办"],                    # after an answer
    ["社保卡"],                               # while candidates are on offer
    ["我要投诉"],                             # inside the complaint form
    ["我要投诉", "路灯坏了一个月了", "朝阳区"],  # deeper in the form
    ["帮我查一下办件进度"],                    # inside the progress check
    ["养狗要办什么证"],                        # after "I don't know"
], ids=["start", "answered", "clarifying", "complaint", "complaint-phone", "progress", "none"])
@pytest.mark.parametrize("word", ["0", "人工", "转人工"])
def test_a_person_from_every_state(live_server, start, word):
    s = sender()
    for text in start:
        live_server.chat(s, text)
    body = live_server.chat(s, word)
    assert customs(body, "handoff"), body


def test_a_rest_caller_cannot_address_a_web_conversation(live_server):
    web_sender = "wtest" + uuid.uuid4().hex[:12]
    status, _ = live_server.post("/webhooks/web/messages", json.dumps({
        "type": "message", "id": "w1", "sender": web_sender, "text": "租房可以提取公积金吗"},
        ensure_ascii=False).encode())
    assert status == 200
    body = live_server.chat(f"web:{web_sender}", "再说一遍")  # the old way into web's tracker
    assert "还没有开始" in texts(body), body


def test_a_retried_message_id_gets_the_same_reply_once(live_server):
    s = sender()
    first = live_server.chat(s, "社保卡", message_id="r-1")
    again = live_server.chat(s, "社保卡", message_id="r-1")
    assert again == first
    chosen = live_server.chat(s, "2", message_id="r-2")  # the offer was made once, not twice
    assert customs(chosen, "guide") or customs(chosen, "answer"), chosen


def test_metrics_labels_come_only_from_registered_channels(live_server):
    import urllib.request
    live_server.chat(sender(), "你好", channel="attacker_series_1")
    live_server.chat(sender(), "社保卡")
    with urllib.request.urlopen(live_server.url + "/metrics") as resp:
        metrics = resp.read().decode()
    assert "attacker_series_1" not in metrics
    assert 'govbot_turns_total{channel="api"}' in metrics
    assert 'govbot_kb_decisions_total{channel="api",decision="clarify"}' in metrics


def test_rasa_console_client_streams_from_the_rest_webhook(live_server):
    """Rasa's own console client (``rasa shell`` against a server) reads NDJSON lines."""
    import asyncio

    from rasa.core.channels.console import _send_message_receive_stream

    async def converse() -> list:
        return [m async for m in _send_message_receive_stream(
            live_server.url, "", "console-" + uuid.uuid4().hex[:8], "社保卡丢了怎么补办")]

    messages = asyncio.run(converse())
    assert messages and all(isinstance(m, dict) and m.get("text") for m in messages), messages
    assert messages[0]["recipient_id"].startswith("console-")


def test_a_follow_up_first_asks_which_service(live_server):
    body = live_server.chat(sender(), "需要哪些材料？")
    assert texts(body).startswith("请问您要办理哪项业务") and not customs(body, "candidates")


@pytest.mark.parametrize("follow_up", ["收费吗", "要收费吗", "花钱不"])
def test_fee_follow_ups_stay_on_the_current_entry(live_server, follow_up):
    s = sender()
    first = live_server.chat(s, "社保卡丢了怎么补办")
    entry = (customs(first, "guide") + customs(first, "answer"))[0]["entry_id"]
    body = live_server.chat(s, follow_up)
    assert [c["entry_id"] for c in customs(body, "field")] == [entry], body


def test_thanks_and_goodbye_do_not_start_the_progress_check(live_server):
    body = live_server.chat(sender(), "好的 谢谢你 没有别的事情要问了 再见啦")
    assert "编号" not in texts(body), body
