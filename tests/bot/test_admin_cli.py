"""``govbot admin create-user``: the password from standard input (or typed twice), a clear
error for a bad or taken name, and the account can sign in."""
from __future__ import annotations

import io
from typing import Any

import pytest

from bot.cli import main
from knowledge.staff import StaffStore

PASSWORD = "correct horse battery"


def test_create_user_from_stdin_then_sign_in(engine: Any, sqlite_url: str, monkeypatch,
                                             capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "create-user", "wangfang", "--role", "reviewer", "--password-stdin",
                 "--db", sqlite_url]) == 0
    assert "wangfang" in capsys.readouterr().out
    assert StaffStore(engine).authenticate("wangfang", PASSWORD).role == "reviewer"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "create-user", "wangfang", "--role", "editor", "--password-stdin",
                 "--db", sqlite_url]) == 2
    assert "已存在" in capsys.readouterr().err
    assert main(["admin", "users", "--db", sqlite_url]) == 0
    assert "wangfang\treviewer\tok" in capsys.readouterr().out


def test_a_short_password_or_a_mistyped_one_is_refused(engine: Any, sqlite_url: str,
                                                       monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["admin", "create-user", "li", "--role", "editor", "--password-stdin",
                 "--db", sqlite_url]) == 2
    assert "至少 10 个字符" in capsys.readouterr().err
    typed = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["admin", "create-user", "li", "--role", "editor", "--db", sqlite_url]) == 2
    assert "不一致" in capsys.readouterr().err
    assert StaffStore(engine).users() == []


def test_an_unknown_role_is_refused_by_the_parser(sqlite_url: str) -> None:
    with pytest.raises(SystemExit):
        main(["admin", "create-user", "li", "--role", "root", "--db", sqlite_url])
