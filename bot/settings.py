"""Runtime settings read from the environment (``GOVBOT_*``)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional, Tuple

from knowledge.encoder_files import DEFAULT_DIR as ENCODER_DIR
from knowledge.errors import DatabaseError, ValidationError
from knowledge.vector_cache import IDLE_DAYS

_LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MAX_MESSAGE_BYTES = 64 * 1024  # documented limit for one request body
MAX_TEXT_CHARS = 2000  # documented limit for one chat message
OFF = ("off", "0", "false", "no")


def _default_db_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'govbot.db'}"


def _cache_days(env: Mapping[str, str]) -> int:
    """``GOVBOT_VECTOR_CACHE_DAYS``: whole days, 0 keeps every vector; an unreadable or
    negative value is logged and the default is used."""
    raw = env.get("GOVBOT_VECTOR_CACHE_DAYS", "").strip()
    if not raw:
        return IDLE_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        _LOGGER.warning("GOVBOT_VECTOR_CACHE_DAYS=%r is not a whole number of days (0 or more); "
                        "using %d", raw, IDLE_DAYS)
        return IDLE_DAYS
    return days


AUDIO_SOURCES = ("platform", "govbot")
MAX_SIP_ENDPOINTS = 16


def _endpoints(env: Mapping[str, str]) -> int:
    """``GOVBOT_SIP_ENDPOINTS``: how many SIP endpoint processes (1 to 16)."""
    raw = env.get("GOVBOT_SIP_ENDPOINTS", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SIP_ENDPOINTS:
        raise ValidationError(f"GOVBOT_SIP_ENDPOINTS 须为 1 到 {MAX_SIP_ENDPOINTS} / must be 1 to "
                              f"{MAX_SIP_ENDPOINTS}: {raw!r}", field="GOVBOT_SIP_ENDPOINTS")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``name``."""
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValidationError(f"{name} 须为正数（秒）/ must be a positive number of seconds: "
                              f"{raw!r}", field=name)
    return value


def _phone_audio(env: Mapping[str, str]) -> Tuple[str, str]:
    """``GOVBOT_JAMBONZ_AUDIO`` and ``GOVBOT_PUBLIC_URL``: govbot's own recordings need a
    public address the platform can fetch them from."""
    source = env.get("GOVBOT_JAMBONZ_AUDIO", "").strip().lower() or "platform"
    public = env.get("GOVBOT_PUBLIC_URL", "").strip().rstrip("/")
    if source not in AUDIO_SOURCES:
        raise ValidationError(f"GOVBOT_JAMBONZ_AUDIO 须为 platform 或 govbot / must be platform "
                              f"or govbot: {source!r}", field="GOVBOT_JAMBONZ_AUDIO")
    if source == "govbot" and not public.startswith(("http://", "https://")):
        raise ValidationError("GOVBOT_JAMBONZ_AUDIO=govbot 需要 GOVBOT_PUBLIC_URL（如 "
                              "https://govbot.example.gov.cn）/ needs GOVBOT_PUBLIC_URL",
                              field="GOVBOT_PUBLIC_URL")
    return source, public


