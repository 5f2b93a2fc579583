"""``govbot kb …`` and ``govbot db upgrade`` through the real argument parser."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import build_parser, main

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"


def test_help_is_bilingual(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "政务服务" in out and "government-service" in out
    with pytest.raises(SystemExit):
        main(["kb", "import", "--help"])
    out = capsys.readouterr().out
    assert "--dry-run" in out and "跳过错误行" in out and "skip bad rows" in out


def test_import_search_export_round_trip(sqlite_url, tmp_path, capsys):
    assert main(["db", "upgrade", "--db", sqlite_url]) == 0
    assert main(["kb", "import", str(FIX / "good.jsonl"), "--db", sqlite_url, "--dry-run"]) == 0
    assert "将新增 3" in capsys.readouterr().out
    assert main(["kb", "import", str(FIX / "good.jsonl"), "--db", sqlite_url]) == 0
    assert "已新增 3" in capsys.readouterr().out
    queries = tmp_path / "q.txt"
    queries.write_text("租房可以提取公积金吗\n火星上怎么办户口\n", encoding="utf-8")
    assert main(["kb", "search", "--file", str(queries), "--json", "--top", "5",
                 "--db", sqlite_url]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [l["query"] for l in lines] == ["租房可以提取公积金吗", "火星上怎么办户口"]
    assert lines[0]["candidates"][0]["id"] == "t-fund-rent"
    assert set(lines[0]) == {"query", "decision", "candidates"}
    assert set(lines[0]["candidates"][0]) == {"id", "score", "question"}
    assert lines[0]["decision"] in ("answer", "clarify", "none")
    out_file = tmp_path / "out.jsonl"
    assert main(["kb", "export", str(out_file), "--db", sqlite_url]) == 0
    assert len(out_file.read_text(encoding="utf-8").splitlines()) == 3


def test_bad_file_exits_non_zero_and_imports_nothing(sqlite_url, capsys):
    assert main(["kb", "import", str(FIX / "bad_rows.jsonl"), "--db", sqlite_url]) == 1
    err = capsys.readouterr().err
    assert "第 2 行" in err and "未导入任何条目" in err
    assert main(["kb", "import", str(FIX / "missing_column.csv"), "--db", sqlite_url]) == 2
    assert "缺少必需的列" in capsys.readouterr().err


def test_history_and_restore(sqlite_url, capsys):
    main(["kb", "import", str(FIX / "good.jsonl"), "--db", sqlite_url])
    capsys.readouterr()
    assert main(["kb", "history", "t-pension", "--db", sqlite_url]) == 0
    revs = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert revs[0]["action"] == "create"
    assert main(["kb", "restore", str(revs[0]["id"]), "--db", sqlite_url]) == 0


def test_parser_requires_a_command():
    with pytest.raises(SystemExit):
        build_parser().parse_args([])


def test_search_thresholds_from_flags_and_environment(sqlite_url, capsys, monkeypatch):
    assert main(["kb", "import", str(FIX / "good.jsonl"), "--db", sqlite_url]) == 0
    capsys.readouterr()

    def search(*flags):
        assert main(["kb", "search", "租房可以提取公积金吗", "--json", "--db", sqlite_url,
                     *flags]) == 0
        return json.loads(capsys.readouterr().out)

    tuned = search()
    assert tuned["decision"] != "none" and tuned["candidates"][0]["id"] == "t-fund-rent"
    top = tuned["candidates"][0]["score"]
    above = f"{min(1.0, top + 0.001):.4f}"
    assert search("--answer-threshold", above, "--clarify-threshold", above)["decision"] == "none"
    monkeypatch.setenv("GOVBOT_ANSWER_THRESHOLD", above)
    monkeypatch.setenv("GOVBOT_CLARIFY_THRESHOLD", above)
    assert search()["decision"] == "none"
    # A flag wins: the offer comes back (answered when the query's words settle it).
    assert search("--clarify-threshold", "0")["decision"] in ("clarify", "answer")


@pytest.mark.parametrize("flags, env, message", [
    (["--answer-threshold", "1.5"], {}, "answer_threshold must be within 0..1"),
    (["--answer-threshold", "0.3", "--clarify-threshold", "0.5"], {}, "is above"),
    ([], {"GOVBOT_CLARIFY_THRESHOLD": "高"}, "GOVBOT_CLARIFY_THRESHOLD"),
])
def test_bad_thresholds_exit_2_with_a_coded_error(sqlite_url, capsys, monkeypatch, flags, env,
                                                  message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["kb", "search", "公积金", "--db", sqlite_url, *flags]) == 2
    err = capsys.readouterr().err
    assert "[invalid]" in err and message in err
