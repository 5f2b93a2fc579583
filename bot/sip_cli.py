"""``govbot sip``: the built-in SIP endpoint, a process of its own beside ``govbot serve``."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Tuple

from knowledge.errors import ValidationError

_LOGGER = logging.getLogger(__name__)


def parse_listen(value: str) -> Tuple[str, int]:
    """``host:port`` of ``GOVBOT_SIP_LISTEN``.

    Raises:
        ValidationError: Not ``host:port`` with a port in 1..65535.
    """
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(f"GOVBOT_SIP_LISTEN 须为 host:port / must be host:port: {value!r}",
                              field="GOVBOT_SIP_LISTEN")
    return host, int(port)


def cmd_sip(args: argparse.Namespace) -> int:
    """Run the endpoint until SIGTERM or SIGINT."""
    from bot.settings import Settings

    settings = Settings.from_env()
    listen = args.listen or settings.sip_listen
    if not listen:
        raise ValidationError("需要 GOVBOT_SIP_LISTEN（如 0.0.0.0:5060）/ needs GOVBOT_SIP_LISTEN",
                              field="GOVBOT_SIP_LISTEN")
    check_sip_settings(replace(settings, sip_listen=listen))
    host, port = parse_listen(listen)
    try:
        from voice.sip.endpoint import SipEndpoint
        from voice.sip.webhook import Webhook
    except ImportError as exc:
        raise ValidationError(f"需要 PJSIP：pip install pjsua2-python（GPLv2）/ needs "
                              f"pjsua2-python: {exc}", field="GOVBOT_SIP_LISTEN") from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    endpoint = SipEndpoint(host, port, Webhook(args.server or settings.sip_server,
                                               settings.jambonz_user, settings.jambonz_password),
                           registrar=settings.sip_registrar, user=settings.sip_user,
                           password=settings.sip_password,
                           stats_path=Path(args.stats or settings.sip_stats)
                           if (args.stats or settings.sip_stats) else None)
    print(f"==> SIP 线路已启动 / SIP endpoint listening on udp:{host}:{port}", flush=True)
    endpoint.serve(stop)
    return 0


def add_sip_commands(sub: Any) -> None:
    """Register ``govbot sip``."""
    sip = sub.add_parser("sip", help="内置 SIP 电话线路 / the built-in SIP endpoint")
    sip.add_argument("--listen", help="host:port（默认 GOVBOT_SIP_LISTEN）")
    sip.add_argument("--server", help="govbot 服务地址 / the server (default GOVBOT_SIP_SERVER)")
    sip.add_argument("--stats", help="写入通话统计的文件 / a file for call, thread and fd counts")
    sip.set_defaults(func=cmd_sip)




def check_sip_settings(settings: Any) -> None:
    """Refuse a SIP endpoint that cannot work, before anything starts.

    Raises:
        ValidationError: A bad ``GOVBOT_SIP_LISTEN``, or no webhook credentials.
    """
    parse_listen(settings.sip_listen)
    if not (settings.jambonz_user and settings.jambonz_password):
        raise ValidationError("GOVBOT_SIP_LISTEN 需要 GOVBOT_JAMBONZ_USER 和 GOVBOT_JAMBONZ_PASSWORD"
                              " / the SIP endpoint needs the voice webhook's credentials",
                              field="GOVBOT_JAMBONZ_USER")


def endpoint_process(settings: Any, port: int) -> Callable[[Any], AsyncIterator[None]]:
    """A cleanup context for ``govbot serve``: the SIP endpoints as child processes (PJSIP's
    media threads never share a process with the event loop), stopped with the server. With
    ``GOVBOT_SIP_ENDPOINTS=N`` there are N of them on consecutive ports, 4 calls each."""
    host, first = parse_listen(settings.sip_listen)

    async def ctx(app: Any) -> AsyncIterator[None]:
        procs = []
        for i in range(settings.sip_endpoints):
            cmd = [sys.executable, "-m", "bot.cli", "sip", "--listen", f"{host}:{first + i}",
                   "--server", f"http://127.0.0.1:{port}"]
            if settings.sip_stats:
                cmd += ["--stats", settings.sip_stats if i == 0 else f"{settings.sip_stats}.{i}"]
            procs.append(subprocess.Popen(cmd))
            _LOGGER.info("SIP endpoint on %s:%d started (pid %d)", host, first + i, procs[-1].pid)
        yield
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.get_running_loop().run_in_executor(None, proc.wait, 10)
            except subprocess.TimeoutExpired:
                proc.kill()

    return ctx
