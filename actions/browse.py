"""Browsing by topic: the KB's categories, then one category's most-asked questions."""
from __future__ import annotations

import re
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import render, runtime

MAX_TOPICS = 24
"""Topics offered at once, the largest categories first: every one a curated knowledge base
has, so a resident's topic is never hidden (the phone line pages its own menu)."""
MAX_TOPIC_ENTRIES = 6
"""Common questions listed for one topic (the most asked first)."""


def offer_topics(dispatcher: CollectingDispatcher, unknown: str = "") -> List[EventType]:
    """Send the topics to pick from (``unknown``: a topic asked for that does not exist)."""
    topics = runtime.services().catalog.categories()[:MAX_TOPICS]
    message = render.topics_message(topics, unknown=unknown)
    dispatcher.utter_message(**render.as_dispatch(message))
    return [SlotSet("candidates", None), SlotSet("last_answer", [message])]


def show_topic(dispatcher: CollectingDispatcher, topic: str) -> List[EventType]:
    """Send one topic's common questions; they are then chosen like an offer's candidates."""
    entries = runtime.services().catalog.entries(topic)[:MAX_TOPIC_ENTRIES] if topic else []
    if not entries:
        return offer_topics(dispatcher, unknown=topic)
    message = render.topic_entries_message(topic, entries)
    dispatcher.utter_message(**render.as_dispatch(message))
    return [SlotSet("candidates", [entry_id for entry_id, _ in entries]),
            SlotSet("pending_field", None), SlotSet("last_answer", [message])]


def mentioned_topic(text: str) -> Optional[str]:
    """The topic a message names, whole or, for a long one, without its last two characters
    ("残疾人" for 残疾人服务, "老年人" for 老年人优待)."""
    for topic in runtime.services().catalog.categories():
        stem = topic[:-2] if len(topic) >= 5 else topic
        if topic in text or stem in text:
            return topic
    return None


def typed_topic(tracker: Tracker, text: str) -> Optional[str]:
    """A topic typed or said right after the topics were offered ("社保" on WeChat or the
    phone, where there is nothing to tap)."""
    last = tracker.get_slot("last_answer") or []
    custom = (last[-1].get("custom") or {}) if last and isinstance(last[-1], dict) else {}
    if custom.get("type") != "topics":
        return None
    said = re.sub(r"[\s\W_]", "", text).removesuffix("方面的").removesuffix("方面")
    return said if said in (custom.get("topics") or []) else None
