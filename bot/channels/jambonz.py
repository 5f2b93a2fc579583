"""Phone calls from a jambonz platform at ``/webhooks/jambonz/``: the call webhook, the gather
and refer action hooks and the call-status callback, answered with verb arrays."""
from __future__ import annotations

import asyncio
import base64
import hmac
import logging
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Sequence

from aiohttp import web

from bot.channels.base import ChannelInput, ChannelOutput, TurnResult
from bot.channels.rest import read_json
from bot.errors import Unauthorized, Unavailable
from bot.jambonz.audio import AudioRequest, audio_path, parse_audio, parse_speech
from bot.jambonz.parse import CallStart, CallStatus, GatherResult
from bot.jambonz.render import verbs
from bot.turns import Turn, TurnBusy, TurnFailed
from knowledge.calls import CallStore
from knowledge.catalog import KbCatalog
from knowledge.records import Records
from voice.callflow import CallEvent, CallFlow, CallState, Step
from voice.prompt_audio import prompt_wav
from voice.prompts import Prompt
from voice.tts import TTS, TtsError

_LOGGER = logging.getLogger(__name__)

HOOKS = "/webhooks/jambonz"
REFER_FAILED = "抱歉，转接没有成功。请挂机后拨打{hotline}热线，再见。"


class JambonzOutput(ChannelOutput):
    """Renders call-flow steps (and, for completeness, plain turns) as verb arrays; with an
    ``audio_base``, prompts are ``play`` verbs of govbot's own signed recordings."""

    def __init__(self, transfer_uri: str = "", audio_base: str = "", secret: str = "") -> None:
        self.transfer_uri, self.audio_base, self.secret = transfer_uri, audio_base, secret

    def audio_url(self, request: AudioRequest) -> Optional[str]:
        """The URL of a prompt's recording (None: too long, the platform speaks it)."""
        path = audio_path(request, self.secret)
        return f"{self.audio_base}/{path}" if path else None

    def step(self, step: Step) -> List[Dict[str, Any]]:
        """The verbs of one call-flow step."""
        return verbs(step, HOOKS, self.transfer_uri,
                     self.audio_url if self.audio_base else None)

    def render(self, result: TurnResult) -> List[Dict[str, Any]]:
        """A turn's messages spoken, then listen."""
        prompt = Prompt.of(*(m.text for m in result.messages if m.text))
        return self.step(Step(prompt, "listen", rate=result.preferences.rate))


