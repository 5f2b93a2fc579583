"""The jambonz voice webhook: requests built from jambonz's own callback schemas, every
response validated against its verb schemas (@jambonz/schema from npm), the call flow over
the seed knowledge base, and bad input."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
from aiohttp import web

from bot.channels.jambonz import JambonzInput
from bot.turns import TurnRunner
from knowledge.calls import CallStore
from knowledge.deliveries import DeliveryStore
from tests.channels.wechat_fakes import ScriptedDialogue
from tests.conftest import missing

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "@jambonz" / "schema"
BASE = "/webhooks/jambonz"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"jambonz:s3cret").decode()}
TRANSFER = "sip:agent@pbx.example.gov.cn"


class Schemas:
    """jambonz's JSON Schemas, resolved by their ``$id`` (no network)."""

    def __init__(self, root: Path) -> None:
        from jsonschema import Draft202012Validator, RefResolver
        self.store: Dict[str, Any] = {}
        for path in root.rglob("*.schema.json"):
            schema = json.loads(path.read_text(encoding="utf-8"))
            self.store[schema["$id"]] = schema
        self._validator, self._resolver = Draft202012Validator, RefResolver

    def check(self, name: str, instance: Any) -> None:
        """Raise ``jsonschema.ValidationError`` unless ``instance`` is valid."""
        schema = self.store[f"https://jambonz.org/schema/{name}"]
        resolver = self._resolver(schema["$id"], schema, store=self.store)
        self._validator(schema, resolver=resolver).validate(instance)


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    if not (SCHEMA_DIR / "jambonz-app.schema.json").exists():
        missing("@jambonz/schema (npm ci --prefix tests/web)")
    return Schemas(SCHEMA_DIR)


async def instance(aiohttp_client: Any, engine: Any, speech: bool = False,
                   transfer: str = TRANSFER, public_url: str = "", tts: bool = False
                   ) -> Tuple[Any, JambonzInput, ScriptedDialogue]:
    dialogue = ScriptedDialogue()
    runner = TurnRunner(lambda: dialogue, ["jambonz"], deliveries=DeliveryStore(engine))
    channel = JambonzInput("jambonz", "s3cret", speech, transfer, "12345", public_url)
    app = web.Application()
    if public_url or tts:
        from voice.tts import tts_ctx
        app.cleanup_ctx.append(tts_ctx)
    app.add_subapp(BASE, channel.subapp(runner))
    return await aiohttp_client(app), channel, dialogue


@pytest.fixture
async def client(aiohttp_client: Any, engine: Any, seeded_kb: Any) -> Any:
    return (await instance(aiohttp_client, engine))[0]


def session_new(sid: str = "call-1") -> Dict[str, Any]:
    return {"call_sid": sid, "account_sid": "acc", "application_sid": "app",
            "direction": "inbound", "from": "13800138000", "to": "12345",
            "call_id": f"{sid}@sbc", "call_status": "ringing", "sip_status": 100,
            "caller_name": "", "originating_sip_trunk_name": "city-trunk"}


def gather(sid: str = "call-1", digits: str = "", speech: str = "") -> Dict[str, Any]:
    body = dict(session_new(sid), call_status="in-progress", sip_status=200)
    if digits:
        body.update(reason="dtmfDetected", digits=digits)
    elif speech:
        body.update(reason="speechDetected", speech={
            "language_code": "zh-CN", "is_final": True,
            "alternatives": [{"transcript": speech, "confidence": 0.9}]})
    else:
        body.update(reason="timeout")
    return body


async def post(client: Any, schemas: Schemas, hook: str, body: Dict[str, Any],
               callback: str) -> Any:
    schemas.check(f"callbacks/{callback}", body)  # the request is one jambonz would send
    resp = await client.post(f"{BASE}/{hook}", json=body, headers=AUTH)
    assert resp.status == 200, await resp.text()
    verbs = await resp.json()
    schemas.check("jambonz-app", verbs)
    return verbs


def spoken(verbs: Any) -> str:
    verb = verbs[0]
    return (verb.get("say") or verb)["text"]


