"""A resident who cannot name the service: the topics, a topic's common questions, a choice."""
from __future__ import annotations

from actions.kb_actions import ActionAnswerService
from actions.topics import ActionBrowseTopic, ActionOfferTopics
from tests.actions.conftest import make_tracker, slots_of


def test_the_topics_are_offered_largest_first_with_a_person(services, dispatcher):
    events = ActionOfferTopics().run(dispatcher, make_tracker("我也不知道该问啥", "ask_help"), {})
    (message,) = dispatcher.messages
    assert message["custom"] == {"type": "topics", "topics": ["社保", "公积金", "老年人优待"]}
    assert message["buttons"][0]["payload"] == '/browse_topic{"topic": "社保"}'
    assert message["buttons"][-1]["payload"] == "/request_human"
    assert message["text"].startswith("没关系") and "公积金" in message["text"]
    assert slots_of(events)["last_answer"][0]["custom"]["type"] == "topics"


def test_a_service_named_anyway_is_searched(services, dispatcher):
    entities = [{"entity": "service", "value": "社保卡", "start": 8, "end": 11}]
    ActionOfferTopics().run(dispatcher, make_tracker("我也不知道该问啥，社保卡的事", "ask_help",
                                                     entities=entities), {})
    assert dispatcher.messages[0]["custom"]["type"] == "candidates"


def test_a_topic_lists_its_questions_and_a_number_picks_one(services, dispatcher):
    events = ActionBrowseTopic().run(dispatcher, make_tracker(
        '/browse_topic{"topic": "社保"}', "browse_topic",
        entities=[{"entity": "topic", "value": "社保"}]), {})
    message = dispatcher.messages[0]
    assert message["custom"]["type"] == "topic_entries"
    assert [c["id"] for c in message["custom"]["candidates"]] == ["card-reissue", "card-first"]
    assert "1. 社保卡丢了怎么补办？" in message["text"]
    candidates = slots_of(events)["candidates"]
    out = type(dispatcher)()
    picked = ActionAnswerService().run(out, make_tracker("2", "choose_option", slots={
        "candidates": candidates}), {})
    assert slots_of(picked)["current_entry"] == "card-first"


def test_a_topic_typed_after_the_offer_is_browsed(services, dispatcher):
    events = ActionOfferTopics().run(dispatcher, make_tracker("不知道问什么", "ask_help"), {})
    out = type(dispatcher)()
    ActionAnswerService().run(out, make_tracker("公积金方面的", "ask_service", slots={
        "last_answer": slots_of(events)["last_answer"]}), {})
    assert out.messages[0]["custom"] == {"type": "topic_entries", "topic": "公积金", "candidates": [
        {"n": 1, "id": "fund-rent", "title": "租房可以提取公积金吗？"}]}
    plain = type(dispatcher)()  # without the offer just before, the same words are a question
    ActionAnswerService().run(plain, make_tracker("公积金方面的", "ask_service"), {})
    assert plain.messages[0]["custom"]["type"] != "topic_entries"


def test_an_unknown_topic_offers_the_topics_again(services, dispatcher):
    ActionBrowseTopic().run(dispatcher, make_tracker('/browse_topic{"topic": "火星"}', "browse_topic",
                                                     entities=[{"entity": "topic", "value": "火星"}]), {})
    message = dispatcher.messages[0]
    assert message["custom"]["type"] == "topics" and "没有找到“火星”这个类别" in message["text"]


def test_a_topic_named_in_passing_lists_its_questions(services, dispatcher):
    ActionOfferTopics().run(dispatcher, make_tracker("不知道问什么，家里有老年人", "ask_help"), {})
    message = dispatcher.messages[0]
    assert message["custom"]["type"] == "topic_entries" and message["custom"]["topic"] == "老年人优待"
