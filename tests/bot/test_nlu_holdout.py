"""The trained model on held-out examples it never saw (tests/fixtures/nlu/holdout.yml)."""
from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HOLDOUT = Path(__file__).resolve().parent.parent / "fixtures" / "nlu" / "holdout.yml"
MIN_ACCURACY = 0.85


def test_holdout_intent_accuracy(trained_model):
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.metrics import f1_score
    from bot.fastload import patch_rasa_model_load
    patch_rasa_model_load()
    examples = [(e.get("text"), e.get("intent")) for e in load_data(str(HOLDOUT)).intent_examples]
    training = {e.get("text") for e in load_data("intents/nlu.yml").intent_examples}
    assert not training & {t for t, _ in examples}, "holdout examples leaked into training data"
    agent = Agent.load(str(trained_model))

    async def predict():
        return [(await agent.parse_message(text))["intent"]["name"] for text, _ in examples]

    predicted = asyncio.run(predict())
    gold = [intent for _, intent in examples]
    accuracy = sum(p == g for p, g in zip(predicted, gold)) / len(gold)
    misses = Counter((g, p) for p, g in zip(predicted, gold) if p != g).most_common(10)
    print(f"holdout accuracy {accuracy:.3f}, macro-F1 {f1_score(gold, predicted, average='macro'):.3f}")
    assert accuracy >= MIN_ACCURACY, misses
