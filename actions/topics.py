"""For residents who cannot name the service: the topics, then a topic's common questions."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.browse import mentioned_topic, offer_topics, show_topic
from actions.kb_actions import FIELD_WORDS, search_and_respond

_LOGGER = logging.getLogger(__name__)


def _named_services(tracker: Tracker) -> List[str]:
    """Services the resident named anyway ("不知道该问啥，我刚退休" names 退休)."""
    text = tracker.latest_message.get("text") or ""
    return [text[e["start"]:e["end"]] for e in tracker.latest_message.get("entities", [])
            if e.get("entity") == "service" and isinstance(e.get("start"), int)
            and isinstance(e.get("end"), int) and e.get("value") not in FIELD_WORDS]


class ActionOfferTopics(Action):
    """"不知道该问什么": what the resident named, searched; a topic named, its questions;
    otherwise the topics to pick from."""

    def name(self) -> Text:
        return "action_offer_topics"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        named = _named_services(tracker)
        if named:
            return search_and_respond(dispatcher, tracker, "".join(named))
        topic = mentioned_topic(tracker.latest_message.get("text") or "")
        return show_topic(dispatcher, topic) if topic else offer_topics(dispatcher)


class ActionBrowseTopic(Action):
    """A topic picked from the list: its common questions, chosen like an offer."""

    def name(self) -> Text:
        return "action_browse_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        topic = next((str(e.get("value") or "") for e in tracker.latest_message.get("entities", [])
                      if e.get("entity") == "topic"), "")
        return show_topic(dispatcher, topic)
