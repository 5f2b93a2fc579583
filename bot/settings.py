"""Runtime settings read from the environment (``GOVBOT_*``)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional

_LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MAX_MESSAGE_BYTES = 64 * 1024  # documented limit for one request body
MAX_TEXT_CHARS = 2000  # documented limit for one chat message


def _default_db_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'govbot.db'}"


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
    project_dir: Path = ROOT
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, **overrides: object) -> "Settings":
        """Build settings from ``GOVBOT_*`` environment variables.

        Args:
            env: mapping to read instead of ``os.environ``.
            **overrides: explicit values (e.g. from CLI flags) that win over the environment.
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
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings

    def ensure_dirs(self) -> None:
        """Create the writable directories (and the SQLite file's folder)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url.startswith("sqlite:///"):
            path = Path(self.database_url[len("sqlite:///"):])
            if str(path) not in ("", ":memory:"):
                path.parent.mkdir(parents=True, exist_ok=True)
