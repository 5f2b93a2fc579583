"""Console accounts, sessions and the audit log: argon2 passwords, lockout after repeated
failures, sessions that lapse when idle, and a record of who did what."""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from knowledge.db import session_scope
from knowledge.errors import ConflictError, ValidationError
from knowledge.models import STAFF_ROLES, AuditEvent, StaffSession, StaffUser, as_utc, utcnow

_LOGGER = logging.getLogger(__name__)

MAX_FAILURES = 5
"""Failed logins in a row that lock an account."""
LOCK_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
MIN_PASSWORD = 10
NAME_CHARS = 64
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("govbot-no-such-user")
"""Verified against when the name is unknown, so both cases take as long."""


@dataclass(frozen=True)
class Staff:
    """A signed-in member of staff."""

    id: int
    name: str
    role: str
    csrf: str = ""

    def can(self, role: str) -> bool:
        """Whether this account has ``role`` or a higher one."""
        return STAFF_ROLES.index(self.role) >= STAFF_ROLES.index(role)


class LoginRefused(Exception):
    """Wrong name or password, or a locked account (``locked`` says which, for the log only:
    the person at the form is told the same thing either way)."""

    def __init__(self, locked: bool = False) -> None:
        super().__init__("locked" if locked else "bad credentials")
        self.locked = locked


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffStore:
    """Accounts, sessions and the audit log on the shared database."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    # -------------------------------------------------------------- accounts
    def create_user(self, name: str, role: str, password: str, actor: str = "cli") -> int:
        """A new account.

        Raises:
            ValidationError: a bad name or role, or a password shorter than ``MIN_PASSWORD``.
            ConflictError: the name is taken.
        """
        name = (name or "").strip()
        if not name or len(name) > NAME_CHARS or any(c.isspace() for c in name):
            raise ValidationError(f"用户名应为 1–{NAME_CHARS} 个字符，不含空格", "name")
        if role not in STAFF_ROLES:
            raise ValidationError(f"角色应为 {'/'.join(STAFF_ROLES)}", "role")
        if len(password or "") < MIN_PASSWORD:
            raise ValidationError(f"密码至少 {MIN_PASSWORD} 个字符", "password")
        with session_scope(self.engine) as session:
            if session.scalar(select(StaffUser.id).where(StaffUser.name == name)) is not None:
                raise ConflictError(f"用户名 {name} 已存在")
            user = StaffUser(name=name, role=role, password_hash=_HASHER.hash(password),
                             failed_logins=0)
            session.add(user)
            session.flush()
            user_id = int(user.id)
        self.audit(actor, "create_user", name, {"role": role})
        return user_id

    def users(self) -> List[Dict[str, Any]]:
        """Every account, without its hash."""
        with session_scope(self.engine) as session:
            return [{"id": u.id, "name": u.name, "role": u.role,
                     "locked": bool(u.locked_until and as_utc(u.locked_until) > utcnow()),
                     "created_at": as_utc(u.created_at).isoformat()}
                    for u in session.scalars(select(StaffUser).order_by(StaffUser.name))]

    def authenticate(self, name: str, password: str) -> Staff:
        """The account for this name and password.

        Raises:
            LoginRefused: unknown name, wrong password, or locked (after ``MAX_FAILURES`` in a
                row, for ``LOCK_FOR``; the right password does not open a locked account).
        """
        now = utcnow()
        refused: Optional[LoginRefused] = None
        with session_scope(self.engine) as session:  # commits the failure count, then raises
            user = session.scalar(select(StaffUser).where(StaffUser.name == name[:NAME_CHARS]))
            if user is None:
                self._verify(_DUMMY_HASH, password)
                refused = LoginRefused()
            elif user.locked_until is not None and as_utc(user.locked_until) > now:
                refused = LoginRefused(locked=True)
            elif not self._verify(user.password_hash, password):
                user.failed_logins = (user.failed_logins or 0) + 1
                locked = user.failed_logins >= MAX_FAILURES
                if locked:
                    user.locked_until, user.failed_logins = now + LOCK_FOR, 0
                    session.add(AuditEvent(actor=user.name, action="account_locked",
                                           target=user.name, detail={}))
                    _LOGGER.warning("console account %s locked", user.name)
                refused = LoginRefused(locked=locked)
            else:
                user.failed_logins, user.locked_until = 0, None
                staff = Staff(int(user.id), user.name, user.role)
        if refused is not None:
            raise refused
        return staff

    @staticmethod
    def _verify(stored: str, password: str) -> bool:
        try:
            return _HASHER.verify(stored, password or "")
        except (VerificationError, InvalidHashError):
            return False

    # -------------------------------------------------------------- sessions
    def open_session(self, staff: Staff) -> str:
        """A new session's token (the cookie value; only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        with session_scope(self.engine) as session:
            session.add(StaffSession(token_hash=_digest(token), user_id=staff.id,
                                     csrf=secrets.token_urlsafe(32)))
        return token

    def session(self, token: str, now: Optional[datetime] = None) -> Optional[Staff]:
        """The staff member of a live session (its idle clock restarted), else None."""
        if not token or len(token) > 100:
            return None
        now = now or utcnow()
        with session_scope(self.engine) as session:
            row = session.get(StaffSession, _digest(token))
            if row is None:
                return None
            if now - as_utc(row.seen_at) > IDLE_TIMEOUT:
                session.delete(row)
                return None
            user = session.get(StaffUser, row.user_id)
            if user is None:
                return None
            row.seen_at = now
            return Staff(int(user.id), user.name, user.role, row.csrf)

    def close_session(self, token: str) -> None:
        """Sign out."""
        with session_scope(self.engine) as session:
            session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))

    def prune_sessions(self) -> int:
        """Drop sessions idle for longer than the timeout."""
        with session_scope(self.engine) as session:
            return session.execute(delete(StaffSession).where(
                StaffSession.seen_at < utcnow() - IDLE_TIMEOUT)).rowcount or 0

    # ----------------------------------------------------------------- audit
    def audit(self, actor: str, action: str, target: str = "",
              detail: Optional[Mapping[str, Any]] = None) -> None:
        """Record one action."""
        with session_scope(self.engine) as session:
            session.add(AuditEvent(actor=actor[:64], action=action[:64], target=target[:256],
                                   detail=dict(detail or {})))

    def audit_log(self, limit: int = 100, offset: int = 0) -> List[Dict[str, Any]]:
        """The newest actions first."""
        with session_scope(self.engine) as session:
            rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())
                                   .limit(max(1, min(limit, 500))).offset(max(0, offset)))
            return [{"id": r.id, "at": as_utc(r.at).isoformat(), "actor": r.actor,
                     "action": r.action, "target": r.target, "detail": r.detail} for r in rows]
