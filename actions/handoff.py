"""Hand the conversation to a person, with the transcript, from anywhere."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.tickets import clear_ticket

_LOGGER = logging.getLogger(__name__)


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """User and bot turns so far, oldest first."""
    turns: List[Dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("user", "bot") and event.get("text"):
            turns.append({"who": "居民" if kind == "user" else "客服", "text": event["text"],
                          "at": event.get("timestamp")})
    return turns


class ActionHandoff(Action):
    """Create a handoff record and tell the resident what happens next."""

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        svc = runtime.services()
        channel = str(tracker.get_latest_input_channel() or "unknown")
        handoff_id = svc.records.create_handoff(
            tracker.sender_id, channel, tracker.latest_message.get("text") or "", transcript(tracker))
        dispatcher.utter_message(
            text=(f"好的，正在为您转接人工服务（转接单号 {handoff_id}）。"
                  f"工作人员会看到我们刚才的对话，您不用再重复。"
                  f"如果排队较久，也可以直接拨打 {svc.hotline} 热线。"),
            json_message={"type": "handoff", "handoff_id": handoff_id, "hotline": svc.hotline})
        # An active form is closed by the rule's action_deactivate_loop; an unsubmitted
        # ticket is dropped (the transcript above keeps what the resident said).
        return clear_ticket()
