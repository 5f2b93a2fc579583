"""Handoff, preferences, repeat, the ticket form and the progress check."""
from __future__ import annotations

from actions.handoff import ActionHandoff
from actions.preferences import ActionRepeat, ActionSetPreference
from actions.progress import ActionReportProgress, ValidateProgressForm
from actions.tickets import ActionConfirmTicket, ActionHandleYesNo, ValidateComplaintForm
from tests.actions.conftest import make_tracker, slots_of


def test_handoff_records_transcript(services, dispatcher):
    events = [{"event": "user", "text": "社保卡丢了"}, {"event": "bot", "text": "请先挂失"},
              {"event": "user", "text": "转人工"}]
    ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human", events=events), {})
    assert "转接" in dispatcher.messages[0]["text"]
    handoff = services.records.list_handoffs()[0]
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
    out = type(dispatcher)()
    events = ActionHandleYesNo().run(out, make_tracker("不对，电话是13900001111", "deny", slots=slots), {})
    assert slots_of(events)["contact_phone"] == "13900001111"
    assert "13900001111" in out.messages[0]["text"]
    slots["contact_phone"] = "13900001111"
    out = type(dispatcher)()
    events = ActionHandleYesNo().run(out, make_tracker("确认", "affirm", slots=slots), {})
    number = out.messages[0]["custom"]["number"]
    assert number in out.messages[0]["text"]
    saved = services.records.get_ticket(number)
    assert saved["phone"] == "13900001111" and saved["district"] == "朝阳区"
    assert slots_of(events)["ticket_pending"] is False


def test_plain_deny_restarts_the_form(services, dispatcher):
    slots = {"complaint_content": "路灯坏了很久", "district": "海淀区", "contact_phone": "未提供",
             "ticket_pending": True}
    events = ActionHandleYesNo().run(dispatcher, make_tracker("不对", "deny", slots=slots), {})
    assert any(e.get("event") == "followup" and e.get("name") == "complaint_form" for e in events)
    assert slots_of(events)["complaint_content"] is None


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
