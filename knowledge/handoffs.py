"""Live handoffs: staff take a conversation, reply into it while the bot stays quiet, and
hand it back or close it; their words reach the resident on the resident's channel."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Dict, Iterable, List, Tuple

from sqlalchemy import select, update

from knowledge.db import session_scope
from knowledge.deliveries import DeliveryStore
from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.models import Handoff, HandoffMessage, as_utc, utcnow
from knowledge.outbox import OutboxStore

_LOGGER = logging.getLogger(__name__)

OPEN = ("waiting", "taken")
STATUSES = ("waiting", "taken", "back", "closed", "answered", "transferred")
MAX_REPLY = 2000
WECHAT_WINDOW = timedelta(hours=48)
"""WeChat accepts customer-service messages within 48 hours of the resident's last message."""
STAFF_PREFIX = "工作人员："
ANSWER_PREFIX = "工作人员回复："
"""Before a staff answer to a ticket or an earlier handoff, pushed after the fact."""
TAKEN = "工作人员已接入，请直接说您的问题。"
BACK = "工作人员已把对话交回智能助手，您可以继续提问。"
CLOSED = "本次人工服务已结束，感谢您的耐心。还有问题可以继续问我。"
WAITING = "目前咨询的人较多，工作人员还在忙。您可以继续等待，或直接拨打 {hotline} 热线。"


def push_note(engine: Any, sender: str, text: str, ref: str, live: bool = False) -> str:
    """Queue ``text`` for a WeChat resident (within WeChat's 48-hour window); what happened,
    for the staff record. In a live handoff a web resident's page shows it; other channels
    (and a web page after the fact) cannot be pushed to."""
    channel, _, conversation = sender.partition(":")
    if channel == "web" and live:
        return "网页对话：居民的页面打开时立即显示 / shown on the resident's page"
    if channel != "wechat" or not conversation:
        if ref.startswith("ticket-"):
            return ("该渠道不能主动推送：居民凭编号查询时会听到答复，也可电话联系 / "
                    "this channel cannot push: the resident's progress check reads it")
        return "该渠道不能主动推送，请在居民再次咨询时告知，或电话联系 / this channel cannot push"
    return queue_wechat(engine, conversation, text, ref)[1]


def queue_wechat(engine: Any, openid: str, text: str, ref: str) -> Tuple[bool, str]:
    """Queue a push to a WeChat resident when WeChat still allows one (48 hours after their
    last message): whether it was queued, and the note for the staff record."""
    last = DeliveryStore(engine).last_message_at("wechat", openid)
    if last is None or utcnow() - last > WECHAT_WINDOW:
        return False, ("居民最后一条微信消息已超过 48 小时，微信不允许推送，请电话联系 / "
                       "outside WeChat's 48-hour window: not pushed")
    push = OutboxStore(engine).add("wechat", openid, text, ref)
    return True, f"已排入微信推送（编号 {push}）/ queued as push {push}"


