"""Handoff, preferences, repeat, the ticket form and the progress check."""
from __future__ import annotations

import pytest

from actions.handoff import ActionHandoff
from actions.preferences import ActionRepeat, ActionSetPreference
from actions.progress import ActionReportProgress, ValidateProgressForm
from actions.tickets import ActionConfirmTicket, ActionHandleYesNo, ValidateComplaintForm
from knowledge.handoffs import HandoffDesk
from tests.actions.conftest import make_tracker, slots_of


def test_handoff_records_transcript(services, dispatcher):
    events = [{"event": "user", "text": "社保卡丢了"}, {"event": "bot", "text": "请先挂失"},
              {"event": "user", "text": "转人工"}]
    ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human", events=events), {})
    assert "转接" in dispatcher.messages[0]["text"]
    handoff = HandoffDesk(services.records.engine).list()[-1]
    assert [t["text"] for t in handoff["transcript"]] == ["社保卡丢了", "请先挂失", "转人工"]
    assert handoff["sender"] == "test-sender"


def test_preferences_set_slots_and_repeat_last_answer(services, dispatcher):
    last = [{"text": "先挂失，再补办。"}]
    events = ActionSetPreference().run(dispatcher, make_tracker(
        "慢一点", "speak_slower", slots={"last_answer": last}), {})
    assert slots_of(events) == {"pref_rate": "slow"}
    assert dispatcher.messages[0]["custom"]["preferences"]["rate"] == "slow"
    assert dispatcher.messages[1]["text"] == "先挂失，再补办。"
    out = type(dispatcher)()
    events = ActionSetPreference().run(out, make_tracker("字大一点", "larger_text"), {})
    assert slots_of(events) == {"pref_large_text": True}
    out = type(dispatcher)()
    ActionRepeat().run(out, make_tracker("再说一遍", "repeat", slots={"last_answer": last}), {})
    assert out.messages[0]["text"] == "先挂失，再补办。"


def test_complaint_slot_validation(services, dispatcher):
    form = ValidateComplaintForm()
    tracker = make_tracker("x", "inform")
    assert form.validate_complaint_content("太吵", dispatcher, tracker, {}) == {"complaint_content": None}
    assert form.validate_district("我住朝阳那边", dispatcher, tracker, {}) == {"district": "朝阳区"}
    assert form.validate_district("不知道", dispatcher, tracker, {}) == {"district": None}
    assert form.validate_contact_phone("138 1234 5678", dispatcher, tracker, {}) == {
        "contact_phone": "13812345678"}
    deny = make_tracker("不方便", "deny")
    assert form.validate_contact_phone("不方便", dispatcher, deny, {}) == {"contact_phone": "未提供"}
    assert form.validate_contact_phone("一二三", dispatcher, tracker, {}) == {"contact_phone": None}


def test_ticket_read_back_correct_and_submit(services, dispatcher):
    slots = {"complaint_content": "小区门口夜间施工噪音扰民", "district": "朝阳区",
             "contact_phone": "13812345678"}
    events = ActionConfirmTicket().run(dispatcher, make_tracker("x", "inform", slots=slots), {})
    assert slots_of(events)["ticket_pending"] is True
    assert "朝阳区" in dispatcher.messages[0]["text"] and "13812345678" in dispatcher.messages[0]["text"]
    slots["ticket_pending"] = True
    read_back = [{"event": "bot", "text": "请您核对", "data": {"custom": {"type": "ticket_confirm"}}}]
    out = type(dispatcher)()
    events = ActionHandleYesNo().run(out, make_tracker("不对，电话是13900001111", "deny", slots=slots,
                                                       events=read_back), {})
    assert slots_of(events)["contact_phone"] == "13900001111"
    assert "13900001111" in out.messages[0]["text"]
    slots["contact_phone"] = "13900001111"
    out = type(dispatcher)()
    events = ActionHandleYesNo().run(out, make_tracker("确认", "affirm", slots=slots,
                                                       events=read_back), {})
    number = out.messages[0]["custom"]["number"]
    assert number in out.messages[0]["text"]
    saved = services.records.get_ticket(number)
    assert saved["phone"] == "13900001111" and saved["district"] == "朝阳区"
    assert slots_of(events)["ticket_pending"] is False


