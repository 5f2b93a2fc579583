"""Console accounts: argon2 hashes, validation, lockout after repeated failures, sessions that
lapse when idle, and the audit log."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from knowledge.db import session_scope
from knowledge.errors import ConflictError, ValidationError
from knowledge.models import StaffUser, utcnow
from knowledge.staff import IDLE_TIMEOUT, MAX_FAILURES, LoginRefused, Staff, StaffStore

PASSWORD = "a long enough password"


def test_passwords_are_stored_as_argon2_hashes(engine) -> None:
    store = StaffStore(engine)
    store.create_user("wang", "editor", PASSWORD)
    with session_scope(engine) as session:
        stored = session.scalar(select(StaffUser.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert store.authenticate("wang", PASSWORD) == Staff(1, "wang", "editor")


@pytest.mark.parametrize("name,role,password,field", [
    ("", "editor", PASSWORD, "name"), ("有 空格", "editor", PASSWORD, "name"),
    ("x" * 65, "editor", PASSWORD, "name"), ("li", "root", PASSWORD, "role"),
    ("li", "admin", "short", "password")])
def test_bad_accounts_are_refused(engine, name, role, password, field) -> None:
    with pytest.raises(ValidationError) as caught:
        StaffStore(engine).create_user(name, role, password)
    assert caught.value.field == field


def test_a_name_is_taken_once(engine) -> None:
    store = StaffStore(engine)
    store.create_user("zhao", "reviewer", PASSWORD)
    with pytest.raises(ConflictError):
        store.create_user("zhao", "editor", PASSWORD)


def test_repeated_failures_lock_the_account_even_against_the_right_password(engine) -> None:
    store = StaffStore(engine)
    store.create_user("chen", "reviewer", PASSWORD)
    for attempt in range(MAX_FAILURES):
        with pytest.raises(LoginRefused) as caught:
            store.authenticate("chen", "wrong password")
        assert caught.value.locked == (attempt == MAX_FAILURES - 1)
    with pytest.raises(LoginRefused) as caught:
        store.authenticate("chen", PASSWORD)
    assert caught.value.locked
    assert store.users()[0]["locked"]
    assert [e["action"] for e in store.audit_log()][:2] == ["account_locked", "create_user"]
    with session_scope(engine) as session:  # the lock runs out
        session.execute(update(StaffUser).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert store.authenticate("chen", PASSWORD).name == "chen"


def test_an_unknown_name_is_refused_like_a_wrong_password(engine) -> None:
    with pytest.raises(LoginRefused) as caught:
        StaffStore(engine).authenticate("nobody", PASSWORD)
    assert not caught.value.locked


def test_sessions_lapse_when_idle_and_close_on_sign_out(engine) -> None:
    store = StaffStore(engine)
    store.create_user("sun", "admin", PASSWORD)
    staff = store.authenticate("sun", PASSWORD)
    token = store.open_session(staff)
    seen = store.session(token)
    assert seen.name == "sun" and len(seen.csrf) > 30
    assert store.session(token, utcnow() + IDLE_TIMEOUT - timedelta(minutes=1)) is not None
    # the clock restarted at the last request: idle for longer than the timeout from there
    assert store.session(token, utcnow() + 2 * IDLE_TIMEOUT) is None
    assert store.session(token) is None  # a lapsed session is gone
    again = store.open_session(staff)
    store.close_session(again)
    assert store.session(again) is None
    assert store.session("") is None and store.session("x" * 500) is None


def test_roles_include_the_ones_below() -> None:
    editor, reviewer, admin = (Staff(1, "a", r) for r in ("editor", "reviewer", "admin"))
    assert editor.can("editor") and not editor.can("reviewer")
    assert reviewer.can("editor") and reviewer.can("reviewer") and not reviewer.can("admin")
    assert admin.can("reviewer") and admin.can("admin")