class HandoffDesk:
    """The handoff inbox on the shared database."""

    def __init__(self, engine: Any, hotline: str = "12345") -> None:
        self.engine, self.hotline = engine, hotline

    # ---------------------------------------------------------------- reads
    def list(self, status: str = "waiting", limit: int = 200) -> List[Dict[str, Any]]:
        """Handoffs with a status, the longest waiting first."""
        with session_scope(self.engine) as session:
            rows = session.scalars(select(Handoff).where(Handoff.status == status)
                                   .order_by(Handoff.id).limit(limit))
            return [self._view(h) for h in rows]

    def get(self, handoff_id: int) -> Dict[str, Any]:
        """One handoff with its transcript and live messages.

        Raises:
            NotFoundError: no such handoff.
        """
        with session_scope(self.engine) as session:
            h = session.get(Handoff, handoff_id)
            if h is None:
                raise NotFoundError(f"没有编号为 {handoff_id} 的转人工记录")
            view = self._view(h)
            view["messages"] = self._messages(session, handoff_id)
            return view

    def messages(self, handoff_id: int, after: int = 0) -> List[Dict[str, Any]]:
        """Live messages after id ``after`` (the console polls for new ones)."""
        with session_scope(self.engine) as session:
            return self._messages(session, handoff_id, after)

    @staticmethod
    def _messages(session: Any, handoff_id: int, after: int = 0) -> List[Dict[str, Any]]:
        rows = session.scalars(select(HandoffMessage).where(
            HandoffMessage.handoff_id == handoff_id, HandoffMessage.id > after)
            .order_by(HandoffMessage.id))
        return [{"id": m.id, "who": m.who, "author": m.author, "text": m.text,
                 "at": as_utc(m.at).isoformat()} for m in rows]

    @staticmethod
    def _view(h: Handoff) -> Dict[str, Any]:
        waited = (utcnow() - as_utc(h.created_at)).total_seconds()
        return {"id": h.id, "sender": h.sender, "channel": h.channel, "reason": h.reason,
                "transcript": h.transcript or [], "status": h.status, "taken_by": h.taken_by,
                "created_at": as_utc(h.created_at).isoformat(), "waited_minutes": int(waited // 60),
                "answer": h.answer}

    def held(self) -> Dict[str, int]:
        """Every conversation staff hold now, with its handoff (the turn runner keeps a copy,
        so that no turn waits on this table)."""
        with session_scope(self.engine) as session:
            return {sender: int(hid) for sender, hid in session.execute(
                select(Handoff.sender, Handoff.id).where(Handoff.status == "taken")
                .order_by(Handoff.id))}

    # --------------------------------------------------------------- writes
    @staticmethod
    def _add_message(session: Any, handoff_id: int, who: str, author: str, text: str) -> int:
        """Write one staff or system message into a handoff; its id."""
        message = HandoffMessage(handoff_id=handoff_id, who=who, author=author[:64], text=text)
        session.add(message)
        session.flush()
        return int(message.id)

    def _move(self, handoff_id: int, allowed: Tuple[str, ...], status: str, actor: str,
              notice: str) -> None:
        with session_scope(self.engine) as session:
            h = session.get(Handoff, handoff_id)
            if h is None:
                raise NotFoundError(f"没有编号为 {handoff_id} 的转人工记录")
            if h.status not in allowed:
                raise ConflictError(f"转人工 {handoff_id} 现在是“{h.status}”状态，不能这样操作")
            if status == "taken" and h.status == "taken" and h.taken_by != actor:
                raise ConflictError(f"转人工 {handoff_id} 已由 {h.taken_by} 接手")
            h.status = status
            if status == "taken":
                h.taken_by, h.taken_at = actor[:64], utcnow()
            message_id = self._add_message(session, handoff_id, "system", actor, notice)
            sender = h.sender
        if sender.startswith("wechat:"):
            self._push_wechat(message_id, handoff_id, sender, notice)

    def take(self, handoff_id: int, actor: str) -> None:
        """Staff take the conversation: the bot stays quiet from now on."""
        self._move(handoff_id, ("waiting", "back"), "taken", actor, TAKEN)

    def hand_back(self, handoff_id: int, actor: str) -> None:
        """The bot answers again."""
        self._move(handoff_id, ("taken",), "back", actor, BACK)

    def close(self, handoff_id: int, actor: str) -> None:
        """The person's help is over (the bot answers again)."""
        self._move(handoff_id, ("waiting", "taken", "back"), "closed", actor, CLOSED)

    def reply(self, handoff_id: int, actor: str, text: str) -> str:
        """A staff message to the resident; how it reaches them, for the record.

        Raises:
            ValidationError: empty or too long.
            ConflictError: the handoff is not held by staff.
        """
        text = (text or "").strip()
        if not text:
            raise ValidationError("回复内容不能为空", "text")
        if len(text) > MAX_REPLY:
            raise ValidationError(f"回复最多 {MAX_REPLY} 字", "text")
        with session_scope(self.engine) as session:
            h = session.get(Handoff, handoff_id)
            if h is None:
                raise NotFoundError(f"没有编号为 {handoff_id} 的转人工记录")
            if h.status != "taken":
                raise ConflictError("请先接手这个对话，再回复")
            message_id = self._add_message(session, handoff_id, "staff", actor, text)
            sender = h.sender
        if sender.startswith("wechat:"):
            return self._push_wechat(message_id, handoff_id, sender, STAFF_PREFIX + text)
        return push_note(self.engine, sender, text, f"handoff-{handoff_id}", live=True)

    def _push_wechat(self, message_id: int, handoff_id: int, sender: str, text: str) -> str:
        """Queue one message for a WeChat resident; it counts as delivered once queued (the
        outbox then owns it), and stays undelivered when WeChat no longer allows a push."""
        queued, note = queue_wechat(self.engine, sender.partition(":")[2], text,
                                    f"handoff-{handoff_id}")
        if queued:
            with session_scope(self.engine) as session:
                session.execute(update(HandoffMessage).where(HandoffMessage.id == message_id)
                                .values(delivered_at=utcnow()))
        return note

    def record_resident(self, handoff_id: int, text: str) -> None:
        """What the resident said while staff hold the conversation."""
        with session_scope(self.engine) as session:
            session.add(HandoffMessage(handoff_id=handoff_id, who="resident", text=text[:5000],
                                       delivered_at=utcnow()))

    def claim_pushes(self, channel: str,
                     conversations: Iterable[str]) -> List[Tuple[str, int, str, str]]:
        """Staff and system messages not yet shown to these residents of ``channel``, each
        claimed once across instances: (conversation, message id, who, text)."""
        senders = {f"{channel}:{c}": c for c in conversations}
        if not senders:
            return []
        out = []
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(HandoffMessage.id, Handoff.sender, HandoffMessage.who,
                       HandoffMessage.text)
                .join(Handoff, Handoff.id == HandoffMessage.handoff_id)
                .where(Handoff.sender.in_(list(senders)), HandoffMessage.who != "resident",
                       HandoffMessage.delivered_at.is_(None))
                .order_by(HandoffMessage.id)).all()
            for message_id, sender, who, text in rows:
                claimed = session.execute(update(HandoffMessage).where(
                    HandoffMessage.id == message_id, HandoffMessage.delivered_at.is_(None))
                    .values(delivered_at=utcnow())).rowcount
                if claimed == 1:
                    out.append((senders[sender], int(message_id), who, text))
        return out

    def tell_waiting(self, wait: timedelta) -> int:
        """Residents waiting longer than ``wait`` are told so, once, with the hotline."""
        told = 0
        with session_scope(self.engine) as session:
            rows = session.scalars(select(Handoff).where(
                Handoff.status == "waiting", Handoff.told_wait == 0,
                Handoff.created_at < utcnow() - wait)).all()
            notice, overdue = WAITING.format(hotline=self.hotline), []
            for h in rows:
                h.told_wait = 1
                overdue.append((self._add_message(session, h.id, "system", "govbot", notice),
                                h.id, h.sender))
        for message_id, handoff_id, sender in overdue:
            if sender.startswith("wechat:"):
                self._push_wechat(message_id, handoff_id, sender, notice)
            told += 1
        return told
