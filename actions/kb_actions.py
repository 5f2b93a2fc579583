"""Knowledge-base actions: answer, clarify, decline, follow-up fields and choosing a candidate."""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import render, runtime
from actions.browse import show_topic, typed_topic
from actions.requests import open_question
from actions.text import asks_only_about, is_bare_follow_up, names_a_position, parse_option
from actions.tickets import (asks_to_redo, awaiting_confirmation, correct_ticket, is_correction,
                             remind_ticket)
from knowledge.index import SearchResult

_LOGGER = logging.getLogger(__name__)

ORDINAL_RE = re.compile(r"(第|选)?\s*([0-9]|[一二两三四五六七八九])\s*(个|条|项|号)?")


def _send(dispatcher: CollectingDispatcher, messages: List[Dict[str, Any]]) -> None:
    for message in messages:
        dispatcher.utter_message(**render.as_dispatch(message))


def _channel(tracker: Tracker) -> str:
    return str((tracker.get_latest_input_channel() or "")) or "unknown"


#: Words the KB vocabulary marks as service terms that name a field or a qualifier, not a
#: service ("收费吗" is a follow-up on the current entry, not a new question about 收费;
#: "外地户口也能办吗" asks for the current entry's conditions).
FIELD_WORDS = frozenset({"收费", "费用", "要钱", "工本费", "材料", "证件", "时间", "时限",
                         "地点", "地址", "电话", "条件", "流程", "手续", "网上办", "网上", "线上",
                         "网址", "网站", "手机上", "部门", "窗口", "外地", "本地", "外省",
                         "本市", "异地"})
SHORT_REPLY_CHARS = 12
"""A reply to an offer this short that shares words with one offered title picks it ("租房")."""
ASK_WHICH = "请问您要办理哪项业务？例如“补办社保卡”“申领老年卡”，我再告诉您{what}。"
def _service_words(tracker: Tracker) -> List[str]:
    return [str(e.get("value", "")) for e in tracker.latest_message.get("entities", [])
            if e.get("entity") in ("service", "department")
            and str(e.get("value", "")) not in FIELD_WORDS]


def names_a_service(tracker: Tracker) -> bool:
    """Whether the message names a service (not just a field word such as 收费)."""
    return bool(_service_words(tracker))


def _surface_words(tracker: Tracker) -> List[str]:
    """The service entities as the resident wrote them (their values may be standard terms)."""
    text = tracker.latest_message.get("text") or ""
    return [text[e["start"]:e["end"]] for e in tracker.latest_message.get("entities", [])
            if e.get("entity") in ("service", "department")
            and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)]


def _names_only(text: str, words: List[str]) -> bool:
    """Whether the text is nothing but service names (and punctuation)."""
    rest = text
    for word in words:
        rest = rest.replace(word, "")
    return len(re.sub(r"[\s\W_]", "", rest)) <= 1


def _about_entry(words: List[str], entry: Dict[str, Any]) -> bool:
    """Whether every service word is already in the entry ("带身份证就行吗" after an answer
    whose materials list the ID card): then the words ask about it, not about a new service."""
    said = render.entry_text(entry)
    return all(word in said for word in words)


def chosen(tracker: Tracker, entry: Dict[str, Any]) -> None:
    """Log the entry a resident picked from an offer (it counts as asked for)."""
    runtime.services().records.log_question(tracker.latest_message.get("text") or "",
                                            _channel(tracker), "chosen", entry["id"],
                                            tracker.get_slot("candidates") or ())


def respond_with_entry(dispatcher: CollectingDispatcher, entry: Dict[str, Any],
                       fields: Optional[List[str]] = None,
                       result: Optional[SearchResult] = None) -> List[EventType]:
    """Send an entry's answer (or some of its guide fields) and remember it as context; an
    answer to a close call (``result.related``) offers the entries it was close to."""
    message = render.field_message(entry, fields) if fields else render.answer_message(entry)
    if result is not None and result.related:
        message = render.with_related(message, [{"id": c.id, "title": c.question}
                                                for c in result.related])
    _send(dispatcher, [message])
    return [SlotSet("current_entry", entry["id"]), SlotSet("candidates", None),
            SlotSet("pending_field", None), SlotSet("last_answer", [message]),
            SlotSet("open_question", None)]