async def test_keypad_call_greets_chooses_answers_and_transfers_on_zero(client, schemas) -> None:
    verbs = await post(client, schemas, "call", session_new(), "session-new")
    gather_verb = verbs[0]
    assert gather_verb["verb"] == "gather" and gather_verb["input"] == ["digits"]
    assert gather_verb["timeout"] >= 8 and gather_verb["dtmfBargein"] is True
    assert gather_verb["actionHook"] == f"{BASE}/gather"
    text = spoken(verbs)
    assert text.startswith("<speak>") and "请按一" in text and '<break time="1200ms"/>' in text
    category = await post(client, schemas, "gather", gather(digits="1"), "gather")
    answer = await post(client, schemas, "gather", gather(digits="1"), "gather")
    assert "听详细内容，请按一" in spoken(answer)
    detail = await post(client, schemas, "gather", gather(digits="1"), "gather")
    assert len(spoken(detail)) > len(spoken(answer)) and spoken(category) != spoken(answer)
    person = await post(client, schemas, "gather", gather(digits="0"), "gather")
    assert [v["verb"] for v in person] == ["say", "sip:refer"]
    assert person[1]["referTo"] == TRANSFER and person[1]["actionHook"] == f"{BASE}/refer"


async def test_speech_goes_through_the_dialogue(aiohttp_client, engine, seeded_kb,
                                                schemas) -> None:
    client, channel, dialogue = await instance(aiohttp_client, engine, speech=True)
    first = await post(client, schemas, "call", session_new("call-s"), "session-new")
    assert first[0]["input"] == ["digits", "speech"] and first[0]["bargein"] is True
    offer = await post(client, schemas, "gather", gather("call-s", speech="社保卡"), "gather")
    assert "第一个，社保卡丢了怎么补办，请按一" in spoken(offer)
    assert [m.text for m in dialogue.calls] == ["社保卡"]
    assert dialogue.calls[0].sender == "jambonz:call-s"


async def test_silence_reprompts_then_transfers_and_the_state_is_dropped(
        aiohttp_client, engine, seeded_kb, schemas) -> None:
    client, _, _ = await instance(aiohttp_client, engine)
    await post(client, schemas, "call", session_new("call-q"), "session-new")
    calls = CallStore(engine)
    assert calls.get("jambonz", "call-q") is not None
    for _ in range(2):
        again = await post(client, schemas, "gather", gather("call-q"), "gather")
        assert again[0]["verb"] == "gather"
    last = await post(client, schemas, "gather", gather("call-q"), "gather")
    assert last[-1]["verb"] == "sip:refer" and calls.get("jambonz", "call-q") is None


async def test_without_a_transfer_uri_the_caller_gets_the_hotline(aiohttp_client, engine,
                                                                  seeded_kb, schemas) -> None:
    client, _, _ = await instance(aiohttp_client, engine, transfer="")
    await post(client, schemas, "call", session_new("call-h"), "session-new")
    verbs = await post(client, schemas, "gather", gather("call-h", digits="0"), "gather")
    assert [v["verb"] for v in verbs] == ["say", "hangup"] and "幺二三四五" in spoken(verbs)


async def test_a_failed_refer_gives_the_hotline(client, schemas) -> None:
    body = dict(session_new(), call_status="in-progress", refer_status=503)
    schemas.check("callbacks/sip-refer", body)
    resp = await client.post(f"{BASE}/refer", json=body, headers=AUTH)
    verbs = await resp.json()
    schemas.check("jambonz-app", verbs)
    assert [v["verb"] for v in verbs] == ["say", "hangup"] and "幺二三四五" in verbs[0]["text"]


async def test_status_completed_forgets_the_call(client, engine, schemas) -> None:
    await post(client, schemas, "call", session_new("call-z"), "session-new")
    body = dict(session_new("call-z"), call_status="completed", sip_status=200)
    schemas.check("callbacks/call-status", body)
    resp = await client.post(f"{BASE}/status", json=body, headers=AUTH)
    assert resp.status == 204 and CallStore(engine).live("jambonz") == 0