def test_slots_cleared_for_a_restart_are_not_taken_for_answers(services, dispatcher):
    """Starting the form again clears its slots; the validators then see None for each, and
    must neither complain nor take the "不对" that restarted it for a refused phone."""
    form = ValidateComplaintForm()
    deny = make_tracker("不对", "deny")
    assert form.validate_complaint_content(None, dispatcher, deny, {}) == {"complaint_content": None}
    assert form.validate_district(None, dispatcher, deny, {}) == {"district": None}
    assert form.validate_contact_phone(None, dispatcher, deny, {}) == {"contact_phone": None}
    assert dispatcher.messages == []


def test_plain_deny_restarts_the_form(services, dispatcher):
    slots = {"complaint_content": "路灯坏了很久", "district": "海淀区", "contact_phone": "未提供",
             "ticket_pending": True}
    read_back = [{"event": "bot", "text": "请您核对", "data": {"custom": {"type": "ticket_confirm"}}}]
    events = ActionHandleYesNo().run(dispatcher, make_tracker("不对", "deny", slots=slots,
                                                              events=read_back), {})
    assert any(e.get("event") == "followup" and e.get("name") == "complaint_form" for e in events)
    assert slots_of(events)["complaint_content"] is None


@pytest.mark.parametrize("text,intent,action", [
    ("修改", "nlu_fallback", "answer"), ("我要修改", "nlu_fallback", "answer"),
    ("改一下", "ask_service", "answer"), ("重新填", "repeat", "repeat"),
    ("写错了", "nlu_fallback", "answer"),
])
def test_asking_to_change_at_read_back_restarts_the_form(services, dispatcher, text, intent,
                                                         action):
    """"修改" is the word the read-back offers; NLU may take it for anything."""
    from actions.kb_actions import ActionAnswerService
    slots = {"complaint_content": "路灯坏了很久", "district": "海淀区", "contact_phone": "未提供",
             "ticket_pending": True}
    read_back = [{"event": "bot", "text": "请您核对", "data": {"custom": {"type": "ticket_confirm"}}}]
    run = ActionAnswerService() if action == "answer" else ActionRepeat()
    events = run.run(dispatcher, make_tracker(text, intent, slots=slots, events=read_back), {})
    assert any(e.get("event") == "followup" and e.get("name") == "complaint_form" for e in events)
    assert slots_of(events)["complaint_content"] is None
    assert "重新登记" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("text,redo", [
    ("修改", True), ("不对，重新来", True), ("改个电话", True), ("写错了！", True),
    ("再说一遍", False), ("重新说一遍", False), ("电话改成13900001111", False),
    ("修改社保卡密码怎么办", False), ("", False),
])
def test_what_counts_as_asking_to_change(text, redo):
    from actions.tickets import asks_to_redo
    assert asks_to_redo(text) is redo


def test_repeat_at_read_back_reads_it_again(services, dispatcher):
    read_back = [{"event": "bot", "text": "请您核对", "data": {"custom": {"type": "ticket_confirm"}}}]
    last = [{"text": "请您核对：诉求内容：路灯坏了", "custom": {"type": "ticket_confirm"}}]
    events = ActionRepeat().run(dispatcher, make_tracker("再说一遍", "repeat", slots={
        "ticket_pending": True, "last_answer": last}, events=read_back), {})
    assert events == [] and dispatcher.messages[0]["text"].startswith("请您核对")


def test_huh_at_the_read_back_reads_it_again_instead_of_submitting(services, dispatcher):
    """"啊？" comes out as affirm; asked as a question it is no yes."""
    slots = {"complaint_content": "路灯坏了很久", "district": "海淀区", "contact_phone": "未提供",
             "ticket_pending": True,
             "last_answer": [{"text": "请您核对：诉求内容：路灯坏了很久", "custom": {"type": "ticket_confirm"}}]}
    read_back = [{"event": "bot", "text": "请您核对", "data": {"custom": {"type": "ticket_confirm"}}}]
    events = ActionHandleYesNo().run(dispatcher, make_tracker("啊？", "affirm", slots=slots,
                                                              events=read_back), {})
    assert events == [] and dispatcher.messages[0]["text"].startswith("请您核对")
    from knowledge.tickets import list_tickets
    assert list_tickets(services.records.engine) == ([], 0)
    out = type(dispatcher)()
    ActionHandleYesNo().run(out, make_tracker("嗯？", "affirm"), {})
    assert out.messages[0]["text"] == "我们还没有开始问答。请说出您想咨询的事情。"


