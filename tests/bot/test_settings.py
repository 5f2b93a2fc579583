"""Settings from the environment: decision thresholds reach the server's knowledge service."""
from __future__ import annotations

import pytest

from bot.bootstrap import open_services
from bot.settings import Settings
from knowledge.decide import RetrievalConfig
from knowledge.errors import DatabaseError, ValidationError


def test_unset_or_blank_thresholds_keep_the_tuned_ones():
    assert Settings.from_env({}).thresholds == (None, None)
    assert Settings.from_env({"GOVBOT_ANSWER_THRESHOLD": " "}).thresholds == (None, None)


def test_a_non_number_names_the_variable():
    with pytest.raises(ValidationError) as err:
        Settings.from_env({"GOVBOT_ANSWER_THRESHOLD": "0,8"})
    assert err.value.field == "GOVBOT_ANSWER_THRESHOLD" and "'0,8'" in err.value.message


def test_the_server_index_decides_with_the_operator_thresholds(tmp_path):
    env = {"GOVBOT_VAR_DIR": str(tmp_path), "GOVBOT_ANSWER_THRESHOLD": "0.9",
           "GOVBOT_CLARIFY_THRESHOLD": "0.4"}
    settings = Settings.from_env(env)
    kb, _ = open_services(settings)
    tuned = RetrievalConfig()
    assert (kb.index.config.answer_threshold, kb.index.config.clarify_threshold) == (0.9, 0.4)
    assert kb.index.config.weight_u == tuned.weight_u  # the rest stays as tuned
    assert kb.count() > 0  # the seed was loaded: this is the server's own path


def test_an_out_of_range_threshold_stops_the_start(tmp_path):
    settings = Settings.from_env({"GOVBOT_VAR_DIR": str(tmp_path),
                                  "GOVBOT_CLARIFY_THRESHOLD": "1.2"})
    with pytest.raises(ValidationError, match="clarify_threshold must be within 0..1"):
        open_services(settings)


def test_serve_refuses_a_bad_threshold_before_it_starts(tmp_path, capsys, monkeypatch):
    from bot import server
    from bot.cli import main

    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GOVBOT_ANSWER_THRESHOLD", "0.2")  # below the tuned clarify threshold
    monkeypatch.setattr(server, "run", lambda *a: pytest.fail("the server started"))
    assert main(["serve", "--port", "0"]) == 2
    assert "[invalid]" in capsys.readouterr().err


def test_a_sqlite_folder_that_cannot_be_made_is_a_database_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    settings = Settings.from_env({"GOVBOT_VAR_DIR": str(tmp_path / "var"),
                                  "GOVBOT_DATABASE_URL": f"sqlite:///{blocker}/govbot.db"})
    with pytest.raises(DatabaseError, match="无法创建数据库文件夹"):
        settings.ensure_dirs()
    assert blocker.read_text() == "x"


def test_the_sip_endpoint_refuses_settings_it_cannot_work_with() -> None:
    from bot.cli import main
    from bot.sip_cli import check_sip_settings, parse_listen
    assert parse_listen("0.0.0.0:5060") == ("0.0.0.0", 5060)
    for bad in ("5060", "host:", "host:99999", ":5060"):
        with pytest.raises(ValidationError, match="GOVBOT_SIP_LISTEN"):
            parse_listen(bad)
    with pytest.raises(ValidationError, match="GOVBOT_JAMBONZ_USER"):
        check_sip_settings(Settings.from_env({"GOVBOT_SIP_LISTEN": "127.0.0.1:5060"}))
    assert main(["sip", "--listen", "127.0.0.1:5060"]) == 2  # no credentials: a coded error


def test_sip_endpoints_are_one_to_sixteen() -> None:
    assert Settings.from_env({}).sip_endpoints == 1
    assert Settings.from_env({"GOVBOT_SIP_ENDPOINTS": "5"}).sip_endpoints == 5
    for bad in ("0", "17", "two", "-1"):
        with pytest.raises(ValidationError, match="GOVBOT_SIP_ENDPOINTS"):
            Settings.from_env({"GOVBOT_SIP_ENDPOINTS": bad})