async def test_a_hook_for_an_unknown_call_greets_afresh(client, schemas) -> None:
    verbs = await post(client, schemas, "gather", gather("never-seen", digits="3"), "gather")
    assert "政务服务热线" in spoken(verbs)


@pytest.mark.parametrize("headers,body,status,code", [
    ({}, session_new(), 401, "bad_credentials"),
    ({"Authorization": "Basic " + base64.b64encode(b"jambonz:wrong").decode()}, session_new(),
     401, "bad_credentials"),
    (AUTH, {"from": "x"}, 400, "invalid_call_sid"),
    (AUTH, dict(session_new(), call_sid="../../etc"), 400, "invalid_call_sid"),
    (AUTH, "not json", 400, None),
    (AUTH, "", 400, "empty_body"),
])
async def test_bad_requests_are_refused_with_codes(client, headers, body, status, code) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    resp = await client.post(f"{BASE}/call", data=data,
                             headers={**headers, "Content-Type": "application/json"})
    assert resp.status == status
    if code:
        assert (await resp.json())["error"]["code"] == code


@pytest.mark.parametrize("body,code", [
    (dict(gather(), reason="dtmfDetected", digits="1; DROP"), "invalid_digits"),
    (dict(gather(), reason="speechDetected", speech={"alternatives": "x"}), "invalid_speech"),
    (dict(gather(), reason="exploded"), "invalid_reason"),
])
async def test_malformed_gather_results_are_refused(client, body, code) -> None:
    resp = await client.post(f"{BASE}/gather", json=body, headers=AUTH)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == code


def test_off_without_credentials() -> None:
    assert not JambonzInput().enabled and JambonzInput("u", "p").enabled


async def _asking_for_a_phone(aiohttp_client: Any, engine: Any) -> Tuple[Any, ScriptedDialogue]:
    """A channel whose dialogue asks for a contact phone after "留言"."""
    from bot.channels.base import BotMessage, TurnResult

    client, _, dialogue = await instance(aiohttp_client, engine, speech=True)
    original = dialogue.handle

    async def handle(msg):
        if msg.text == "留言":
            dialogue.calls.append(msg)
            return TurnResult(messages=(BotMessage(text="请留一个联系电话。", custom={
                "type": "ask", "slot": "contact_phone"}),))
        return await original(msg)

    dialogue.handle = handle
    return client, dialogue


async def test_a_number_asked_for_is_typed_with_hash_and_read_back(aiohttp_client, engine,
                                                                    seeded_kb, schemas) -> None:
    client, dialogue = await _asking_for_a_phone(aiohttp_client, engine)
    await post(client, schemas, "call", dict(session_new("call-d"), **{"from": "anonymous"}),
               "session-new")
    entry = await post(client, schemas, "gather", gather("call-d", speech="留言"), "gather")
    assert entry[0]["finishOnKey"] == "#" and entry[0]["maxDigits"] >= 11
    assert entry[0]["input"] == ["digits"] and "numDigits" not in entry[0]
    back = await post(client, schemas, "gather", gather("call-d", digits="13912345678"), "gather")
    assert "幺三九，幺二三四，五六七八" in spoken(back) and back[0]["numDigits"] == 1
    done = await post(client, schemas, "gather", gather("call-d", digits="1"), "gather")
    assert dialogue.calls[-1].text == "13912345678"
    assert done[0]["verb"] == "gather" and "<speak>答：" in spoken(done)


async def test_the_callers_own_number_is_offered_as_the_contact_phone(aiohttp_client, engine,
                                                                      seeded_kb, schemas) -> None:
    client, dialogue = await _asking_for_a_phone(aiohttp_client, engine)
    await post(client, schemas, "call", dict(session_new("call-e"), **{"from": "+8613800138000"}),
               "session-new")
    offer = await post(client, schemas, "gather", gather("call-e", speech="留言"), "gather")
    assert "幺三八，零零幺三，八零零零" in spoken(offer) and offer[0]["numDigits"] == 1
    await post(client, schemas, "gather", gather("call-e", digits="1"), "gather")
    assert dialogue.calls[-1].text == "13800138000"