def _threshold(env: Mapping[str, str], name: str) -> Optional[float]:
    """A decision threshold from the environment; unset or blank keeps the tuned default."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{name} 须为 0 到 1 之间的数 / must be a number within 0..1: "
                              f"{raw!r}", field=name) from None


@dataclass(frozen=True)
class Settings:
    """Everything the server, CLI and actions need to know about their environment."""

    database_url: str
    model_dir: Path = ROOT / "models"
    var_dir: Path = ROOT / "var"
    shared_data: Path = ROOT.parent / "shared" / "data"
    lock_store_url: str = ""
    hotline: str = "12345"
    action_endpoint_url: str = ""  # empty: run custom actions in-process
    kb_poll_seconds: float = 2.0
    answer_threshold: Optional[float] = None  # None: the tuned default (knowledge.decide)
    clarify_threshold: Optional[float] = None
    encoder_dir: Path = ENCODER_DIR
    encoder_enabled: bool = True
    vector_cache_days: int = IDLE_DAYS
    asr_env: Mapping[str, str] = field(default_factory=dict)  # GOVBOT_ASR_* for voice.asr
    wechat_token: str = ""  # empty: the WeChat channel is off
    wechat_appid: str = ""
    wechat_secret: str = field(default="", repr=False)
    wechat_aes_key: str = field(default="", repr=False)
    wechat_api_base: str = "https://api.weixin.qq.com"
    jambonz_user: str = ""  # empty: the jambonz voice webhook is off
    jambonz_password: str = field(default="", repr=False)
    jambonz_speech: bool = True  # gather speech too (the platform's own recogniser)
    sip_transfer_uri: str = ""  # empty: a transfer gives the hotline and hangs up
    jambonz_audio: str = "platform"  # govbot: prompts in govbot's own voice, by URL
    sip_listen: str = ""  # host:port of the built-in SIP endpoint (UDP); empty: off
    sip_endpoints: int = 1  # endpoints on consecutive ports from sip_listen's (4 calls each)
    sip_server: str = "http://127.0.0.1:8080"  # where the endpoint reaches govbot serve
    sip_registrar: str = ""  # e.g. sip:pbx.example; empty: no registration
    sip_user: str = "govbot"
    sip_password: str = field(default="", repr=False)
    sip_stats: str = ""  # a file the endpoint keeps its call, thread and fd counts in
    public_url: str = ""  # how the phone platform reaches this server
    handoff_wait_s: float = 300.0  # a resident waiting longer for a person is told so
    project_dir: Path = ROOT
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, **overrides: object) -> "Settings":
        """Build settings from ``GOVBOT_*`` environment variables.

        Args:
            env: mapping to read instead of ``os.environ``.
            **overrides: explicit values (e.g. from CLI flags) that win over the environment.

        Raises:
            ValidationError: A decision threshold that is not a number, or phone audio from
                govbot without a public URL.
        """
        env = os.environ if env is None else env
        var_dir = Path(env.get("GOVBOT_VAR_DIR", ROOT / "var"))
        settings = cls(
            database_url=env.get("GOVBOT_DATABASE_URL") or _default_db_url(var_dir),
            model_dir=Path(env.get("GOVBOT_MODEL_DIR", ROOT / "models")),
            var_dir=var_dir,
            shared_data=Path(env.get("GOVBOT_SHARED_DATA", ROOT.parent / "shared" / "data")),
            lock_store_url=env.get("GOVBOT_LOCK_STORE_URL", ""),
            hotline=env.get("GOVBOT_HOTLINE", "12345"),
            action_endpoint_url=env.get("GOVBOT_ACTION_ENDPOINT", ""),
            kb_poll_seconds=float(env.get("GOVBOT_KB_POLL_SECONDS", "2.0")),
            answer_threshold=_threshold(env, "GOVBOT_ANSWER_THRESHOLD"),
            clarify_threshold=_threshold(env, "GOVBOT_CLARIFY_THRESHOLD"),
            encoder_dir=Path(env.get("GOVBOT_ENCODER_DIR") or ENCODER_DIR),
            encoder_enabled=env.get("GOVBOT_ENCODER", "").strip().lower() not in OFF,
            vector_cache_days=_cache_days(env),
            asr_env={k: v for k, v in env.items() if k.startswith("GOVBOT_ASR_")},
            wechat_token=env.get("GOVBOT_WECHAT_TOKEN", "").strip(),
            wechat_appid=env.get("GOVBOT_WECHAT_APPID", "").strip(),
            wechat_secret=env.get("GOVBOT_WECHAT_SECRET", "").strip(),
            wechat_aes_key=env.get("GOVBOT_WECHAT_AES_KEY", "").strip(),
            wechat_api_base=env.get("GOVBOT_WECHAT_API_BASE", "").strip()
            or "https://api.weixin.qq.com",
            jambonz_user=env.get("GOVBOT_JAMBONZ_USER", "").strip(),
            jambonz_password=env.get("GOVBOT_JAMBONZ_PASSWORD", "").strip(),
            jambonz_speech=env.get("GOVBOT_JAMBONZ_SPEECH", "").strip().lower() not in OFF,
            sip_transfer_uri=env.get("GOVBOT_SIP_TRANSFER_URI", "").strip(),
            sip_listen=env.get("GOVBOT_SIP_LISTEN", "").strip(),
            sip_endpoints=_endpoints(env),
            sip_server=env.get("GOVBOT_SIP_SERVER", "").strip() or "http://127.0.0.1:8080",
            sip_registrar=env.get("GOVBOT_SIP_REGISTRAR", "").strip(),
            sip_user=env.get("GOVBOT_SIP_USER", "").strip() or "govbot",
            sip_password=env.get("GOVBOT_SIP_PASSWORD", "").strip(),
            sip_stats=env.get("GOVBOT_SIP_STATS", "").strip(),
            handoff_wait_s=_seconds(env, "GOVBOT_HANDOFF_WAIT_S", 300.0),
        )
        audio, public = _phone_audio(env)
        settings = replace(settings, jambonz_audio=audio, public_url=public)
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings

    @property
    def thresholds(self) -> Tuple[Optional[float], Optional[float]]:
        """The operator's (answer, clarify) decision thresholds, for ``KnowledgeService``."""
        return self.answer_threshold, self.clarify_threshold

    def apply(self) -> None:
        """Hand the lower layers their settings (the encoder's folder, switch and cache)."""
        from knowledge import encoder
        encoder.configure(self.encoder_dir, self.encoder_enabled, self.vector_cache_days)

    def ensure_dirs(self) -> None:
        """Create the writable directories (and the SQLite file's folder).

        Raises:
            DatabaseError: The SQLite file's folder cannot be created.
        """
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url.startswith("sqlite:///"):
            path = Path(self.database_url[len("sqlite:///"):])
            if str(path) not in ("", ":memory:"):
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseError(f"无法创建数据库文件夹 {path.parent} / cannot create the "
                                        f"database folder: {exc.strerror}") from exc