def search_and_respond(dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
                       fields: Optional[List[str]] = None,
                       result: Optional[SearchResult] = None) -> List[EventType]:
    """Search the KB for ``text`` (unless ``result`` is that search) and answer, clarify or
    decline honestly."""
    svc = runtime.services()
    if result is None:
        result = svc.kb.search(text, top=5)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    channel = _channel(tracker)
    if result.decision == "answer":
        entry = svc.kb.get_entry(result.candidates[0].id, include_unpublished=False)
        if entry is not None:
            svc.records.log_question(text, channel, "answer", entry["id"])
            return respond_with_entry(dispatcher, entry, fields, result)
    decision = "out_of_scope" if intent == "out_of_scope" else (
        "clarify" if result.decision == "clarify" else "none")
    svc.records.log_question(text, channel, decision, "",
                             [c.id for c in result.candidates] if decision == "clarify" else ())
    if result.decision == "clarify" and intent != "out_of_scope":
        message = render.candidates_message(result)
        _send(dispatcher, [message])
        return [SlotSet("candidates", [c.id for c in result.candidates]),
                SlotSet("pending_field", ",".join(fields) if fields else None),
                SlotSet("last_answer", [message]), SlotSet("open_question", open_question(text))]
    asked = None
    if intent == "out_of_scope":
        message = render.out_of_scope_message(svc.hotline)
    else:
        queued = svc.records.log_unanswered(text, channel, tracker.sender_id, result)
        message = render.none_message(svc.hotline)
        asked = open_question(text, queued)
    _send(dispatcher, [message])
    return [SlotSet("candidates", None), SlotSet("last_answer", [message]),
            SlotSet("open_question", asked)]


class ActionAnswerService(Action):
    """Answer a service question from the knowledge base."""

    def name(self) -> Text:
        return "action_answer_service"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/"):
            dispatcher.utter_message(text=render.NOT_UNDERSTOOD)
            return []
        if awaiting_confirmation(tracker):
            if is_correction(tracker) or asks_to_redo(text):  # "电话改成…", "修改"
                return correct_ticket(dispatcher, tracker)
            # Another question at the read-back: answer it, then ask to confirm again.
            return search_and_respond(dispatcher, tracker, text) + remind_ticket(dispatcher, tracker)
        topic = typed_topic(tracker, text)
        if topic:  # "社保" right after the topics were offered
            return show_topic(dispatcher, topic)
        candidates = tracker.get_slot("candidates")
        if candidates and ORDINAL_RE.fullmatch(text.strip(" 。.")):
            # "2" or "第二个" right after a clarify is a choice, whatever NLU thought.
            return ActionChooseOption().run(dispatcher, tracker, domain)
        if candidates and len(text.strip()) <= SHORT_REPLY_CHARS:
            return pick_by_words(dispatcher, tracker, text, candidates)
        return search_and_respond(dispatcher, tracker, text)


def pick_by_words(dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
                  candidates: List[str]) -> List[EventType]:
    """A short reply to an offer: the offered entry it names ("租房"), unless the KB is sure
    it is about something else; otherwise a new search."""
    svc = runtime.services()
    pending = tracker.get_slot("pending_field")
    fields = pending.split(",") if pending else None
    result = svc.kb.search(text, top=5)
    if result.decision == "answer" and result.candidates[0].id not in candidates:
        return search_and_respond(dispatcher, tracker, text, fields, result)
    entries = [svc.kb.get_entry(c, include_unpublished=False) for c in candidates]
    index = parse_option(text, [e["question"] if e else "" for e in entries])
    if index is None or entries[index] is None:
        return search_and_respond(dispatcher, tracker, text, fields, result)
    chosen(tracker, entries[index])
    return respond_with_entry(dispatcher, entries[index], fields)


def reoffer(dispatcher: CollectingDispatcher, candidates: List[str],
            fields: List[str]) -> Optional[List[EventType]]:
    """Ask which offered entry a field question is about; the choice answers that field
    (None: none of them is published any more)."""
    svc = runtime.services()
    entries = [e for e in (svc.kb.get_entry(c, include_unpublished=False) for c in candidates) if e]
    if not entries:
        return None
    message = render.field_offer_message(entries, fields)
    _send(dispatcher, [message])
    return [SlotSet("candidates", [e["id"] for e in entries]),
            SlotSet("pending_field", ",".join(fields) if fields else None),
            SlotSet("last_answer", [message])]


