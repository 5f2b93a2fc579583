"""Fixtures for action tests: installed services on a seeded temp database, tracker builder."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime


FIX = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"


@pytest.fixture()
def services(kb, records):
    """A small known KB (tests/fixtures/knowledge/actions_kb.jsonl) installed for actions."""
    from knowledge.importer import import_file
    import_file(kb, FIX / "actions_kb.jsonl")
    records.load_cases(FIX / "cases.jsonl")
    svc = runtime.Services(kb=kb, records=records, hotline="12345")
    runtime.install(svc)
    yield svc
    runtime.uninstall()


def make_tracker(text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None,
                 slots: Optional[Dict[str, Any]] = None, events: Optional[List[Dict]] = None,
                 active_loop: Optional[str] = None) -> Tracker:
    """A tracker whose latest message is ``text`` classified as ``intent``."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9},
              "entities": entities or []}
    return Tracker("test-sender", dict(slots or {}), latest, list(events or []), False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


@pytest.fixture()
def dispatcher() -> CollectingDispatcher:
    """Collects what actions say."""
    return CollectingDispatcher()


def slots_of(events) -> Dict[str, Any]:
    """Slot values set by a list of events (last wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
