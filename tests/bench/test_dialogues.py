"""The scripted conversations: the files are complete and sound, the checker can fail, and a
fast subset (one dev dialogue per behaviour, and every follow-up field) passes on the server."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bench.dialogues import (Dialogue, check, follow_up_dialogues, load_dialogues, pass_rates,
                             play_all)

BEHAVIOURS = {"answer", "clarify then choose", "follow-up fields", "repeat, slower, larger",
              "handoff", "complaint form", "progress check", "goodbye and thanks", "out of scope",
              "bad input", "no-answer request", "cannot name the service"}
FIELDS = {"materials", "steps", "time_limit", "fees", "place", "online_url", "conditions", "phone"}


def test_the_dialogue_set_covers_every_behaviour_with_a_held_out_part() -> None:
    dialogues = load_dialogues()
    assert len(dialogues) >= 60
    assert {d.covers for d in dialogues} == BEHAVIOURS
    assert {d.covers for d in dialogues if d.split == "dev"} == BEHAVIOURS
    assert Counter(d.split for d in dialogues)["heldout"] >= 15


def test_the_follow_up_set_has_every_field_and_new_questions_none_from_training() -> None:
    from rasa.shared.nlu.training_data.loading import load_data
    follow_ups = follow_up_dialogues()
    assert len(follow_ups) >= 100
    fields = {f for d in follow_ups for f in d.turns[1][1].get("fields", [])}
    assert FIELDS <= fields and any(d.covers == "new question" for d in follow_ups)
    training = {e.get("text") for e in load_data("intents/nlu.yml").intent_examples}
    assert not training & {d.turns[1][0] for d in follow_ups}


def _reply(kind: str, **custom) -> dict:
    return {"messages": [{"text": custom.pop("text", ""), "custom": {"type": kind, **custom}}],
            "preferences": {"rate": "normal", "large_text": False}}


def test_the_checker_fails_what_it_should() -> None:
    guide = _reply("guide", entry_id="idcard-lost", text="补领工本费40元")
    assert check({"kind": "answer", "entry": "idcard-lost", "has": ["40元"]}, guide, []) == ""
    assert "expected clarify" in check({"kind": "clarify"}, guide, [])
    assert "expected entry" in check({"entry": "passport-apply"}, guide, [])
    assert "missing" in check({"has": ["20元"]}, guide, [])
    assert "unwanted" in check({"not_has": ["40元"]}, guide, [])
    assert "preference" in check({"prefs": {"rate": "slow"}}, guide, [])
    assert "choice 2" in check({"pick": 2}, guide, ["idcard-lost", "idcard-renew"])
    assert check({"pick": 1}, guide, ["idcard-lost", "idcard-renew"]) == ""
    field = _reply("field", entry_id="idcard-lost", fields={"fees": "40元"})
    assert "expected fields" in check({"kind": "field", "fields": ["materials"]}, field, [])
    plain = {"messages": [{"text": "您好", "buttons": [{"payload": "/request_human"}]}]}
    assert check({"kind": "text", "buttons": ["/request_human"]}, plain, []) == ""
    assert "no button" in check({"buttons": ["/leave_question"]}, plain, [])


def test_a_dialogue_stops_at_its_first_miss_and_rates_count_it() -> None:
    replies = iter([_reply("guide", entry_id="a"), _reply("guide", entry_id="b")])

    async def post(sender: str, text: str) -> dict:
        return next(replies)

    dialogue = Dialogue("x", "dev", "answer", (("q1", {"entry": "a"}), ("q2", {"entry": "a"}),
                                               ("q3", {})))
    (outcome,) = asyncio.run(play_all([dialogue], post))
    assert outcome.failure.startswith("turn 2 'q2'") and len(outcome.replies) == 2
    assert pass_rates([outcome])["dev"] == {"passed": 0, "total": 1}


@pytest.mark.slow
def test_a_fast_subset_passes_on_the_server(live_server) -> None:
    async def post(sender: str, text: str) -> dict:
        return await asyncio.to_thread(live_server.chat, sender, text)

    dev = [d for d in load_dialogues() if d.split == "dev"]
    subset = list({d.covers: d for d in reversed(dev)}.values())
    follow_ups = [d for d in follow_up_dialogues() if d.split == "dev"]
    subset += list({d.covers: d for d in reversed(follow_ups)}.values())
    outcomes = asyncio.run(play_all(subset, post, tag="fast"))
    assert [o.failure for o in outcomes if not o.passed] == []
    assert len(outcomes) >= len(BEHAVIOURS) + len(FIELDS)
