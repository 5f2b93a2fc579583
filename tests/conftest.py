"""Shared fixtures: temporary databases, real PostgreSQL/Redis, the trained model, a live server."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("GOVBOT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def missing(what: str) -> None:
    """Something the tests need is not on this machine: a skip with the reason shown in the
    summary on a developer's machine, a failure under ``CI=true`` (CI must run everything)."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must provide it)")
    pytest.skip(what)


def _require_service(var: str) -> str:
    """A real server's URL from the environment; missing is a failure in CI, a skip elsewhere."""
    url = os.environ.get(var, "")
    if not url:
        missing(f"{var} not set (run `eval \"$(bash .ci/services.sh start)\"`)")
    return url


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file URL."""
    return f"sqlite:///{tmp_path / 'govbot.db'}"


@pytest.fixture()
def engine(sqlite_url: str):
    """A migrated SQLite engine."""
    from knowledge.db import make_engine, upgrade
    eng = make_engine(sqlite_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def kb(engine):
    """An empty KnowledgeService with its index loaded."""
    from knowledge.service import KnowledgeService
    service = KnowledgeService(engine, poll_seconds=0)
    service.load_index()
    return service


@pytest.fixture()
def records(engine):
    """The Records helper on the test engine."""
    from knowledge.records import Records
    return Records(engine)


@pytest.fixture()
def seeded_kb(kb, records):
    """The KnowledgeService with the shipped seed loaded."""
    from knowledge.seed import load_seed
    load_seed(kb, records)
    return kb


@contextlib.contextmanager
def new_pg_database() -> Iterator[str]:
    """A brand-new database on the real PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    base = make_url(_require_service("GOVBOT_TEST_PG_URL"))
    name = "govbot_t_" + uuid.uuid4().hex[:10]
    admin = create_engine(base, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(base.set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A brand-new database on the real PostgreSQL server, dropped afterwards."""
    with new_pg_database() as url:
        yield url


@pytest.fixture()
def redis_url() -> str:
    """The real Redis server's URL."""
    return _require_service("GOVBOT_TEST_REDIS_URL")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The project's model, trained once if missing or stale (cached by fingerprint)."""
    from bot.bootstrap import prepare_database
    from bot.settings import Settings
    from bot.training import model_path, train
    settings = Settings.from_env()
    train(settings, prepare_database(settings))
    return model_path(settings)


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """``govbot serve`` in a subprocess, with its own database."""

    def __init__(self, workdir: Path, env: Dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, GOVBOT_VAR_DIR=str(workdir),
                        GOVBOT_DATABASE_URL=f"sqlite:///{workdir / 'govbot.db'}")
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> "LiveServer":
        """Start and wait until ``/healthz`` answers."""
        log = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + (self.workdir / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("server did not start: " + (self.workdir / "server.log").read_text()[-3000:])

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def post(self, path: str, body: bytes, content_type: str = "application/json"):
        """POST raw bytes; returns (status, decoded JSON or text)."""
        req = urllib.request.Request(self.url + path, data=body, method="POST",
                                     headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def chat(self, sender: str, text: str, **extra) -> dict:
        """One turn through ``/api/chat``; asserts 200."""
        status, body = self.post("/api/chat", json.dumps(
            {"sender": sender, "text": text, **extra}, ensure_ascii=False).encode())
        assert status == 200, body
        return body


@pytest.fixture(scope="session")
def live_server(trained_model, tmp_path_factory) -> Iterator[LiveServer]:
    """One server for the whole session (restart tests make their own)."""
    server = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def encoder():
    """The installed sentence encoder (``make install`` fetches it); missing fails in CI."""
    from knowledge.encoder import load_default
    enc = load_default()
    if enc is None:
        missing("sentence encoder not installed (make install fetches it)")
    return enc
