"""The FunASR and vosk-server backends against fake servers that speak each documented
protocol exactly, the in-process Vosk backend's configuration errors, and audio conversion."""
from __future__ import annotations

import asyncio
import io
import json
import math
import struct
import wave
from typing import Any, List

import pytest
from aiohttp import WSMsgType, web

from voice.asr import AsrError, create_recognizer
from voice.audio import MAX_SECONDS, decode, resample


def wav(seconds: float = 1.0, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    """A 440 Hz tone as WAV."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        value = int(0.3 * math.sin(2 * math.pi * 440 * i / rate) * (2 ** (8 * width - 1) - 1))
        sample = (value + 128).to_bytes(1, "little") if width == 1 else \
            struct.pack("<h", value)
        frames += sample * channels
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


class FakeFunAsr:
    """FunASR's offline WebSocket protocol: JSON config, binary audio, {"is_speaking": false},
    then one JSON result."""

    def __init__(self, text: str = "社保卡丢了怎么补办") -> None:
        self.text, self.opening, self.audio, self.closed_right = text, None, b"", False

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if self.opening is None:
                    self.opening = data
                elif data == {"is_speaking": False}:
                    self.closed_right = True
                    await ws.send_str(json.dumps({"mode": "offline", "wav_name": data.get(
                        "wav_name", self.opening["wav_name"]), "text": self.text,
                        "is_final": False}, ensure_ascii=False))
            elif msg.type == WSMsgType.BINARY:
                self.audio += msg.data
        return ws


class FakeVoskServer:
    """vosk-server's protocol: {"config": ...}, each binary frame answered with a partial or a
    result, {"eof" : 1} answered with the final result."""

    def __init__(self, words: List[str]) -> None:
        self.words, self.config, self.audio, self.frames = words, None, b"", 0

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and "config" in msg.data:
                self.config = json.loads(msg.data)["config"]
            elif msg.type == WSMsgType.TEXT and json.loads(msg.data) == {"eof": 1}:
                await ws.send_str(json.dumps({"result": [{"word": w, "conf": 0.8}
                                                         for w in self.words[2:]],
                                              "text": " ".join(self.words[2:])}))
                await ws.close()
            elif msg.type == WSMsgType.BINARY:
                self.audio += msg.data
                self.frames += 1
                if self.frames == 2:
                    await ws.send_str(json.dumps({"result": [
                        {"word": w, "conf": 1.0} for w in self.words[:2]],
                        "text": " ".join(self.words[:2])}))
                else:
                    await ws.send_str(json.dumps({"partial": "社保"}))
        return ws


async def serve(aiohttp_server: Any, handler: Any) -> str:
    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("/")).replace("http://", "ws://")


async def test_funasr_sends_its_protocol_and_reads_the_result(aiohttp_server) -> None:
    fake = FakeFunAsr()
    url = await serve(aiohttp_server, fake.handler)
    rec = create_recognizer({"GOVBOT_ASR_BACKEND": "funasr", "GOVBOT_ASR_URL": url})
    try:
        result = await rec.recognize(wav(1.0, 8000, channels=2, width=1), "audio/wav")
    finally:
        await rec.close()
    assert result.text == "社保卡丢了怎么补办"
    assert fake.opening == {"mode": "offline", "wav_name": "govbot", "wav_format": "pcm",
                            "is_speaking": True, "itn": True, "audio_fs": 16000}
    assert fake.closed_right and 2 * 16000 - len(fake.audio) in (0, 2)  # 1 s, 16 kHz, mono


async def test_funasr_passes_compressed_audio_through(aiohttp_server) -> None:
    fake = FakeFunAsr("你好")
    url = await serve(aiohttp_server, fake.handler)
    rec = create_recognizer({"GOVBOT_ASR_BACKEND": "funasr", "GOVBOT_ASR_URL": url})
    try:
        assert (await rec.recognize(b"\x1aE\xdf\xa3webm-bytes", "audio/webm")).text == "你好"
    finally:
        await rec.close()
    assert fake.opening["wav_format"] == "webm" and "audio_fs" not in fake.opening
    assert fake.audio == b"\x1aE\xdf\xa3webm-bytes"


async def test_vosk_server_collects_results_and_joins_chinese_words(aiohttp_server) -> None:
    fake = FakeVoskServer(["社保", "卡", "怎么", "补办"])
    url = await serve(aiohttp_server, fake.handler)
    rec = create_recognizer({"GOVBOT_ASR_BACKEND": "vosk-server", "GOVBOT_ASR_URL": url})
    try:
        result = await rec.recognize(wav(1.0, 16000), "audio/wav")
    finally:
        await rec.close()
    assert result.text == "社保卡怎么补办" and 0.8 < result.confidence <= 1.0
    assert fake.config == {"sample_rate": 16000} and len(fake.audio) == 32000  # no resampling
    assert fake.frames == 4  # 8,000-byte frames, each answered


async def test_an_unreachable_server_is_a_clear_error(unused_tcp_port) -> None:
    for backend in ("funasr", "vosk-server"):
        rec = create_recognizer({"GOVBOT_ASR_BACKEND": backend, "GOVBOT_ASR_TIMEOUT": "2",
                                 "GOVBOT_ASR_URL": f"ws://127.0.0.1:{unused_tcp_port}/"})
        with pytest.raises(AsrError) as err:
            await rec.recognize(wav(0.2), "audio/wav")
        await rec.close()
        assert err.value.code == "asr_unavailable" and "暂时不可用" in err.value.message


async def test_a_server_that_never_answers_times_out(aiohttp_server) -> None:
    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await asyncio.sleep(5)
        return ws

    url = await serve(aiohttp_server, silent)
    rec = create_recognizer({"GOVBOT_ASR_BACKEND": "funasr", "GOVBOT_ASR_URL": url,
                             "GOVBOT_ASR_TIMEOUT": "0.5"})
    with pytest.raises(AsrError, match="暂时不可用"):
        await rec.recognize(wav(0.2), "audio/wav")
    await rec.close()


@pytest.mark.parametrize("env,words", [
    ({"GOVBOT_ASR_BACKEND": "funasr"}, "GOVBOT_ASR_URL"),
    ({"GOVBOT_ASR_BACKEND": "funasr", "GOVBOT_ASR_URL": "http://x"}, "ws://"),
    ({"GOVBOT_ASR_BACKEND": "vosk-server"}, "GOVBOT_ASR_URL"),
    ({"GOVBOT_ASR_BACKEND": "vosk"}, "GOVBOT_ASR_MODEL_DIR"),
    ({"GOVBOT_ASR_BACKEND": "vosk", "GOVBOT_ASR_MODEL_DIR": "/nonexistent/vosk-model-cn"},
     "模型目录不存在"),
])
def test_configuration_mistakes_stop_start_up_with_a_clear_message(env, words) -> None:
    with pytest.raises(ValueError, match=words):
        create_recognizer(env)


def test_audio_is_converted_to_16_bit_mono_at_the_rate_asked() -> None:
    pcm = decode(wav(0.5, 8000, channels=2, width=1), "audio/wav")
    assert pcm.rate == 8000 and len(pcm.data) == 8000  # 0.5 s, mono, 16-bit
    assert 16000 - len(resample(pcm, 16000).data) in (0, 2)
    tone = decode(wav(0.1, 8000, width=1), "audio/wav").data
    peak = max(abs(v) for (v,) in struct.iter_unpack("<h", tone))
    assert 5000 < peak < 12000  # the 0.3 tone; read as signed bytes it would hit 32,000
    raw = decode(b"\x01\x00" * 8000 + b"\x01", "audio/l16; rate=8000")
    assert raw.rate == 8000 and raw.seconds == 1.0


@pytest.mark.parametrize("audio,kind,code", [
    (b"RIFF....broken", "audio/wav", "asr_bad_audio"),
    (b"", "audio/pcm", "asr_empty_audio"),
    (b"\x00\x00" * 16000 * (MAX_SECONDS + 1), "audio/pcm", "asr_too_long"),
    (b"ID3...", "audio/mpeg", "asr_unsupported_format"),
])
def test_bad_audio_is_a_coded_error(audio, kind, code) -> None:
    with pytest.raises(AsrError) as err:
        decode(audio, kind)
    assert err.value.code == code

