"""Twenty calls at once on one machine: five SIP endpoints (four calls each, the pjsua2 wheel's
limit) started by ``govbot serve``, each taking four simultaneous sipp calls through the
greeting, a key, "0" and REFER."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.sipp_calls import consecutive_udp_ports
from tests.conftest import LiveServer, missing
from tests.voice.test_sip import SCENARIOS, free_udp_port

pytestmark = pytest.mark.slow

ENDPOINTS, CALLS_EACH = 5, 4


def test_twenty_concurrent_calls_on_five_endpoints(trained_model, tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        missing("sipp (apt-get install sip-tester)")
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        missing("pjsua2-python (make install)")
    first = consecutive_udp_ports(ENDPOINTS)
    stats = tmp_path / "sip.json"
    server = LiveServer(tmp_path, env={
        "GOVBOT_SIP_LISTEN": f"127.0.0.1:{first}", "GOVBOT_SIP_ENDPOINTS": str(ENDPOINTS),
        "GOVBOT_JAMBONZ_USER": "sip", "GOVBOT_JAMBONZ_PASSWORD": "s3cret",
        "GOVBOT_JAMBONZ_SPEECH": "off", "GOVBOT_SIP_TRANSFER_URI": "sip:agent@127.0.0.1:5999",
        "GOVBOT_SIP_STATS": str(stats)}).start()
    try:
        files = [stats] + [Path(f"{stats}.{i}") for i in range(1, ENDPOINTS)]
        deadline = time.monotonic() + 40
        while not all(f.exists() for f in files) and time.monotonic() < deadline:
            time.sleep(0.5)
        callers = [subprocess.Popen(
            ["sipp", f"127.0.0.1:{first + i}", "-sf", str(SCENARIOS / "keypad_rfc4733.xml"),
             "-m", str(CALLS_EACH), "-l", str(CALLS_EACH), "-r", str(CALLS_EACH),
             "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port()),
             "-timeout", "60", "-nostdin", "-trace_err",
             "-error_file", str(tmp_path / f"sipp-{i}.err")],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(ENDPOINTS)]
        codes = [c.wait(timeout=90) for c in callers]
        errors = "".join(p.read_text()[-800:] for p in tmp_path.glob("sipp-*.err"))
        assert codes == [0] * ENDPOINTS, errors
    finally:
        assert server.stop() == 0