class JambonzInput(ChannelInput):
    """``POST call | gather | refer | status``; on when ``GOVBOT_JAMBONZ_USER`` is set."""

    name = "jambonz"

    def __init__(self, user: str = "", password: str = "", speech: bool = True,
                 transfer_uri: str = "", hotline: str = "12345", public_url: str = "") -> None:
        self.user, self.password, self.speech = user, password, speech
        self.hotline = hotline
        audio_base = f"{public_url.rstrip('/')}{HOOKS}/audio" if public_url else ""
        self.output = JambonzOutput(transfer_uri, audio_base, password)
        self.calls: Optional[CallStore] = None
        self.catalog: Optional[KbCatalog] = None
        self._locks: Dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> "JambonzInput":
        """Off while ``GOVBOT_JAMBONZ_USER`` is unset."""
        public = settings.public_url if settings.jambonz_audio == "govbot" else ""
        return cls(settings.jambonz_user, settings.jambonz_password, settings.jambonz_speech,
                   settings.sip_transfer_uri, settings.hotline, public)

    @property
    def enabled(self) -> bool:
        """Mounted only with webhook credentials (jambonz's HTTP basic authentication)."""
        return bool(self.user and self.password)

    def routes(self) -> List[web.RouteDef]:
        """The call webhook, the action hooks and the status callback."""
        return [web.post("/call", self.call), web.post("/gather", self.gather),
                web.post("/refer", self.refer), web.post("/status", self.status),
                web.post("/speech", self.say),
                web.get(r"/audio/{sig:[0-9a-f]{32}}/{token:[A-Za-z0-9_-]{1,6000}}.wav",
                        self.audio)]

    def middlewares(self) -> List[Any]:
        """Credentials first, then JSON errors."""
        return super().middlewares() + [self._auth]

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.match_info.route.handler == self.audio:  # signed URLs, fetched by the media server
            return await handler(request)
        given = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("身份验证失败", "bad_credentials")
        return await handler(request)

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """The call store and the keypad catalog on the server's database."""
        self.calls = CallStore(self.runner.engine)
        self.catalog = KbCatalog(self.runner.engine)
        yield

    # ------------------------------------------------------------------ flow
    def _flow(self, call_sid: str) -> CallFlow:
        async def ask(text: str) -> Sequence[Mapping[str, Any]]:
            try:
                delivered = await self.runner(Turn(self.name, call_sid, text))
            except (TurnFailed, TurnBusy):
                return []  # the flow counts it as not understood and offers a person
            return [m.to_dict() for m in delivered.result.messages]

        return CallFlow(_Catalog(self), ask, speech=self.speech, hotline=self.hotline,
                        can_transfer=bool(self.output.transfer_uri))

    async def _advance(self, call_sid: str, event: CallEvent) -> web.Response:
        lock = self._locks.setdefault(call_sid, asyncio.Lock())
        async with lock:
            stored = await self.runner.blocking(self.calls.get, self.name, call_sid)
            state = CallState.from_dict(stored) if stored else CallState()
            if stored is None and event.kind != "start":
                event = CallEvent("start")  # a hook for a call we never saw: greet it afresh
            step = await self._flow(call_sid).handle(state, event)
            if step.action == "transfer" and self.output.transfer_uri:
                await self.runner.blocking(self._record_transfer, call_sid, state, event)
            if step.action == "listen":
                await self.runner.blocking(self.calls.put, self.name, call_sid, state.to_dict())
            else:
                await self.runner.blocking(self.calls.drop, self.name, call_sid)
        if not lock.locked():
            self._locks.pop(call_sid, None)
        _LOGGER.info("call %s: %s -> %s", call_sid, event.kind, step.action)
        return web.json_response(self.output.step(step))

    def _record_transfer(self, call_sid: str, state: CallState, event: CallEvent) -> None:
        """A call put through to a person shows in the console's handoff inbox as a record."""
        why = {"digits": f"按键 {event.value}", "speech": event.value,
               "silence": "多次无应答"}.get(event.kind, event.kind)
        said = [{"who": "客服", "text": part} for part in state.last[-3:]]
        Records(self.runner.engine).create_handoff(
            f"{self.name}:{call_sid}", self.name, f"电话转人工（{why}）", said,
            status="transferred")

    # ---------------------------------------------------------------- routes
    async def call(self, request: web.Request) -> web.Response:
        """``session-new``: greet the caller."""
        start = CallStart.parse(await read_json(request))
        return await self._advance(start.call_sid, CallEvent("start", start.caller))

    async def gather(self, request: web.Request) -> web.Response:
        """Keys, speech or silence."""
        result = GatherResult.parse(await read_json(request))
        return await self._advance(result.call_sid, CallEvent(result.kind, result.value))

    async def refer(self, request: web.Request) -> web.Response:
        """The transfer's outcome: a failed REFER gives the hotline and hangs up."""
        body = await read_json(request)
        start = CallStart.parse(body)
        status = body.get("refer_status")
        final = body.get("final_referred_call_status")
        failed = (isinstance(status, int) and status >= 300) or (
            isinstance(final, int) and final >= 300)
        if not failed:
            return web.json_response([{"verb": "hangup"}])
        _LOGGER.warning("call %s: transfer failed (%s / %s)", start.call_sid, status, final)
        return web.json_response(self.output.step(Step(
            Prompt.of(REFER_FAILED.format(hotline=self.hotline)), "hangup")))

    async def audio(self, request: web.Request) -> web.Response:
        """A prompt in govbot's own voice: 8 kHz WAV, each sentence cached by the TTS."""
        wanted = parse_audio(request.match_info["sig"], request.match_info["token"],
                             self.password)
        return await self._speak(request, wanted)

    async def say(self, request: web.Request) -> web.Response:
        """``{"text": ssml}`` of a ``say`` verb (from govbot's SIP endpoint) as a prompt in
        govbot's own voice, like ``audio``: the pauses exact, each sentence cached."""
        return await self._speak(request, parse_speech(await read_json(request)))

    async def _speak(self, request: web.Request, wanted: AudioRequest) -> web.Response:
        tts = request.config_dict.get(TTS)
        if tts is None or not tts.available:
            raise Unavailable("语音合成不可用", "tts_unavailable")
        try:
            body = await prompt_wav(tts, wanted.parts, wanted.rate, wanted.before_input)
        except (TtsError, ValueError) as exc:
            raise Unavailable("语音合成失败", "tts_failed") from exc
        return web.Response(body=body, content_type="audio/wav",
                            headers={"Cache-Control": "public, max-age=86400"})

    async def status(self, request: web.Request) -> web.Response:
        """Call status: forget the call once it is over."""
        status = CallStatus.parse(await read_json(request))
        if status.ended:
            await self.runner.blocking(self.calls.drop, self.name, status.call_sid)
        return web.Response(status=204)


class _Catalog:
    """The keypad catalog, read on the server's worker threads (it reads the database)."""

    def __init__(self, channel: JambonzInput) -> None:
        self._catalog, self._blocking = channel.catalog, channel.runner.blocking

    async def categories(self) -> List[str]:
        return await self._blocking(self._catalog.categories)

    async def entries(self, category: str) -> List[Any]:
        return await self._blocking(self._catalog.entries, category)

    async def entry(self, entry_id: str) -> Optional[Mapping[str, str]]:
        return await self._blocking(self._catalog.entry, entry_id)