def test_progress_check(services, dispatcher):
    form = ValidateProgressForm()
    tracker = make_tracker("x", "inform")
    assert form.validate_application_number("sb202611200001", dispatcher, tracker, {}) == {
        "application_number": "SB202611200001"}
    assert form.validate_application_number("123", dispatcher, tracker, {}) == {"application_number": None}
    out = type(dispatcher)()
    ActionReportProgress().run(out, make_tracker("x", "inform", slots={
        "application_number": "SB202611200001"}), {})
    assert "审核中" in out.messages[0]["text"]
    out = type(dispatcher)()
    ActionReportProgress().run(out, make_tracker("x", "inform", slots={
        "application_number": "SB209999999999"}), {})
    assert "没有查到" in out.messages[0]["text"]


def _progress(text: str, number: str, sender: str = "test-sender") -> str:
    from rasa_sdk.executor import CollectingDispatcher
    out = CollectingDispatcher()
    tracker = make_tracker(text, "check_progress", slots={"application_number": number})
    tracker.sender_id = sender
    ActionReportProgress().run(out, tracker, {})
    return out.messages[0]["text"]


def test_a_ticket_number_reads_its_status_and_to_its_sender_the_answer(services, dispatcher):
    number = services.records.create_ticket("居住证到期了怎么续签", "", "13812345678",
                                            "test-sender", "web", kind="question")
    tracker = make_tracker("x", "inform")
    assert ValidateProgressForm().validate_application_number(
        number.lower().replace("-", " "), dispatcher, tracker, {}) == {"application_number": number}
    assert "已受理，等待处理" in _progress("查询", number) and "答复后" in _progress("查询", number)
    services.records.save_answer("ticket", services.records.get_ticket(number)["id"],
                                 "居住证有效期满前30日内到派出所续签。", "", "staff")
    mine = _progress("查询", number)
    assert "已答复" in mine and "有效期满前30日" in mine
    other = _progress("查询", number, sender="web:someone-else")
    assert "已答复" in other and "有效期满前30日" not in other and "12345" in other
    assert "没有查到" in _progress("查询", "GD20991231-999999")


def test_a_new_question_at_read_back_is_answered_then_confirmation_asked_again(services, dispatcher):
    from actions.kb_actions import ActionAnswerService
    slots = {"complaint_content": "路灯坏了很久", "district": "朝阳区", "contact_phone": "未提供",
             "ticket_pending": True}
    read_back = [{"event": "bot", "text": "请您核对", "data": {"custom": {"type": "ticket_confirm"}}}]
    tracker = make_tracker("海淀区的老年卡怎么办", "ask_service", slots=slots, events=read_back)
    events = ActionAnswerService().run(dispatcher, tracker, {})
    assert "district" not in slots_of(events)  # not mistaken for a correction
    assert dispatcher.messages[-1]["custom"]["type"] == "ticket_confirm"
    assert dispatcher.messages[-1]["custom"]["district"] == "朝阳区"


def test_stale_pending_ticket_is_dropped_and_handoff_clears_it(services, dispatcher):
    slots = {"complaint_content": "路灯坏了", "district": "朝阳区", "ticket_pending": True}
    events = ActionHandleYesNo().run(dispatcher, make_tracker("好的", "affirm", slots=slots), {})
    assert slots_of(events)["ticket_pending"] is False and services.records.get_ticket("GD") is None
    out = type(dispatcher)()
    events = ActionHandoff().run(out, make_tracker("人工", "request_human", slots=slots), {})
    assert slots_of(events)["complaint_content"] is None


def test_ticket_numbers_are_unique(services):
    numbers = {services.records.create_ticket("内容一二三四", "朝阳区", "未提供", "s", "rest")
               for _ in range(5)}
    assert len(numbers) == 5 and all(n.startswith("GD") for n in numbers)
