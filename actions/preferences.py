"""Accessibility preferences (slower, louder, larger text) and "再说一遍"."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.render import NOT_UNDERSTOOD, as_dispatch, say_again
from actions.tickets import asks_to_redo, awaiting_confirmation, correct_ticket

_LOGGER = logging.getLogger(__name__)

#: intent -> (slot, value, confirmation)
PREFERENCES = {
    "speak_slower": ("pref_rate", "slow", "好的，我会说慢一点。"),
    "speak_louder": ("pref_volume", "loud", "好的，我会把声音调大一些。"),
    "larger_text": ("pref_large_text", True, "好的，已为您切换到大字模式（长辈版）。"),
}


def preference_payload(tracker: Tracker, slot: str, value: Any) -> Dict[str, Any]:
    """The full preference set after one change, as a ``custom`` payload channels read."""
    prefs = {"rate": tracker.get_slot("pref_rate") or "normal",
             "volume": tracker.get_slot("pref_volume") or "normal",
             "large_text": bool(tracker.get_slot("pref_large_text"))}
    prefs[{"pref_rate": "rate", "pref_volume": "volume", "pref_large_text": "large_text"}[slot]] = value
    return {"type": "preferences", "preferences": prefs}


class ActionSetPreference(Action):
    """Set a per-conversation preference, confirm it, and repeat the last answer if slower/louder."""

    def name(self) -> Text:
        return "action_set_preference"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        if intent not in PREFERENCES:
            dispatcher.utter_message(text=NOT_UNDERSTOOD)
            return []
        slot, value, confirmation = PREFERENCES[intent]
        dispatcher.utter_message(text=confirmation,
                                 json_message=preference_payload(tracker, slot, value))
        if intent in ("speak_slower", "speak_louder"):
            for message in tracker.get_slot("last_answer") or []:
                dispatcher.utter_message(**as_dispatch(message))
        return [SlotSet(slot, value)]


class ActionRepeat(Action):
    """Say the last answer again ("再说一遍")."""

    def name(self) -> Text:
        return "action_repeat"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        if awaiting_confirmation(tracker) and asks_to_redo(tracker.latest_message.get("text") or ""):
            return correct_ticket(dispatcher, tracker)  # "重新填" at the read-back
        say_again(dispatcher, tracker.get_slot("last_answer") or [])
        return []
