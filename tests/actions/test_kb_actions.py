"""Knowledge-base actions: answer, clarify then choose, decline, follow-up from the current entry."""
from __future__ import annotations

import pytest

from actions.kb_actions import ActionAnswerField, ActionAnswerService, ActionChooseOption
from tests.actions.conftest import make_tracker, slots_of


def test_answer_sets_context_and_sends_guide(services, dispatcher):
    events = ActionAnswerService().run(dispatcher, make_tracker("社保卡丢了怎么补办", "ask_service"), {})
    slots = slots_of(events)
    assert slots["current_entry"] == "card-reissue"
    message = dispatcher.messages[0]
    assert "挂失" in message["text"]
    assert message["custom"]["type"] == "guide"
    assert message["custom"]["fields"]["materials"] == ["居民身份证原件", "近期一寸照片"]
    assert slots["last_answer"][0]["text"] == message["text"]


def test_unknown_question_declines_and_is_logged(services, dispatcher):
    tracker = make_tracker("火星移民签证怎么申请", "ask_service")
    events = ActionAnswerService().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["custom"]["type"] == "none"
    assert "12345" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][-1]["payload"] == "/request_human"
    queued = services.records.list_unanswered()
    assert queued and queued[0]["query"] == "火星移民签证怎么申请"
    assert "current_entry" not in slots_of(events)


def test_out_of_scope_is_declined_without_logging(services, dispatcher):
    ActionAnswerService().run(dispatcher, make_tracker("讲个笑话吧", "out_of_scope"), {})
    assert "不在政务服务范围" in dispatcher.messages[0]["text"]
    # a complaint NLU took for small talk still finds its way to the request form
    assert dispatcher.messages[0]["buttons"] == [{"title": "反映问题或提建议",
                                                  "payload": "/complain_or_suggest"}]
    assert services.records.list_unanswered() == []


def test_follow_up_uses_current_entry_not_a_new_search(services, dispatcher):
    tracker = make_tracker("要带什么材料", "ask_materials", slots={"current_entry": "card-reissue"})
    ActionAnswerField().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "1. 居民身份证原件" in text and "2. 近期一寸照片" in text
    assert dispatcher.messages[0]["custom"]["fields"] == {"materials": ["居民身份证原件", "近期一寸照片"]}


def test_follow_up_place_hours_and_missing_field(services, dispatcher):
    tracker = make_tracker("在哪里办", "ask_place_hours", slots={"current_entry": "card-reissue"})
    ActionAnswerField().run(dispatcher, tracker, {})
    assert "政务服务中心" in dispatcher.messages[0]["text"] and "9:00" in dispatcher.messages[0]["text"]
    other = type(dispatcher)()
    tracker = make_tracker("收费吗", "ask_fees", slots={"current_entry": "elder-card"})
    ActionAnswerField().run(other, tracker, {})
    assert "没有单独列出收费标准" in other.messages[0]["text"]


def test_clarify_then_choose_by_number_and_by_words(services, dispatcher):
    events = ActionAnswerService().run(dispatcher, make_tracker("社保卡", "ask_service"), {})
    slots = slots_of(events)
    assert dispatcher.messages[0]["custom"]["type"] == "candidates", dispatcher.messages
    ids = slots["candidates"]
    assert 2 <= len(ids) <= 3 and {"card-reissue", "card-first"} <= set(ids)
    assert dispatcher.messages[0]["buttons"][1]["payload"] == '/choose_option{"option": "2"}'
    for text in ("2", "第二个"):
        out = type(dispatcher)()
        chosen = ActionChooseOption().run(out, make_tracker(text, "choose_option",
                                                            slots={"candidates": ids}), {})
        assert slots_of(chosen)["current_entry"] == ids[1]
    out = type(dispatcher)()
    chosen = ActionChooseOption().run(out, make_tracker("补办那个", "choose_option",
                                                        slots={"candidates": ids}), {})
    assert slots_of(chosen)["current_entry"] == "card-reissue"


def test_typed_number_after_clarify_is_a_choice_whatever_the_intent(services, dispatcher):
    ids = ["card-reissue", "card-first"]
    events = ActionAnswerService().run(dispatcher, make_tracker("2", "inform",
                                                                slots={"candidates": ids}), {})
    assert slots_of(events)["current_entry"] == "card-first"


