"""The phone call flow in every state: a person from anywhere, repeat, slower speech, silence
and failures escalating to a person, keypad menus over the whole knowledge base, answers."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Sequence

import pytest

from voice.callflow import CallEvent, CallFlow, CallState
from voice.menu import MAX_OPTIONS, reachable
from voice.prompts import PAUSE_BEFORE_INPUT_MS, PAUSE_BETWEEN_MS

CATEGORIES = {f"类{i}": [(f"e{i}-{j}", f"问题{i}之{j}？") for j in range(i % 6 + 1)]
              for i in range(1, 9)}


class FakeCatalog:
    async def categories(self) -> List[str]:
        return list(CATEGORIES)

    async def entries(self, category: str):
        return CATEGORIES.get(category, [])

    async def entry(self, entry_id: str):
        return {"question": entry_id, "short_answer": f"{entry_id[-1]}号的简要回答。",
                "answer": f"{entry_id[-1]}号的详细回答，共有很多内容。"}


class FakeDialogue:
    """Scripted dialogue replies, recording what it was asked."""

    def __init__(self, replies: Dict[str, List[Dict[str, Any]]]) -> None:
        self.replies, self.asked = replies, []

    async def __call__(self, text: str) -> Sequence[Dict[str, Any]]:
        self.asked.append(text)
        return self.replies.get(text, [{"text": "抱歉，没有找到。", "custom": {"type": "none"}}])


GUIDE = [{"text": "身份证丢了可以到派出所补领，工本费40元。",
          "custom": {"type": "guide", "entry_id": "idcard-lost", "short": "到派出所补领，工本费40元。"}}]
OFFER = [{"text": "您想问的是下面哪一个？", "custom": {"type": "candidates", "candidates": [
    {"n": 1, "id": "a", "title": "社保卡丢了怎么补办？"}, {"n": 2, "id": "b", "title": "怎么申领社保卡？"}]}}]


def run(flow: CallFlow, state: CallState, *events: CallEvent):
    return [asyncio.run(flow.handle(state, e)) for e in events]


def keypad(replies=None) -> CallFlow:
    return CallFlow(FakeCatalog(), FakeDialogue(replies or {}), speech=False)


def speech(replies=None) -> CallFlow:
    return CallFlow(FakeCatalog(), FakeDialogue(replies or {}), speech=True)


def digits(d: str) -> CallEvent:
    return CallEvent("digits", d)


def test_keypad_greeting_lists_at_most_four_options_key_last() -> None:
    state = CallState()
    (step,) = run(keypad(), state, CallEvent("start"))
    assert step.action == "listen" and not step.speech
    options = [p for p in step.prompt.parts if "请按" in p and "任何时候" not in p]
    assert len(options) <= MAX_OPTIONS and all(p.rstrip("。").endswith(p[-1]) for p in options)
    assert options[0].endswith("请按一") and len(state.keys) <= MAX_OPTIONS


@pytest.mark.parametrize("mode_events", [
    [], [digits("1")], [digits("1"), digits("1")], [digits("4")],
    [CallEvent("silence")], [digits("7")],
])
def test_zero_transfers_from_every_state(mode_events) -> None:
    flow, state = keypad(), CallState()
    run(flow, state, CallEvent("start"), *mode_events)
    (step,) = run(flow, state, digits("0"))
    assert step.action == "transfer" and "转接人工" in step.prompt.text()


def test_saying_a_person_transfers_from_an_answer() -> None:
    flow, state = speech({"身份证丢了": GUIDE}), CallState()
    run(flow, state, CallEvent("start"), CallEvent("speech", "身份证丢了"))
    (step,) = run(flow, state, CallEvent("speech", "我要转人工"))
    assert step.action == "transfer"


def test_star_and_say_again_repeat_the_last_prompt() -> None:
    flow, state = keypad(), CallState()
    first, again, said = run(flow, state, CallEvent("start"), digits("*"),
                             CallEvent("speech", "再说一遍"))
    assert again.prompt == first.prompt and said.prompt == first.prompt


def test_slower_speech_by_key_and_by_voice() -> None:
    flow, state = keypad(), CallState()
    start, slow = run(flow, state, CallEvent("start"), digits("5"))
    assert slow.rate == "slow" and "慢一点" in slow.prompt.parts[0]
    assert slow.prompt.parts[1:] == start.prompt.parts
    other = CallState()
    run(speech(), other, CallEvent("start"), CallEvent("speech", "慢一点"))
    assert other.rate == "slow"


def test_silence_reprompts_twice_then_transfers() -> None:
    flow, state = keypad(), CallState()
    _, one, two, three = run(flow, state, CallEvent("start"), *[CallEvent("silence")] * 3)
    assert one.action == two.action == "listen" and "还在吗" in one.prompt.parts[0]
    assert "人工服务" in two.prompt.text() and "人工服务" not in one.prompt.text()
    assert three.action == "transfer"


def test_two_failures_offer_a_person_the_third_transfers() -> None:
    flow, state = keypad(), CallState()
    _, one, two, three = run(flow, state, CallEvent("start"), digits("7"), digits("8"),
                             digits("6"))
    assert "没有听清" in one.prompt.text() and "人工服务" not in one.prompt.text()
    assert "人工服务，请按零" in two.prompt.text() and three.action == "transfer"


def test_a_valid_key_resets_the_failures() -> None:
    flow, state = keypad(), CallState()
    run(flow, state, CallEvent("start"), digits("7"), digits("8"), digits("1"))
    assert state.failures == 0


def test_keypad_tree_reaches_every_entry_within_three_levels() -> None:
    found = reachable(list(CATEGORIES), lambda c: CATEGORIES[c])
    assert set(found) == {e for entries in CATEGORIES.values() for e, _ in entries}
    flow, state = keypad(), CallState()
    run(flow, state, CallEvent("start"))
    target = next(k for k, t in state.keys.items() if t == "cat:类2")
    menu, answer = run(flow, state, digits(target), digits("1"))
    assert menu.prompt.parts[0] == "问题二之零，请按一"
    assert answer.prompt.parts[0] == "零号的简要回答。" and "详细内容" in answer.prompt.text()
    (detail,) = run(flow, state, digits("1"))
    assert detail.prompt.parts[0].startswith("零号的详细回答")
    (home,) = run(flow, state, digits("9"))
    assert state.mode == "menu" and state.category == "" and "业务类别" in home.prompt.text()


def test_more_turns_the_page_and_wraps_round() -> None:
    flow, state = keypad(), CallState()
    run(flow, state, CallEvent("start"))
    seen = set()
    for _ in range(4):
        seen |= {t for t in state.keys.values() if t.startswith("cat:")}
        run(flow, state, digits("4"))
    assert seen == {f"cat:{c}" for c in CATEGORIES}


def test_a_spoken_question_is_answered_short_first_then_details() -> None:
    flow, state = speech({"身份证丢了怎么办": GUIDE}), CallState()
    start, answer = run(flow, state, CallEvent("start"), CallEvent("speech", "身份证丢了怎么办"))
    assert start.speech and answer.speech
    assert answer.prompt.parts[0] == "到派出所补领，工本费四十元。"
    assert "听详细内容，请按一" in answer.prompt.text() and state.entry == "idcard-lost"


def test_candidates_are_spoken_as_numbered_options_and_a_key_chooses() -> None:
    dialogue = FakeDialogue({"社保卡": OFFER, "2": GUIDE})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    _, offer, chosen = run(flow, state, CallEvent("start"), CallEvent("speech", "社保卡"),
                           digits("2"))
    parts = offer.prompt.parts
    assert parts[1].startswith("第一个，社保卡丢了怎么补办，请按一")
    assert parts[2].startswith("第二个") and "都不是，请按三" in parts[3]
    assert dialogue.asked == ["社保卡", "2"] and chosen.prompt.parts[0].startswith("到派出所")


def test_a_handoff_from_the_dialogue_transfers_and_no_uri_gives_the_hotline() -> None:
    flow = CallFlow(FakeCatalog(), FakeDialogue({"帮帮我": [
        {"text": "正在转接", "custom": {"type": "handoff"}}]}), speech=True, can_transfer=False)
    state = CallState()
    _, step = run(flow, state, CallEvent("start"), CallEvent("speech", "帮帮我"))
    assert step.action == "hangup" and "幺二三四五" in step.prompt.text()


def test_the_state_survives_json() -> None:
    flow, state = keypad(), CallState()
    run(flow, state, CallEvent("start"), digits("1"))
    again = CallState.from_dict(dict(state.to_dict(), unknown="x"))
    assert again == state


def test_pauses_are_long_enough_for_older_callers() -> None:
    assert PAUSE_BETWEEN_MS >= 500 and PAUSE_BEFORE_INPUT_MS >= 1000


ASK_PHONE = [{"text": "请留一个联系电话，方便工作人员回复您。",
              "custom": {"type": "ask", "slot": "contact_phone"}}]


def test_a_phone_number_is_typed_read_back_in_groups_and_confirmed() -> None:
    dialogue = FakeDialogue({"留言": ASK_PHONE, "13800138000": [{"text": "请您核对"}]})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    _, ask, back, again, back2, done = run(
        flow, state, CallEvent("start"), CallEvent("speech", "留言"), digits("13912345678"),
        digits("2"), digits("13800138000#"), digits("1"))
    assert ask.max_digits >= 11 and ask.finish_on_key == "#" and not ask.speech
    assert "井号键" in ask.prompt.text()
    assert back.prompt.parts == ("您输入的是：幺三九，幺二三四，五六七八。", "正确请按一，重新输入请按二。")
    assert again.finish_on_key == "#" and "幺三八，零零幺三，八零零零" in back2.prompt.text()
    assert dialogue.asked == ["留言", "13800138000"] and "请您核对" in done.prompt.text()


def test_hash_alone_leaves_no_number() -> None:
    dialogue = FakeDialogue({"留言": ASK_PHONE, "不留": [{"text": "请您核对：联系电话：未提供"}]})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    run(flow, state, CallEvent("start"), CallEvent("speech", "留言"), digits(""))
    assert dialogue.asked == ["留言", "不留"]


def test_the_callers_own_number_is_offered_and_one_key_takes_it() -> None:
    dialogue = FakeDialogue({"留言": ASK_PHONE, "13800138000": [{"text": "请您核对"}]})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    _, offer, done = run(flow, state, CallEvent("start", "<sip:+8613800138000@sbc>"),
                         CallEvent("speech", "留言"), digits("1"))
    assert "幺三八，零零幺三，八零零零" in offer.prompt.text() and offer.max_digits == 1
    assert offer.prompt.parts[-1] == "用这个号码，请按一；换一个号码或者不留电话，请按二。"
    assert dialogue.asked == ["留言", "13800138000"] and "请您核对" in done.prompt.text()


def test_another_number_or_none_instead_of_the_callers() -> None:
    dialogue = FakeDialogue({"留言": ASK_PHONE, "13912345678": [{"text": "请您核对"}]})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    _, _, entry, back, _ = run(flow, state, CallEvent("start", "13800138000"),
                               CallEvent("speech", "留言"), digits("2"), digits("13912345678#"),
                               digits("1"))
    assert entry.finish_on_key == "#" and "不留电话" in entry.prompt.text()
    assert "幺三九" in back.prompt.text() and dialogue.asked == ["留言", "13912345678"]


def test_an_anonymous_caller_types_the_number() -> None:
    flow, state = CallFlow(FakeCatalog(), FakeDialogue({"留言": ASK_PHONE}), speech=True), CallState()
    _, ask = run(flow, state, CallEvent("start", "sip:anonymous@anonymous.invalid"),
                 CallEvent("speech", "留言"))
    assert ask.finish_on_key == "#" and state.caller == ""


@pytest.mark.parametrize("raw,number", [
    ("13800138000", "13800138000"), ("+8613800138000", "13800138000"),
    ("008613800138000", "13800138000"), ('"张" <sip:+8613800138000@sbc;user=phone>', "13800138000"),
    ("tel:+86-10-12345678", "01012345678"), ("+861012345678", "01012345678"),
    ("02112345678", "02112345678"), ("anonymous", ""), ("sip:1001@pbx", ""), ("12345678", ""),
    ("123456789", ""), ("+14155550100", ""), ("", ""), ("1" * 300, ""),
])
def test_caller_numbers(raw, number) -> None:
    from voice.callflow import caller_number
    assert caller_number(raw) == number


READ_BACK_MSG = [{"text": "请您核对：诉求内容：路灯坏了；所在区：朝阳区；联系电话：13800138000。",
                  "custom": {"type": "ticket_confirm"}}]


@pytest.mark.parametrize("key,said", [("1", "确认"), ("2", "修改")])
def test_the_read_back_is_confirmed_or_changed_by_a_key(key, said) -> None:
    dialogue = FakeDialogue({"路灯坏了": READ_BACK_MSG})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    _, back, _ = run(flow, state, CallEvent("start"), CallEvent("speech", "路灯坏了"),
                     digits(key))
    assert back.prompt.parts[-1] == "确认提交，请按一；需要修改，请按二。" and back.speech
    assert dialogue.asked == ["路灯坏了", said]


def test_an_answer_given_at_the_read_back_is_followed_by_the_read_back() -> None:
    dialogue = FakeDialogue({"身份证丢了": GUIDE + [{"text": "另外，您刚才登记的内容还没有提交。"}]
                             + READ_BACK_MSG})
    flow, state = CallFlow(FakeCatalog(), dialogue, speech=True), CallState()
    _, step = run(flow, state, CallEvent("start"), CallEvent("speech", "身份证丢了"))
    text = step.prompt.text()
    assert "工本费四十元" in text and "请您核对" in text and state.mode == "choose"


def test_a_caller_who_cannot_name_the_service_gets_the_topic_menu() -> None:
    topics = [{"text": "没关系。您可以直接说说遇到了什么事……", "custom": {"type": "topics",
                                                             "topics": ["社保", "医保"]}}]
    flow, state = CallFlow(FakeCatalog(), FakeDialogue({"不知道该问啥": topics}), speech=True), CallState()
    _, menu, category = run(flow, state, CallEvent("start"), CallEvent("speech", "不知道该问啥"),
                            digits("1"))
    assert menu.prompt.parts[0] == "没关系，我们按业务类别来找。" and "请选择业务类别。" in menu.prompt.parts
    assert "类一，请按一" in menu.prompt.text() and "问题一之一" in category.prompt.text()
