"""Greetings and thanks, unless they carry a question ("喂，你好，我想问一下那个老年卡")."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.kb_actions import names_a_service, search_and_respond

_LOGGER = logging.getLogger(__name__)


class _Courtesy(Action):
    """A courtesy answered with ``response``, or the question it carries, searched."""

    action_name = ""
    response = ""

    def name(self) -> Text:
        return self.action_name

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        if names_a_service(tracker):
            return search_and_respond(dispatcher, tracker, tracker.latest_message.get("text") or "")
        dispatcher.utter_message(response=self.response)
        return []


class ActionGreet(_Courtesy):
    """"你好"; "你好，我想问一下老年卡" is answered as the question it is."""

    action_name = "action_greet"
    response = "utter_greet"


class ActionThank(_Courtesy):
    """"谢谢"; "谢谢，那社保卡怎么补" is answered as the question it is."""

    action_name = "action_thank"
    response = "utter_you_are_welcome"