def test_choose_without_candidates_or_out_of_range(services, dispatcher):
    assert ActionChooseOption().run(dispatcher, make_tracker("2", "choose_option"), {}) == []
    out = type(dispatcher)()
    ActionChooseOption().run(out, make_tracker("7", "choose_option",
                                               slots={"candidates": ["card-reissue", "card-first"]}), {})
    assert "1 到 2" in out.messages[0]["text"]


CARD = [{"entity": "service", "value": "社保卡", "start": 0, "end": 3}]


def test_a_service_word_taken_for_a_choice_with_nothing_on_offer_is_searched(services, dispatcher):
    events = ActionChooseOption().run(dispatcher, make_tracker("社保卡", "choose_option", CARD), {})
    assert dispatcher.messages[0]["custom"]["type"] == "candidates", dispatcher.messages
    assert {"card-reissue", "card-first"} <= set(slots_of(events)["candidates"])
    # A place, an option entity or a button names nothing to search: no search, nothing logged.
    option = [{"entity": "option", "value": "2"}]
    for text, entities in (("第二个", []), ("前面那个", []), ("我选二", []), ("按2", option),
                           ("都不是", []), ("", []), ('/choose_option{"option": "2"}', option)):
        out = type(dispatcher)()
        assert ActionChooseOption().run(out, make_tracker(text, "choose_option", entities), {}) == []
        assert "没有可选的项目" in out.messages[0]["text"], text
    assert services.records.list_unanswered() == []


def test_a_new_question_while_options_are_on_offer_is_searched(services, dispatcher):
    ids = ["card-reissue", "card-first"]
    offered = {"candidates": ids, "pending_field": "materials"}
    fund = [{"entity": "service", "value": "公积金", "start": 4, "end": 7}]
    events = ActionChooseOption().run(dispatcher, make_tracker("租房能提公积金吗", "choose_option",
                                                               fund, slots=offered), {})
    assert slots_of(events)["current_entry"] == "fund-rent"
    assert dispatcher.messages[0]["custom"]["type"] == "field"  # the field still asked for
    # A restated offer, a vague reply, or a place beside a service word is asked again.
    for text, entities in (("我说的是社保卡", CARD), ("随便", []), ("倒数第五个社保卡", CARD)):
        out = type(dispatcher)()
        assert ActionChooseOption().run(out, make_tracker(text, "choose_option", entities,
                                                          slots=offered), {}) == []
        assert "1 到 2" in out.messages[0]["text"], text


def test_a_question_sharing_only_question_words_with_the_offer_is_no_choice(services, dispatcher):
    offered = {"candidates": ["fund-rent", "elder-card"]}  # 老年人优待证怎么办理？ shares 怎么
    events = ActionChooseOption().run(dispatcher, make_tracker(
        "第二次申领社保卡怎么办", "choose_option", CARD, slots=offered), {})
    assert slots_of(events).get("current_entry") != "elder-card"
    assert {"card-reissue", "card-first"} & set(
        [slots_of(events).get("current_entry")] + (slots_of(events).get("candidates") or []))


def test_words_shared_with_an_offered_title_do_not_pick_it_for_another_service(services, dispatcher):
    from knowledge.schema import EntryInput
    services.kb.load_index()
    services.kb.save_entry(EntryInput.from_mapping({
        "id": "id-reissue", "question": "居民身份证丢了怎么补办？",
        "similar_questions": ["身份证补领", "二代证丢了"],
        "answer": "到户籍所在地派出所申请补领，带户口簿。"}), "staff")
    offered = {"candidates": ["card-reissue", "fund-rent"]}  # 社保卡丢了怎么补办？ shares 补办
    idcard = [{"entity": "service", "value": "身份证", "start": 3, "end": 6}]
    events = ActionChooseOption().run(dispatcher, make_tracker(
        "第二代身份证怎么补办", "choose_option", idcard, slots=offered), {})
    slots = slots_of(events)
    assert slots.get("current_entry") == "id-reissue" or "id-reissue" in slots["candidates"]


