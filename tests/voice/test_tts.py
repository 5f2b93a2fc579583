"""TTS service: real espeak-ng audio from a worker process, cache, restarts, timeouts, /api/tts."""
from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import time
import wave
from typing import Any

import pytest
from aiohttp import web

from bench.phone_audio import spoken_seconds
from bot.errors import error_middleware
from bot.voice_api import voice_routes
from bot.voice_api import MAX_TTS_BODY, MAX_TTS_CHARS
from voice.tts import TTS, TtsError, TtsService, TtsUnavailable, tts_ctx

_LOGGER = logging.getLogger(__name__)
SENTENCE = "请拨打12345咨询，办公时间9:00-17:00。"


def wav_info(audio: bytes) -> tuple:
    """(channels, sample width, rate, seconds) of a WAV."""
    with wave.open(io.BytesIO(audio)) as wav:
        return (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(),
                wav.getnframes() / wav.getframerate())


async def test_real_wav_with_plausible_duration(tts: TtsService) -> None:
    audio = await tts.synthesize(SENTENCE)
    channels, width, rate, seconds = wav_info(audio)
    assert (channels, width, rate) == (1, 2, 22050)
    # 请拨打幺二三四五咨询，办公时间九点到十七点: 20 syllables at about 190 a minute.
    assert 3.0 < seconds < 12.0, seconds


PASSAGE = ("社保卡丢失后请尽快挂失，然后带身份证到社保服务窗口申请补办，新卡一般十个工作日内可以领取。"
           "办理时请携带本人居民身份证原件，委托他人代办的，还需要提供代办人的身份证件。")


async def test_speech_rate_suits_older_listeners(tts: TtsService) -> None:
    """Characters per minute of real audio: 180–200 by default, at most 150 when slowed."""
    chars = sum("\u4e00" <= c <= "\u9fff" for c in PASSAGE)
    normal = chars / spoken_seconds(await tts.synthesize(PASSAGE)) * 60
    slow = chars / spoken_seconds(await tts.synthesize(PASSAGE, rate="slow")) * 60
    assert 180 <= normal <= 200 and 135 <= slow <= 150, (normal, slow)


async def test_slow_rate_is_longer(tts: TtsService) -> None:
    normal = wav_info(await tts.synthesize(SENTENCE, rate="normal"))[3]
    slow = wav_info(await tts.synthesize(SENTENCE, rate="slow"))[3]
    assert slow > normal * 1.25, (normal, slow)


async def test_rate_changes_apply_to_the_very_next_job(tts: TtsService) -> None:
    """espeak-ng applies rate changes asynchronously; alternating rates must not leak across jobs."""
    durations = {"normal": set(), "slow": set()}
    for i in range(12):
        rate = ("normal", "slow")[i % 2]
        audio = await tts.synthesize(f"第{i}次：{SENTENCE}", rate=rate)
        durations[rate].add(wav_info(audio)[3])
    assert max(durations["normal"]) * 1.25 < min(durations["slow"]), durations


async def test_text_is_normalised_before_synthesis(tts: TtsService) -> None:
    spoken = await tts.synthesize("热线幺二三四五")
    jobs = tts.stats.jobs
    assert await tts.synthesize("热线12345") == spoken  # same speech text: served from cache
    assert tts.stats.jobs == jobs and tts.stats.cache_hits == 1


async def test_cache_is_bounded() -> None:
    service = TtsService(cache_bytes=150_000)
    await service.start()
    try:
        for text in ("第一句话。", "第二句话。", "第三句话，比较长一些。"):
            await service.synthesize(text)
        info = service.cache_info()
        assert info["bytes"] <= 150_000 and info["entries"] < 3
    finally:
        await service.stop()


async def test_concurrent_requests_are_serialised(tts: TtsService) -> None:
    texts = [f"这是第{i}条回答。" for i in range(1, 6)]
    results = await asyncio.gather(*(tts.synthesize(t) for t in texts))
    assert all(wav_info(a)[3] > 0.5 for a in results)
    assert len(set(results)) == len(texts)


async def test_worker_killed_between_jobs_is_restarted(tts: TtsService) -> None:
    pid = tts.worker_pid
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    audio = await tts.synthesize("重启以后继续朗读。")
    assert wav_info(audio)[3] > 0.5
    assert tts.stats.restarts == 1 and tts.worker_pid not in (None, pid)


async def test_worker_dying_mid_job_gives_clear_error(tts: TtsService) -> None:
    pid = tts.worker_pid
    os.kill(pid, signal.SIGSTOP)  # freeze it so the job is in flight when it dies
    job = asyncio.create_task(tts.synthesize("这一句会被中断。"))
    await asyncio.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(TtsError) as err:
        await asyncio.wait_for(job, timeout=10)
    assert "中断" in err.value.message
    assert wav_info(await tts.synthesize("恢复正常。"))[3] > 0.3


