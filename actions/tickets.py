"""Complaint/suggestion form: validate, read back, confirm or correct, save a ticket."""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import render, runtime
from actions.render import ANYTHING_ELSE
from actions.requests import (QUESTION, queue_open_question, question_read_back,
                              question_submitted, ticket_kind)
from actions.text import is_refusal, parse_district, parse_phone

_LOGGER = logging.getLogger(__name__)

NO_PHONE = "未提供"
TICKET_SLOTS = ("complaint_content", "district", "contact_phone")
CONFIRM_BUTTONS = [{"title": "确认提交", "payload": "/affirm"}, {"title": "修改", "payload": "/deny"}]


def _district(text: str) -> Optional[str]:
    gaz = runtime.gazetteer()
    return parse_district(text, gaz.get("districts", []), gaz.get("district_aliases", {}))


class ValidateComplaintForm(FormValidationAction):
    """Validate the three ticket slots as they are filled."""

    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_complaint_content(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # cleared to start the form again: nothing was said for it
            return {"complaint_content": None}
        text = str(value).strip()
        if len(text) < (2 if ticket_kind(tracker) == QUESTION else 4):
            dispatcher.utter_message(text="请再具体说说是什么事情，例如时间、地点和问题。")
            return {"complaint_content": None}
        return {"complaint_content": text[:2000]}

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        """A question left for staff needs no district: it is not an incident somewhere."""
        if ticket_kind(tracker) == QUESTION:
            return [s for s in domain_slots if s != "district"]
        return domain_slots

    def validate_district(self, value: Any, dispatcher: CollectingDispatcher,
                          tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:
            return {"district": None}
        district = _district(str(value))
        if district is None:
            dispatcher.utter_message(text="没有听清是哪个区，请说出区的名字，例如“海淀区”。")
        return {"district": district}

    def validate_contact_phone(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:
            return {"contact_phone": None}
        text = str(value)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        phone = parse_phone(text)
        if phone:
            return {"contact_phone": phone}
        if intent == "deny" or is_refusal(text):
            return {"contact_phone": NO_PHONE}
        dispatcher.utter_message(text="号码好像不完整。请说11位手机号或带区号的座机号；不方便留请说“不留”。")
        return {"contact_phone": None}


def read_back(dispatcher: CollectingDispatcher, content: str, district: str, phone: str,
              kind: str = "complaint") -> List[EventType]:
    """Read the ticket back and ask for confirmation."""
    text = (question_read_back(content, phone) if kind == QUESTION else
            f"请您核对：诉求内容：{content}；所在区：{district}；联系电话：{phone}。"
            f"确认提交请说“确认”，需要修改请说“修改”，也可以直接说正确的区或电话。")
    message = {"text": text, "buttons": CONFIRM_BUTTONS,
               "custom": {"type": "ticket_confirm", "content": content, "district": district,
                          "phone": phone}}
    dispatcher.utter_message(text=text, buttons=CONFIRM_BUTTONS, json_message=message["custom"])
    return [SlotSet("ticket_pending", True), SlotSet("last_answer", [message])]


class ActionConfirmTicket(Action):
    """After the form: read everything back for confirmation."""

    def name(self) -> Text:
        return "action_confirm_ticket"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        content, district, phone = (tracker.get_slot(s) or "" for s in TICKET_SLOTS)
        return read_back(dispatcher, content, district, phone or NO_PHONE, ticket_kind(tracker))


CORRECTION_CUES = ("改", "不对", "错", "应该是", "换成", "更正")
REDO_RE = re.compile(
    r"(?:(?:我要|我想|要|想|需要|帮我)?"
    r"(?:修改|更正|改一下|改改|改|重新(?:填|写|登记|来|办)|重填|重写|重来|有错|填错了?|写错了?|"
    r"说错了?|不对|改(?:个|一下)?(?:电话|号码|手机号?|区|内容))(?:一下)?(?:吧|呢|啊|呀)?)+")
"""At the read-back, a wish to change the ticket that names no new value ("修改", the word the
read-back itself offers, "改一下", "重新填"): the form starts again."""


def awaiting_confirmation(tracker: Tracker) -> bool:
    """Whether the bot's last message was the ticket read-back (and it is still pending)."""
    if not tracker.get_slot("ticket_pending"):
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            return custom.get("type") == "ticket_confirm"
    return False


def is_correction(tracker: Tracker) -> bool:
    """At the read-back: a new phone or district, said as a correction, not a new question."""
    text = tracker.latest_message.get("text") or ""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    named = bool(parse_phone(text) or _district(text))
    return named and (intent in ("inform", "deny") or any(c in text for c in CORRECTION_CUES))


def asks_to_redo(text: str) -> bool:
    """Whether ``text`` asks to change the read-back ticket without saying the new value."""
    return REDO_RE.fullmatch(re.sub(r"[\s\W_]", "", text)) is not None


def remind_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """After answering another question at the read-back, ask for the confirmation again."""
    content, district, phone = (tracker.get_slot(s) or "" for s in TICKET_SLOTS)
    dispatcher.utter_message(text="另外，您刚才登记的内容还没有提交。")
    return read_back(dispatcher, content, district, phone or NO_PHONE, ticket_kind(tracker))


def clear_ticket() -> List[EventType]:
    """Forget an unsubmitted ticket (handoff, or a stale one from an earlier session)."""
    return [SlotSet(s, None) for s in TICKET_SLOTS] + [SlotSet("ticket_pending", False),
                                                        SlotSet("ticket_kind", None)]


def correct_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Apply a correction said at confirmation time, or restart the form."""
    text = tracker.latest_message.get("text") or ""
    content, district, phone = (tracker.get_slot(s) or "" for s in TICKET_SLOTS)
    new_phone, new_district = parse_phone(text), _district(text)
    if new_phone or new_district:
        events: List[EventType] = []
        if new_phone:
            phone = new_phone
            events.append(SlotSet("contact_phone", phone))
        if new_district:
            district = new_district
            events.append(SlotSet("district", district))
        return events + read_back(dispatcher, content, district, phone, ticket_kind(tracker))
    dispatcher.utter_message(text="好的，我们重新登记一遍。")
    return [SlotSet(s, None) for s in TICKET_SLOTS] + [SlotSet("ticket_pending", False),
                                                        FollowupAction("complaint_form")]


def submit_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Save the ticket and read its number back."""
    svc = runtime.services()
    content, district, phone = (tracker.get_slot(s) or "" for s in TICKET_SLOTS)
    kind = ticket_kind(tracker)
    asked = tracker.get_slot("open_question") or {}
    queued = asked.get("id") if kind == QUESTION and asked.get("text") == content else None
    number = svc.records.create_ticket(content, district, phone or NO_PHONE, tracker.sender_id,
                                       str(tracker.get_latest_input_channel() or "unknown"),
                                       kind=kind, unanswered_id=queued)
    spaced = " ".join(number)
    text = (question_submitted(number) if kind == QUESTION else
            f"已为您提交，工单号是 {number}。我再读一遍：{spaced}。工作人员会尽快处理并回复您。")
    dispatcher.utter_message(text=text, json_message={"type": "ticket", "number": number,
                                                      "kind": kind})
    return clear_ticket() + ([SlotSet("open_question", None)] if kind == QUESTION else [])


HUH_RE = re.compile(r"[啊嗯哈哦呃噢唔][？?]+")
"""A bare interjection asked as a question: "huh?", not "yes"."""


class ActionHandleYesNo(Action):
    """"是/确认" and "不/修改": confirm or correct a pending ticket, otherwise move on."""

    def name(self) -> Text:
        return "action_handle_yes_no"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if HUH_RE.fullmatch((tracker.latest_message.get("text") or "").strip()):
            # "啊？" is no yes: the resident did not hear (a read-back is read again, not sent)
            render.say_again(dispatcher, tracker.get_slot("last_answer") or [])
            return []
        if awaiting_confirmation(tracker):
            if intent == "affirm":
                return submit_ticket(dispatcher, tracker)
            return correct_ticket(dispatcher, tracker)
        if intent == "deny" and tracker.get_slot("candidates"):  # "都不是" to the offer
            message = render.none_of_these_message(runtime.services().hotline)
            dispatcher.utter_message(**render.as_dispatch(message))
            return queue_open_question(tracker) + [
                SlotSet("candidates", None), SlotSet("pending_field", None),
                SlotSet("last_answer", [message])]
        dispatcher.utter_message(text=ANYTHING_ELSE)
        return clear_ticket() if tracker.get_slot("ticket_pending") else []


class AskSlotAction(Action):
    """Asks for one form slot (custom ask actions keep the domain free of unused responses)."""

    action_name = ""
    question = ""
    slot = ""  # the slot asked for, in ``custom`` (the phone line takes a number by keypad)

    def name(self) -> Text:
        return self.action_name

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(text=self.question,
                                 json_message={"type": "ask", "slot": self.slot})
        return []


class ActionAskComplaintContent(AskSlotAction):
    """Asks what the complaint or suggestion is about (or the question left for staff)."""

    action_name = "action_ask_complaint_content"
    question = "好的，我来帮您登记投诉或建议。请说一下具体是什么事情，发生在哪里。"
    slot = "complaint_content"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        if ticket_kind(tracker) == QUESTION:
            dispatcher.utter_message(text="好的，请说一下您想问的问题，我记下来交给工作人员答复。",
                                     json_message={"type": "ask", "slot": self.slot})
            return []
        return super().run(dispatcher, tracker, domain)


class ActionAskDistrict(AskSlotAction):
    """Asks for the district."""

    action_name = "action_ask_district"
    question = "请问事情发生在哪个区？例如“朝阳区”。"
    slot = "district"


class ActionAskContactPhone(AskSlotAction):
    """Asks for a contact phone (optional)."""

    action_name = "action_ask_contact_phone"
    question = "请留一个联系电话，方便工作人员回复您。如果不方便留，请说“不留”。"
    slot = "contact_phone"


class ActionCancelForm(Action):
    """Leave a form ("算了", "再见"): say so and forget what was half-filled."""

    def name(self) -> Text:
        return "action_cancel_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(text="好的，已经取消，刚才的内容没有提交。还有什么可以帮您？")
        return clear_ticket() + [SlotSet("application_number", None)]