def test_a_service_named_among_the_offer_picks_the_entry_the_kb_found(services, dispatcher):
    """新办社保卡 is a similar question of card-first, which the KB answers with; card-reissue's
    title shares more characters with it (社保卡丢了怎么补办 has 办 too): the KB's pick wins.
    An unsure KB leaves it to the words: 我说的是社保卡 is asked again (see
    test_a_new_question_while_options_are_on_offer_is_searched)."""
    offered = {"candidates": ["card-reissue", "card-first"]}
    card = [{"entity": "service", "value": "社保卡", "start": 2, "end": 5}]
    found = services.kb.search("新办社保卡", top=5)
    assert (found.decision, found.candidates[0].id) == ("answer", "card-first")
    events = ActionChooseOption().run(dispatcher, make_tracker("新办社保卡", "choose_option", card,
                                                               slots=offered), {})
    assert slots_of(events)["current_entry"] == "card-first"


def test_a_follow_up_before_any_service_asks_which_service(services, dispatcher):
    tracker = make_tracker("需要哪些材料？", "ask_materials")
    assert ActionAnswerField().run(dispatcher, tracker, {}) == []
    (message,) = dispatcher.messages
    assert message["text"].startswith("请问您要办理哪项业务") and "申请材料" in message["text"]
    assert not message.get("buttons")  # no unrelated candidates


def test_a_fee_word_is_a_follow_up_not_a_new_service(services, dispatcher):
    search = make_tracker("社保卡丢了怎么补办", "ask_service")
    ActionAnswerService().run(dispatcher, search, {})
    current = dispatcher.messages[-1]["custom"]["entry_id"]
    dispatcher.messages.clear()
    for text in ("收费吗", "要收费吗"):  # the KB vocabulary marks 收费 as a service term
        tracker = make_tracker(text, "ask_fees", slots={"current_entry": current},
                               entities=[{"entity": "service", "value": "收费"}])
        ActionAnswerField().run(dispatcher, tracker, {})
        custom = dispatcher.messages[-1]["custom"]
        assert custom["type"] == "field" and custom["entry_id"] == current


def test_a_yes_no_question_on_a_word_of_the_current_entry_is_a_follow_up(services, dispatcher,
                                                                        monkeypatch):
    """"需要户口本不" after a marriage answer that mentions 户口簿 asks about that answer, even
    when the KB alone is sure of another entry (replacing a household register)."""
    from knowledge.decide import Candidate, SearchResult
    sure = SearchResult("x", "answer", (Candidate("elder-card", 0.95, "老年人优待证怎么办理？"),))
    monkeypatch.setattr(services.kb, "search", lambda text, top=5: sure)
    current = "card-reissue"  # its materials name 居民身份证原件
    entities = [{"entity": "service", "value": "居民身份证", "start": 2, "end": 5}]
    for text in ("需要身份证不", "要带身份证吗"):
        entities[0]["start"] = text.index("身份证")
        entities[0]["end"] = entities[0]["start"] + 3
        tracker = make_tracker(text, "ask_materials", slots={"current_entry": current},
                               entities=entities)
        ActionAnswerField().run(dispatcher, tracker, {})
        custom = dispatcher.messages[-1]["custom"]
        assert custom["type"] == "field" and custom["entry_id"] == current, text
    other = make_tracker("补办身份证要什么材料", "ask_materials", slots={"current_entry": current},
                         entities=[{"entity": "service", "value": "身份证", "start": 2, "end": 5}])
    ActionAnswerField().run(dispatcher, other, {})
    assert dispatcher.messages[-1]["custom"]["entry_id"] == "elder-card"


def test_every_offer_ends_with_none_of_these_and_a_person(services, dispatcher):
    events = ActionAnswerService().run(dispatcher, make_tracker("社保卡", "ask_service"), {})
    message = dispatcher.messages[-1]
    assert message["custom"]["type"] == "candidates"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[-2:] == ["都不是", "/request_human"]
    assert len(payloads) - 2 == len(message["custom"]["candidates"]) <= 3
    from actions.tickets import ActionHandleYesNo
    out = type(dispatcher)()
    after = ActionHandleYesNo().run(out, make_tracker("都不是", "deny", slots={
        "candidates": slots_of(events)["candidates"]}), {})
    assert out.messages[0]["custom"]["type"] == "none" and "人工" in out.messages[0]["text"]
    assert [b["payload"] for b in out.messages[0]["buttons"]] == ["/leave_question",
                                                                   "/request_human"]
    assert slots_of(after)["candidates"] is None


