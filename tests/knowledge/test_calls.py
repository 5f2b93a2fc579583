"""Phone calls' flow state: kept, replaced, dropped, and pruned when a call went quiet."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from knowledge.calls import CALL_TTL, CallStore
from knowledge.models import VoiceCall, utcnow


def test_state_is_kept_replaced_and_dropped(engine) -> None:
    calls = CallStore(engine)
    assert calls.get("jambonz", "c1") is None
    calls.put("jambonz", "c1", {"mode": "menu"})
    calls.put("jambonz", "c1", {"mode": "answer"})
    calls.put("sip", "c1", {"mode": "menu"})  # another channel's call of the same id
    assert calls.get("jambonz", "c1") == {"mode": "answer"} and calls.live("jambonz") == 1
    assert calls.drop("jambonz", "c1") and not calls.drop("jambonz", "c1")
    assert calls.get("sip", "c1") == {"mode": "menu"}


def test_only_calls_quiet_for_longer_than_the_ttl_are_pruned(engine) -> None:
    calls = CallStore(engine)
    calls.put("jambonz", "old", {})
    calls.put("jambonz", "new", {})
    with engine.begin() as conn:
        conn.execute(update(VoiceCall).where(VoiceCall.call_id == "old")
                     .values(updated_at=utcnow() - CALL_TTL - timedelta(minutes=1)))
    assert calls.prune() == 1
    assert calls.get("jambonz", "old") is None and calls.get("jambonz", "new") == {}
