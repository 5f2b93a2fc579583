"""The turn runner: namespacing, exactly-once across instances, order, a person on "0", metrics."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot import metrics, turns
from bot.channels.base import InboundMessage, Preferences, TurnResult
from bot.turns import Turn, TurnFailed, TurnRunner, is_handoff_request
from knowledge.deliveries import DeliveryStore
from tests.web.fake_app import GateDialogue


@pytest.fixture
def store(engine) -> DeliveryStore:
    return DeliveryStore(engine)


def runner_for(dialogue: GateDialogue, store: DeliveryStore | None) -> TurnRunner:
    dialogue.preferences = Preferences(large_text=True)
    return TurnRunner(lambda: dialogue, ["web", "api", "rest"], deliveries=store)


async def test_conversations_are_namespaced_by_channel(store) -> None:
    dialogue = GateDialogue()
    run = runner_for(dialogue, store)
    await run(Turn("api", "web:abcdefgh", "你好"))
    await run(Turn("web", "abcdefgh", "你好"))
    assert [c.sender for c in dialogue.calls] == ["api:web:abcdefgh", "web:abcdefgh"]
    assert [c.channel for c in dialogue.calls] == ["api", "web"]


async def test_an_unregistered_channel_is_refused(store) -> None:
    with pytest.raises(ValueError):
        await runner_for(GateDialogue(), store)(Turn("made_up", "x", "你好"))


async def test_a_retried_message_gets_the_reply_already_given(store) -> None:
    dialogue = GateDialogue()
    run = runner_for(dialogue, store)
    first = await run(Turn("api", "s1", "你好", message_id="m1"))
    again = await run(Turn("api", "s1", "你好", message_id="m1"))
    assert not first.duplicate and again.duplicate
    assert again.result == first.result and again.result.preferences.large_text
    assert len(dialogue.calls) == 1
    other = await run(Turn("api", "s2", "你好", message_id="m1"))  # another resident's m1
    assert not other.duplicate and len(dialogue.calls) == 2


async def test_a_retry_on_a_second_instance_waits_for_the_first(engine, monkeypatch) -> None:
    monkeypatch.setattr(turns, "WAIT_POLL_S", 0.02)
    one, two = GateDialogue(), GateDialogue()
    run_one = runner_for(one, DeliveryStore(engine))
    run_two = runner_for(two, DeliveryStore(engine))  # another process on the same database
    first = asyncio.create_task(run_one(Turn("web", "s1", "wait here", message_id="m1")))
    await asyncio.sleep(0.1)
    retry = asyncio.create_task(run_two(Turn("web", "s1", "wait here", message_id="m1")))
    await asyncio.sleep(0.2)
    assert not retry.done() and not two.calls
    one.gate.set()
    delivered, replayed = await first, await retry
    assert replayed.duplicate and replayed.result == delivered.result
    assert len(one.calls) == 1 and not two.calls


async def test_the_same_message_twice_at_once_runs_once(store) -> None:
    dialogue = GateDialogue()
    run = runner_for(dialogue, store)
    a = asyncio.create_task(run(Turn("web", "s1", "wait", message_id="m1")))
    b = asyncio.create_task(run(Turn("web", "s1", "wait", message_id="m1")))
    await asyncio.sleep(0.1)
    dialogue.gate.set()
    results = await asyncio.gather(a, b)
    assert sorted(r.duplicate for r in results) == [False, True]
    assert len(dialogue.calls) == 1


async def test_a_failed_turn_is_released_for_a_retry(store) -> None:
    dialogue = GateDialogue()
    dialogue.fail_next = True
    run = runner_for(dialogue, store)
    with pytest.raises(TurnFailed):
        await run(Turn("api", "s1", "你好", message_id="m1"))
    delivered = await run(Turn("api", "s1", "你好", message_id="m1"))
    assert not delivered.duplicate and len(dialogue.calls) == 2


async def test_a_stale_claim_of_a_dead_instance_is_taken_over(engine) -> None:
    dead = DeliveryStore(engine)
    assert dead.claim("web", "s1", "m1").state == "new"  # its process died mid-turn
    dialogue = GateDialogue()
    run = runner_for(dialogue, DeliveryStore(engine, stale_after=timedelta(0)))
    delivered = await run(Turn("web", "s1", "你好", message_id="m1"))
    assert not delivered.duplicate and len(dialogue.calls) == 1


async def test_one_conversation_in_order_others_side_by_side(store) -> None:
    dialogue = GateDialogue()
    run = runner_for(dialogue, store)
    first = asyncio.create_task(run(Turn("web", "s1", "wait first", message_id="a1")))
    second = asyncio.create_task(run(Turn("web", "s1", "second", message_id="a2")))
    other = asyncio.create_task(run(Turn("web", "s2", "elsewhere", message_id="b1")))
    await asyncio.wait_for(other, 5)  # not held up by s1's slow turn
    assert not second.done()
    assert [c.text for c in dialogue.calls if c.sender == "web:s1"] == ["wait first"]
    dialogue.gate.set()
    await asyncio.gather(first, second)
    assert [c.text for c in dialogue.calls if c.sender == "web:s1"] == ["wait first", "second"]


@pytest.mark.parametrize("text", ["0", "０", "人工", "转人工", " 人工。", "轉人工", "人工服务！"])
def test_a_person_from_any_state(text: str) -> None:
    assert is_handoff_request(text)


@pytest.mark.parametrize("text", ["0元", "10", "人工费多少", "不要人工", "", "2"])
def test_other_words_are_not_a_handoff(text: str) -> None:
    assert not is_handoff_request(text)


async def test_zero_reaches_the_dialogue_as_the_handoff_intent(store) -> None:
    dialogue = GateDialogue()
    await runner_for(dialogue, store)(Turn("api", "s1", "0"))
    assert dialogue.calls[0].text == "/request_human"


def _value(counter: Any, *labels: str) -> float:
    return counter.labels(*labels)._value.get()


@pytest.mark.parametrize("kind,counter,labels", [
    ("candidates", "KB_DECISIONS", ("rest", "clarify")),
    ("guide", "KB_DECISIONS", ("rest", "answer")),
    ("none", "KB_DECISIONS", ("rest", "none")),
    ("handoff", "HANDOFFS", ("rest",)),
    ("ticket", "TICKETS", ("rest",)),
])
async def test_decisions_handoffs_and_tickets_are_counted_per_channel(store, kind, counter,
                                                                      labels) -> None:
    dialogue = GateDialogue(custom={"type": kind})
    before = _value(getattr(metrics, counter), *labels), _value(metrics.TURNS, "rest")
    await runner_for(dialogue, store)(Turn("rest", "s1", "社保卡"))
    after = _value(getattr(metrics, counter), *labels), _value(metrics.TURNS, "rest")
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1


def test_preferences_are_validated_in_one_place() -> None:
    assert Preferences.parse({"rate": "slow"}) == Preferences(rate="slow")
    for bad in ({"speed": "fast"}, {"rate": "fast"}, {"large_text": "yes"}, ["rate"]):
        with pytest.raises(ValueError):
            Preferences.parse(bad)
    assert Preferences.lenient({"rate": "fast", "large_text": True}) == Preferences(large_text=True)


async def test_at_most_a_bounded_number_of_turns_run_at_once(store, monkeypatch) -> None:
    monkeypatch.setattr(turns, "ACTIVE_TURNS", 2)
    inside, peak = 0, 0

    class Counting(GateDialogue):
        async def handle(self, message: InboundMessage) -> TurnResult:
            nonlocal inside, peak
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1
            return await super().handle(message)

    run = runner_for(Counting(), store)
    await asyncio.gather(*(run(Turn("web", f"s{i}", "你好")) for i in range(6)))
    assert peak == 2


async def test_while_staff_hold_the_conversation_the_bot_stays_quiet(engine, store) -> None:
    from knowledge.handoffs import HandoffDesk
    from knowledge.records import Records
    dialogue = GateDialogue()
    run = runner_for(dialogue, store)
    run.handoffs = desk = HandoffDesk(engine)
    hid = Records(engine).create_handoff("web:wAbc12345678", "web", "人工", [])
    desk.take(hid, "wang")
    await run.refresh_held()
    quiet = await run(Turn("web", "wAbc12345678", "我的社保卡丢了", message_id="m1"))
    assert quiet.result.messages == () and dialogue.calls == []
    other = await run(Turn("web", "wOther123456", "你好", message_id="m2"))
    assert len(dialogue.calls) == 1 and other.result.messages  # others are answered
    desk.hand_back(hid, "wang")
    await run.refresh_held()
    await run(Turn("web", "wAbc12345678", "谢谢", message_id="m3"))
    assert [c.text for c in dialogue.calls] == ["你好", "谢谢"]
    said = [m["text"] for m in desk.get(hid)["messages"] if m["who"] == "resident"]
    assert said == ["我的社保卡丢了"]