def test_an_answer_to_a_close_call_offers_what_it_was_close_to(services, dispatcher):
    from actions.kb_actions import respond_with_entry
    from knowledge.decide import Candidate, SearchResult
    entry = services.kb.get_entry("card-reissue")
    close = SearchResult("社保卡补办", "answer", (Candidate("card-reissue", 0.6, "补办"),),
                         related=(Candidate("elder-card", 0.5, "老年卡怎么办"),))
    events = respond_with_entry(dispatcher, entry, None, close)
    message = dispatcher.messages[0]
    assert message["custom"]["related"] == [{"id": "elder-card", "title": "老年卡怎么办"}]
    assert {"title": "您可能还想问：老年卡怎么办", "payload": "老年卡怎么办"} in message["buttons"]
    assert slots_of(events)["last_answer"][0]["custom"]["related"]
    plain = type(dispatcher)()
    respond_with_entry(plain, entry)
    assert "related" not in plain.messages[0]["custom"] and not plain.messages[0].get("buttons")


def test_a_bare_service_name_taken_for_a_field_question_is_a_question(services, dispatcher):
    entities = [{"entity": "service", "value": "社保卡"}]
    events = ActionAnswerField().run(dispatcher, make_tracker("社保卡", "ask_materials",
                                                              entities=entities), {})
    assert dispatcher.messages[0]["custom"]["type"] == "candidates"
    assert slots_of(events)["pending_field"] is None


def test_every_question_is_logged_with_the_decision(services, dispatcher):
    from sqlalchemy import select

    from knowledge.db import session_scope
    from knowledge.models import Question

    ActionAnswerService().run(dispatcher, make_tracker("社保卡丢了怎么补办", "ask_service"), {})
    ActionAnswerService().run(type(dispatcher)(), make_tracker("火星移民签证怎么申请", "ask_service"), {})
    ActionAnswerService().run(type(dispatcher)(), make_tracker("讲个笑话吧", "out_of_scope"), {})
    events = ActionAnswerService().run(type(dispatcher)(), make_tracker("社保卡", "ask_service"), {})
    ids = slots_of(events)["candidates"]
    ActionChooseOption().run(type(dispatcher)(), make_tracker("2", "choose_option",
                                                              slots={"candidates": ids}), {})
    with session_scope(services.records.engine) as session:
        logged = [(q.query, q.decision, q.entry_id)
                  for q in session.scalars(select(Question).order_by(Question.id))]
    assert logged == [("社保卡丢了怎么补办", "answer", "card-reissue"),
                      ("火星移民签证怎么申请", "none", ""), ("讲个笑话吧", "out_of_scope", ""),
                      ("社保卡", "clarify", ""), ("2", "chosen", ids[1])]
    with session_scope(services.records.engine) as session:
        offered = session.scalar(select(Question.offered).where(Question.decision == "clarify"))
    assert offered == ids


def test_a_field_question_while_entries_are_on_offer_asks_which_and_keeps_the_offer(
        services, dispatcher):
    events = ActionAnswerService().run(dispatcher, make_tracker("社保卡", "ask_service", slots={
        "current_entry": "elder-card"}), {})
    offered = slots_of(events)["candidates"]
    out = type(dispatcher)()
    asked = ActionAnswerField().run(out, make_tracker("在哪领", "ask_place_hours", slots={
        "candidates": offered, "current_entry": "elder-card"}), {})
    message = out.messages[0]
    assert message["text"].startswith("您想问下面哪一项的办理地点、办理时间？")
    assert [c["id"] for c in message["custom"]["candidates"]] == offered
    assert slots_of(asked)["pending_field"] == "place,hours"
    picked = type(dispatcher)()
    ActionAnswerService().run(picked, make_tracker("1", "choose_option", slots={
        "candidates": offered, "pending_field": "place,hours"}), {})
    assert picked.messages[0]["custom"]["type"] == "field"
    assert picked.messages[0]["custom"]["entry_id"] == offered[0]
