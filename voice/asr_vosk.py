"""Vosk: vosk-server over WebSocket (its documented protocol: a config message, binary audio
frames each answered with a partial or a result, ``{"eof" : 1}`` for the final result), or
the ``vosk`` package in-process with a local model directory."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any, List, Mapping, Optional

import aiohttp

from voice.asr import UNREACHABLE_MESSAGE, AsrError, AsrResult, Recognizer, register_backend
from voice.audio import chunks, decode, resample

_LOGGER = logging.getLogger(__name__)

RATE = 16000
CHUNK_BYTES = 8000  # a quarter second, as vosk-server's own test client sends
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def joined(texts: List[str]) -> str:
    """Vosk's Chinese models put spaces between words: "社保 卡 怎么 补办" -> "社保卡怎么补办"."""
    return _CJK_SPACE.sub("", " ".join(t.strip() for t in texts if t and t.strip()))


def _confidence(result: Mapping[str, Any]) -> float:
    words = result.get("result") or []
    confs = [float(w.get("conf", 0.0)) for w in words if isinstance(w, Mapping)]
    return sum(confs) / len(confs) if confs else (1.0 if result.get("text") else 0.0)


class VoskServerRecognizer(Recognizer):
    """``GOVBOT_ASR_BACKEND=vosk-server``, ``GOVBOT_ASR_URL=ws://host:2700``."""

    name = "vosk-server"

    def __init__(self, url: str, timeout: float = 15.0) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"GOVBOT_ASR_URL must be a ws:// or wss:// URL for vosk-server, "
                             f"not {url!r}")
        self.url, self.timeout = url, timeout
        self._session: Optional[aiohttp.ClientSession] = None

    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        """Stream the audio, collect the results, ask for the final one.

        Raises:
            AsrError: Unreadable audio, an unreachable server, or no answer in time.
        """
        pcm = resample(decode(audio, content_type), RATE)
        try:
            return await asyncio.wait_for(self._exchange(pcm.data), self.timeout)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as exc:
            _LOGGER.warning("vosk-server at %s failed: %s", self.url, type(exc).__name__)
            raise AsrError(UNREACHABLE_MESSAGE, "asr_unavailable") from exc

    async def _exchange(self, data: bytes) -> AsrResult:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        results: List[Mapping[str, Any]] = []
        async with self._session.ws_connect(self.url, heartbeat=None) as ws:
            await ws.send_str(json.dumps({"config": {"sample_rate": RATE}}))
            for piece in chunks(data, CHUNK_BYTES):
                await ws.send_bytes(piece)
                reply = json.loads(await ws.receive_str())
                if "text" in reply:  # a finished utterance; partials are skipped
                    results.append(reply)
            await ws.send_str('{"eof" : 1}')
            results.append(json.loads(await ws.receive_str()))
        text = joined([str(r.get("text", "")) for r in results])
        spoken = [r for r in results if r.get("text")]
        conf = sum(map(_confidence, spoken)) / len(spoken) if spoken else 0.0
        return AsrResult(text, conf)

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()


class VoskRecognizer(Recognizer):
    """``GOVBOT_ASR_BACKEND=vosk``, ``GOVBOT_ASR_MODEL_DIR=/srv/vosk-model-cn``: in-process."""

    name = "vosk"

    def __init__(self, model_dir: Path) -> None:
        if not (model_dir / "am").is_dir() and not (model_dir / "final.mdl").exists():
            raise ValueError(f"Vosk 模型目录不存在或不完整：{model_dir} / the Vosk model directory "
                             f"is missing or incomplete (download a Chinese model such as "
                             f"vosk-model-cn-0.22 and unpack it there)")
        try:
            import vosk  # optional: pip install vosk
        except ImportError:
            raise ValueError("GOVBOT_ASR_BACKEND=vosk 需要 vosk 包：pip install vosk / needs "
                             "the vosk package") from None
        self._vosk = vosk
        self._model = vosk.Model(str(model_dir))

    def _run(self, data: bytes) -> AsrResult:
        rec = self._vosk.KaldiRecognizer(self._model, RATE)
        texts: List[str] = []
        for piece in chunks(data, CHUNK_BYTES):
            if rec.AcceptWaveform(piece):
                texts.append(json.loads(rec.Result()).get("text", ""))
        final = json.loads(rec.FinalResult())
        return AsrResult(joined(texts + [final.get("text", "")]), _confidence(final))

    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        """Decode on a worker thread (a model run takes longer than the event loop may wait)."""
        pcm = resample(decode(audio, content_type), RATE)
        return await asyncio.to_thread(self._run, pcm.data)


def server_from_env(env: Mapping[str, str]) -> VoskServerRecognizer:
    """Build from ``GOVBOT_ASR_URL`` and ``GOVBOT_ASR_TIMEOUT``."""
    url = (env.get("GOVBOT_ASR_URL") or "").strip()
    if not url:
        raise ValueError("GOVBOT_ASR_BACKEND=vosk-server 需要 GOVBOT_ASR_URL（如 ws://127.0.0.1:2700）"
                         " / GOVBOT_ASR_BACKEND=vosk-server needs GOVBOT_ASR_URL")
    return VoskServerRecognizer(url, float(env.get("GOVBOT_ASR_TIMEOUT") or 15))


def local_from_env(env: Mapping[str, str]) -> VoskRecognizer:
    """Build from ``GOVBOT_ASR_MODEL_DIR``."""
    model_dir = (env.get("GOVBOT_ASR_MODEL_DIR") or "").strip()
    if not model_dir:
        raise ValueError("GOVBOT_ASR_BACKEND=vosk 需要 GOVBOT_ASR_MODEL_DIR / needs "
                         "GOVBOT_ASR_MODEL_DIR (a Vosk model directory)")
    return VoskRecognizer(Path(model_dir))


register_backend("vosk-server", server_from_env)
register_backend("vosk", local_from_env)
