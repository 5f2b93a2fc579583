"""The Rasa project itself: data validates cleanly, enough intents and examples, model fingerprinting."""
from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.training import fingerprint, model_is_current

ROOT = Path(__file__).resolve().parent.parent.parent


def test_at_least_20_intents_with_20_examples_each():
    from rasa.shared.nlu.training_data.loading import load_data
    data = load_data(str(ROOT / "intents" / "nlu.yml"))
    counts = collections.Counter(e.get("intent") for e in data.intent_examples)
    assert len(counts) >= 20
    assert min(counts.values()) >= 20, counts
    texts = collections.Counter(e.get("text") for e in data.intent_examples)
    assert [t for t, n in texts.items() if n > 1] == []


def test_required_intents_present():
    import yaml
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    required = {"greet", "goodbye", "thank", "affirm", "deny", "ask_service", "ask_materials",
                "ask_steps", "ask_time_limit", "ask_fees", "ask_place_hours", "ask_online",
                "choose_option", "request_human", "repeat", "speak_slower", "speak_louder",
                "larger_text", "complain_or_suggest", "check_progress", "out_of_scope",
                "bot_challenge"}
    assert required <= set(domain["intents"])


@pytest.mark.slow
def test_rasa_data_validate_is_clean():
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    proc = subprocess.run([sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings",
                           "--data", "intents", "--domain", "domain.yml", "--config", "config.yml"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_fingerprint_tracks_project_files(tmp_path):
    for name in ("config.yml", "domain.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "intents").mkdir()
    (tmp_path / "intents" / "nlu.yml").write_text("version: '3.1'\n", encoding="utf-8")
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == before
    (tmp_path / "intents" / "nlu.yml").write_text("version: '3.1'\nnlu: []\n", encoding="utf-8")
    assert fingerprint(tmp_path) != before
    settings = Settings.from_env(project_dir=tmp_path, model_dir=tmp_path / "models")
    assert not model_is_current(settings)