async def test_prompts_in_govbots_own_voice_are_signed_8_khz_recordings(
        aiohttp_client, engine, seeded_kb, schemas) -> None:
    import io
    import wave
    client, _, _ = await instance(aiohttp_client, engine, public_url="https://gov.example/")
    verbs = await post(client, schemas, "call", session_new("call-a"), "session-new")
    url = verbs[0]["play"]["url"]
    assert "say" not in verbs[0] and url.startswith(f"https://gov.example{BASE}/audio/")
    resp = await client.get(url[len("https://gov.example"):])  # no credentials: signed URL
    assert resp.status == 200 and resp.content_type == "audio/wav"
    with wave.open(io.BytesIO(await resp.read())) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        frames = wav.readframes(wav.getnframes())
    assert len(frames) / 16000 > 5 and frames[-2 * 9600:] == b"\x00" * 2 * 9600  # 1.2 s quiet
    sig, token = url.rsplit("/", 2)[-2:]
    forged = await client.get(f"{BASE}/audio/{'0' * 32}/{token}")
    assert forged.status == 403 and (await forged.json())["error"]["code"] == "bad_signature"
    altered = await client.get(f"{BASE}/audio/{sig}/{'A' + token[1:]}")
    assert altered.status == 403
    person = await post(client, schemas, "gather", gather("call-a", digits="0"), "gather")
    assert [v["verb"] for v in person] == ["play", "sip:refer"]


async def test_the_sip_endpoint_hears_say_verbs_in_govbots_own_voice(
        aiohttp_client, engine, seeded_kb, schemas) -> None:
    """``POST /speech`` with a ``say`` verb's SSML: an 8 kHz WAV with the SSML's pauses."""
    import io
    import wave
    client, _, _ = await instance(aiohttp_client, engine, tts=True)
    verbs = await post(client, schemas, "call", session_new("call-s"), "session-new")
    text = verbs[0]["say"]["text"]
    resp = await client.post(f"{BASE}/speech", json={"text": text}, headers=AUTH)
    assert resp.status == 200 and resp.content_type == "audio/wav", await resp.text()
    with wave.open(io.BytesIO(await resp.read())) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        frames = wav.readframes(wav.getnframes())
    assert frames[-2 * 9600:] == b"\x00" * 2 * 9600  # 1.2 s quiet before the caller's turn
    assert b"\x00" * 2 * 4800 in frames[:-2 * 9600]  # at least 0.6 s between the options
    anonymous = await client.post(f"{BASE}/speech", json={"text": text})
    assert anonymous.status == 401
    bad = await client.post(f"{BASE}/speech", json={"text": "<speak>一"}, headers=AUTH)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_ssml"


def test_govbot_audio_needs_a_public_url() -> None:
    from bot.settings import Settings
    from knowledge.errors import ValidationError
    with pytest.raises(ValidationError, match="GOVBOT_PUBLIC_URL"):
        Settings.from_env({"GOVBOT_JAMBONZ_AUDIO": "govbot"})
    with pytest.raises(ValidationError, match="platform"):
        Settings.from_env({"GOVBOT_JAMBONZ_AUDIO": "espeak"})
    ok = Settings.from_env({"GOVBOT_JAMBONZ_AUDIO": "govbot", "GOVBOT_PUBLIC_URL": "https://x/"})
    assert (ok.jambonz_audio, ok.public_url) == ("govbot", "https://x")


async def test_a_call_put_through_to_a_person_is_kept_as_a_handoff_record(client, engine,
                                                                          schemas) -> None:
    from knowledge.handoffs import HandoffDesk
    await post(client, schemas, "call", session_new("call-h"), "session-new")
    await post(client, schemas, "gather", gather("call-h", digits="0"), "gather")
    (record,) = HandoffDesk(engine).list("transferred")
    assert record["sender"] == "jambonz:call-h" and "按键 0" in record["reason"]
    assert record["transcript"]  # what the caller last heard