class ActionAnswerField(Action):
    """Answer "要带什么材料/要多久/在哪办/收费吗" from the current entry's guide fields."""

    def name(self) -> Text:
        return "action_answer_field"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        fields = list(render.FIELDS_BY_INTENT.get(intent, ()))
        text = tracker.latest_message.get("text") or ""
        current = tracker.get_slot("current_entry")
        svc = runtime.services()
        words = _service_words(tracker)
        if words and _names_only(text, _surface_words(tracker) + words):  # "身份证" alone names a service, asks no field
            return search_and_respond(dispatcher, tracker, text)
        offered = tracker.get_slot("candidates")
        if offered and not words and is_bare_follow_up(text):  # "在哪领" while entries are on offer
            events = reoffer(dispatcher, offered, fields)
            if events is not None:
                return events
        entry = svc.kb.get_entry(current, include_unpublished=False) if current else None
        if entry is not None and _about_entry(words, entry):
            if not words or asks_only_about(text, _surface_words(tracker) + words):
                return respond_with_entry(dispatcher, entry, fields)
            # Words the entry mentions ask about it, unless the KB is sure of another entry.
            result = svc.kb.search(text, top=5)
            if result.decision != "answer" or result.candidates[0].id == entry["id"]:
                return respond_with_entry(dispatcher, entry, fields)
            return search_and_respond(dispatcher, tracker, text, fields, result)
        if names_a_service(tracker):
            return search_and_respond(dispatcher, tracker, text, fields)
        if not is_bare_follow_up(text):  # "养狗要办什么证": the words name something
            return search_and_respond(dispatcher, tracker, text, fields)
        # A bare follow-up with no service under discussion ("需要哪些材料？" as the first
        # message): answer only if the KB is sure, else ask which service.
        result = svc.kb.search(text, top=5)
        if result.decision == "answer":
            return search_and_respond(dispatcher, tracker, text, fields, result)
        what = "、".join(render.LABELS[f] for f in fields) if fields else "怎么办理"
        dispatcher.utter_message(text=ASK_WHICH.format(what=what),
                                 json_message={"type": "ask_service", "fields": fields})
        return []  # the service named next is answered in full, its guide card included


class ActionChooseOption(Action):
    """Pick one of the numbered candidates offered by the last clarify."""

    def name(self) -> Text:
        return "action_choose_option"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        candidates = tracker.get_slot("candidates") or []
        text = tracker.latest_message.get("text") or ""
        option = next((e.get("value") for e in tracker.latest_message.get("entities", [])
                       if e.get("entity") == "option"), None)
        asks_anew = option is None and not text.startswith("/") and names_a_service(tracker)
        if not candidates:
            if asks_anew:  # nothing is on offer: "社保卡" taken for a choice is a question
                return search_and_respond(dispatcher, tracker, text)
            dispatcher.utter_message(text="现在没有可选的项目。请直接说出您想咨询的事情。")
            return []
        svc = runtime.services()
        entries = [svc.kb.get_entry(c, include_unpublished=False) for c in candidates]
        titles = [e["question"] if e else "" for e in entries]
        pending = tracker.get_slot("pending_field")
        fields = pending.split(",") if pending else None
        if asks_anew and not names_a_position(text):
            # It names a service: a choice only if the KB finds one of the offered entries
            # first (words shared with a title, 补办 say, are not enough); that entry when the
            # KB is sure of it, else the words must tell the offered entries apart.
            result = svc.kb.search(text, top=5)
            if result.decision == "none" or result.candidates[0].id not in candidates:
                return search_and_respond(dispatcher, tracker, text, fields, result)
            picked = entries[candidates.index(result.candidates[0].id)]
            if result.decision == "answer" and picked is not None:
                chosen(tracker, picked)
                return respond_with_entry(dispatcher, picked, fields)
        index = parse_option(str(option) if option is not None else text, titles)
        if index is None or entries[index] is None:
            dispatcher.utter_message(
                text=f"没听清您选的是哪一个，请说 1 到 {len(candidates)} 之间的序号。",
                buttons=[{"title": f"{i}. {t}", "payload": f'/choose_option{{"option": "{i}"}}'}
                         for i, t in enumerate(titles, 1) if t])
            return []
        chosen(tracker, entries[index])
        return respond_with_entry(dispatcher, entries[index], fields)
