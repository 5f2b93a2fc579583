"""Greetings and thanks that carry a question are answered as the question."""
from __future__ import annotations

from actions.chitchat import ActionGreet, ActionThank
from tests.actions.conftest import make_tracker


def test_a_plain_greeting_and_thanks_get_their_responses(services, dispatcher):
    ActionGreet().run(dispatcher, make_tracker("你好", "greet"), {})
    ActionThank().run(dispatcher, make_tracker("谢谢", "thank"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_greet", "utter_you_are_welcome"]


def test_a_greeting_with_a_question_is_answered(services, dispatcher):
    entities = [{"entity": "service", "value": "社保卡", "start": 9, "end": 12}]
    ActionGreet().run(dispatcher, make_tracker("喂，你好，我想问一下社保卡丢了怎么补办", "greet",
                                               entities=entities), {})
    (message,) = dispatcher.messages
    assert message["custom"]["type"] == "guide" and message["custom"]["entry_id"] == "card-reissue"


def test_thanks_with_a_new_question_is_answered_but_a_fee_word_is_not_a_service(services,
                                                                                 dispatcher):
    entities = [{"entity": "service", "value": "老年人优待证", "start": 4, "end": 10}]
    ActionThank().run(dispatcher, make_tracker("谢谢，那老年人优待证怎么办理", "thank",
                                               entities=entities), {})
    assert dispatcher.messages[0]["custom"]["entry_id"] == "elder-card"
    fee = type(dispatcher)()
    ActionThank().run(fee, make_tracker("谢谢，不收费就好", "thank",
                                        entities=[{"entity": "service", "value": "收费"}]), {})
    assert fee.messages[0]["response"] == "utter_you_are_welcome"
