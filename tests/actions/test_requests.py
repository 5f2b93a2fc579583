"""Leaving an unanswered question for staff: the open question, the form, the ticket."""
from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.kb_actions import ActionAnswerService
from actions.requests import ActionLeaveQuestion, open_question
from actions.tickets import (ActionAskComplaintContent, ActionConfirmTicket, ActionHandleYesNo,
                             ValidateComplaintForm)
from tests.actions.conftest import make_tracker, slots_of

UNKNOWN = "火星移民签证怎么申请"


def test_no_answer_offers_to_leave_the_question_and_remembers_it(services, dispatcher):
    events = ActionAnswerService().run(dispatcher, make_tracker(UNKNOWN, "ask_service"), {})
    message = dispatcher.messages[0]
    assert "留言" in message["text"] and "人工" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/leave_question", "/request_human"]
    queued = services.records.list_unanswered()
    assert slots_of(events)["open_question"] == {"text": UNKNOWN, "id": queued[0]["id"]}


def test_an_answer_closes_the_open_question(services, dispatcher):
    tracker = make_tracker("社保卡丢了怎么补办", "ask_service",
                           slots={"open_question": open_question(UNKNOWN, 7)})
    events = ActionAnswerService().run(dispatcher, tracker, {})
    assert slots_of(events)["open_question"] is None


def test_leave_question_prefills_the_form_with_the_question(services, dispatcher):
    tracker = make_tracker("留言", "leave_question",
                           slots={"open_question": open_question(UNKNOWN, 3)})
    events = ActionLeaveQuestion().run(dispatcher, tracker, {})
    slots = slots_of(events)
    assert slots["complaint_content"] == UNKNOWN and slots["ticket_kind"] == "question"
    assert events[-1] == {"event": "followup", "name": "complaint_form", "timestamp": None}
    assert UNKNOWN in dispatcher.messages[0]["text"]


def test_leave_question_without_an_open_question_asks_for_it(services, dispatcher):
    events = ActionLeaveQuestion().run(dispatcher, make_tracker("我要留言", "leave_question"), {})
    assert slots_of(events)["complaint_content"] is None
    ask = CollectingDispatcher()
    ActionAskComplaintContent().run(ask, make_tracker("", "leave_question",
                                                      slots={"ticket_kind": "question"}), {})
    assert "您想问的问题" in ask.messages[0]["text"]


def test_a_question_needs_no_district_a_complaint_does(services, dispatcher):
    form = ValidateComplaintForm()
    slots = ["complaint_content", "district", "contact_phone"]
    asked = make_tracker("", "leave_question", slots={"ticket_kind": "question"})
    complaint = make_tracker("", "complain_or_suggest")
    assert asyncio.run(form.required_slots(slots, dispatcher, asked, {})) == [
        "complaint_content", "contact_phone"]
    assert asyncio.run(form.required_slots(slots, dispatcher, complaint, {})) == slots


def test_question_ticket_is_read_back_saved_and_linked_to_the_queue(services, dispatcher):
    queued = services.records.log_unanswered(UNKNOWN, "web", "web:abc")
    slots = {"ticket_kind": "question", "complaint_content": UNKNOWN,
             "contact_phone": "13800138000", "open_question": open_question(UNKNOWN, queued)}
    events = ActionConfirmTicket().run(dispatcher, make_tracker("13800138000", "inform",
                                                                slots=slots), {})
    text = dispatcher.messages[0]["text"]
    assert "您的问题：" + UNKNOWN in text and "所在区" not in text
    read_back = [{"event": "bot", "data": {"custom": dispatcher.messages[0]["custom"]}}]
    done = CollectingDispatcher()
    tracker = make_tracker("确认", "affirm", slots={**slots, **slots_of(events)}, events=read_back)
    after = slots_of(ActionHandleYesNo().run(done, tracker, {}))
    number = done.messages[0]["custom"]["number"]
    assert done.messages[0]["custom"]["kind"] == "question"
    assert number in done.messages[0]["text"] and " ".join(number) in done.messages[0]["text"]
    assert services.records.get_ticket(number)["kind"] == "question"
    assert services.records.list_unanswered()[0]["ticket_number"] == number
    assert after["open_question"] is None and after["ticket_kind"] is None


def test_none_of_these_queues_the_refused_question(services, dispatcher):
    slots = {"candidates": ["card-reissue", "elder-card"],
             "open_question": open_question("社保卡那个事")}
    events = ActionHandleYesNo().run(dispatcher, make_tracker("都不是", "deny", slots=slots), {})
    queued = services.records.list_unanswered()
    assert queued[0]["query"] == "社保卡那个事"
    assert slots_of(events)["open_question"] == {"text": "社保卡那个事", "id": queued[0]["id"]}
    assert "/leave_question" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]


def test_leaving_a_question_from_an_offer_queues_it_first(services, dispatcher):
    tracker = make_tracker("留言", "leave_question", slots={"open_question": open_question("社保卡那个事")})
    events = ActionLeaveQuestion().run(dispatcher, tracker, {})
    queued = services.records.list_unanswered()
    assert [q["query"] for q in queued] == ["社保卡那个事"]
    assert slots_of(events)["open_question"]["id"] == queued[0]["id"]
