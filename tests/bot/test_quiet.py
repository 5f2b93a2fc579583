"""A normal run shows govbot's own lines, not library deprecation noise."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stderr(*args: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONWARNINGS", "SQLALCHEMY_SILENCE_UBER_WARNING")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300).stderr


def test_rasa_through_govbot_is_quiet_where_plain_rasa_is_not() -> None:
    assert "Warning" in _stderr("-m", "rasa", "--version")  # what a user saw before
    assert "Warning" not in _stderr("-m", "bot.quiet", "--version")


def test_the_cli_passes_its_filters_to_child_processes() -> None:
    code = ("from bot.quiet import quiet_warnings; import os, subprocess, sys; quiet_warnings(); "
            "sys.exit(subprocess.run([sys.executable, '-c', 'import warnings; "
            "warnings.warn(\"old\", DeprecationWarning)']).returncode)")
    assert "DeprecationWarning" not in _stderr("-c", code)
    assert "DeprecationWarning" in _stderr("-W", "default", "-c",
                                           "import warnings; warnings.warn('old', DeprecationWarning)")