async def test_hung_worker_times_out_and_recovers() -> None:
    service = TtsService(job_timeout=1.5)
    await service.start()
    try:
        os.kill(service.worker_pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(TtsError) as err:
            await service.synthesize("这一句会超时。")
        assert time.monotonic() - started < 8 and "超时" in err.value.message
        assert wav_info(await service.synthesize("超时之后恢复。"))[3] > 0.3
    finally:
        await service.stop()


async def test_missing_voice_reports_unavailable() -> None:
    service = TtsService(voice="no-such-voice-xyz", start_timeout=20)
    await service.start()
    try:
        assert not service.available and "no-such-voice-xyz" in service.unavailable_reason
        with pytest.raises(TtsUnavailable):
            await service.synthesize("你好")
    finally:
        await service.stop()


async def test_bad_arguments(tts: TtsService) -> None:
    with pytest.raises(ValueError):
        await tts.synthesize("你好", rate="fast")
    with pytest.raises(ValueError):
        await tts.synthesize("<p></p> https://example.org")


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = web.Application(middlewares=[error_middleware])
    app.cleanup_ctx.append(tts_ctx)
    app.add_routes([web.route(r.method, "/api" + r.path, r.handler) for r in voice_routes()])
    return await aiohttp_client(app)


async def test_api_tts_returns_wav(client: Any) -> None:
    resp = await client.post("/api/tts", json={"text": "社保卡补办需要3个工作日。", "rate": "slow"})
    assert resp.status == 200 and resp.content_type == "audio/wav"
    assert wav_info(await resp.read())[3] > 1.0
    assert client.server.app[TTS].stats.jobs == 1


@pytest.mark.parametrize("body,status,code", [
    (b"not json", 400, "bad_json"),
    (b"[1, 2]", 400, "bad_json"),
    (b'{"rate": "slow"}', 400, "missing_text"),
    (b'{"text": "   "}', 400, "missing_text"),
    (b'{"text": "hi", "rate": "fast"}', 400, "bad_rate"),
    (b'{"text": "hi", "volume": 11}', 400, "bad_volume"),
    (('{"text": "%s"}' % ("长" * (MAX_TTS_CHARS + 1))).encode(), 400, "text_too_long"),
    (b'{"text": "' + b"a" * (MAX_TTS_BODY + 10) + b'"}', 413, "payload_too_large"),
    (b'{"text": "<br>"}', 400, "nothing_to_say"),
], ids=["not-json", "not-object", "no-text", "blank", "rate", "volume", "too-many-chars",
        "body-too-large", "nothing-to-say"])
async def test_api_tts_rejects_bad_input(client: Any, body: bytes, status: int, code: str) -> None:
    resp = await client.post("/api/tts", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == status
    assert (await resp.json())["error"]["code"] == code


async def test_api_tts_without_worker_is_503(aiohttp_client: Any) -> None:
    app = web.Application(middlewares=[error_middleware])
    app.add_routes([web.route(r.method, "/api" + r.path, r.handler) for r in voice_routes()])
    client = await aiohttp_client(app)
    resp = await client.post("/api/tts", json={"text": "你好"})
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "tts_unavailable"


def test_worker_does_not_rerun_the_parents_main_script(tmp_path: Any) -> None:
    """spawn would re-import the parent's __main__ (e.g. the govbot script, loading Rasa) in the worker."""
    import subprocess
    import sys

    marker = tmp_path / "imports.txt"
    script = tmp_path / "main_script.py"
    script.write_text(
        "import asyncio, pathlib, sys\n"
        "with open(sys.argv[1], 'a') as fh: fh.write('x')  # unguarded side effect on import\n"
        "from voice.tts import TtsService\n"
        "async def go():\n"
        "    s = TtsService(); await s.start(); assert s.available\n"
        "    assert len(await s.synthesize('你好')) > 1000; await s.stop()\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(go())\n", encoding="utf-8")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, str(script), str(marker)], check=True, timeout=60, cwd=root,
                   env=dict(os.environ, PYTHONPATH=root))
    assert marker.read_text() == "x"


def test_worker_exits_when_its_parent_is_killed(tmp_path: Any) -> None:
    import subprocess
    import sys

    pid_file = tmp_path / "worker.pid"
    script = (
        "import asyncio, sys, time\n"
        "from voice.tts import TtsService\n"
        "async def go():\n"
        "    s = TtsService(); await s.start()\n"
        "    open(sys.argv[1], 'w').write(str(s.worker_pid)); time.sleep(60)\n"
        "asyncio.run(go())\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parent = subprocess.Popen([sys.executable, "-c", script, str(pid_file)], cwd=root,
                              env=dict(os.environ, PYTHONPATH=root))
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.1)
        worker = int(pid_file.read_text())
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{worker}") or "Z" in open(f"/proc/{worker}/stat").read().split()[2]
