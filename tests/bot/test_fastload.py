"""The inference-only model load gives exactly Rasa's own predictions."""
from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.slow

MESSAGES = ["社保卡丢了怎么补办", "你好", "要带什么材料", "2", "转人工", "我要投诉", "慢一点",
            "今天天气怎么样", "谢谢", "SB202611200001", "在哪里办", "第二个"]


def _parse_all(agent) -> list:
    async def run():
        out = []
        for text in MESSAGES:
            parsed = await agent.parse_message(text)
            out.append((parsed["intent"]["name"], round(parsed["intent"]["confidence"], 5),
                        [round(r["confidence"], 5) for r in parsed["intent_ranking"][:5]]))
        return out
    return asyncio.run(run())


def test_fast_load_predicts_exactly_like_rasa(trained_model):
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel
    original_load = RasaModel.__dict__["load"]
    from bot import fastload
    if fastload._PATCHED:  # another test patched it already: restore Rasa's own first
        pytest.skip("RasaModel.load already patched in this process")
    reference = _parse_all(Agent.load(str(trained_model)))
    fastload.patch_rasa_model_load()
    try:
        assert RasaModel.__dict__["load"] is not original_load
        fast = _parse_all(Agent.load(str(trained_model)))
    finally:
        RasaModel.load = original_load
        fastload._PATCHED = False
    assert fast == reference
    assert reference[0][0] == "ask_service"
