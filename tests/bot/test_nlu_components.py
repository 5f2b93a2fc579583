"""Custom NLU components: the folding jieba tokenizer, the intent blend and the KB entity ruler."""
from __future__ import annotations

import pytest

from bot.nlu.blend import blend_rankings
from bot.nlu.tokenizer import FoldingJiebaTokenizer, fold_text


@pytest.mark.parametrize("raw, folded", [
    ("你們好", "你们好"),
    ("ＡＰＰ能辦嗎", "app能办吗"),
    ("第２個", "第2个"),
    ("㈠號", "㈠号"),  # NFKC would lengthen ㈠: kept, so offsets stay valid
    ("", ""),
])
def test_fold_text_keeps_length(raw: str, folded: str) -> None:
    assert fold_text(raw) == folded
    assert len(fold_text(raw)) == len(raw)


def _tokens(text: str) -> list:
    from rasa.shared.nlu.training_data.message import Message
    tokenizer = FoldingJiebaTokenizer(FoldingJiebaTokenizer.get_default_config(), None, None)
    return tokenizer.tokenize(Message(data={"text": text}), "text")


def test_tokenizer_segments_folded_text_with_original_offsets() -> None:
    traditional, simplified = _tokens("社保卡丟了怎麼補辦"), _tokens("社保卡丢了怎么补办")
    assert [t.text for t in traditional] == [t.text for t in simplified]
    assert [(t.start, t.end) for t in traditional] == [(t.start, t.end) for t in simplified]
    text = "ＡＰＰ上能辦嗎"
    for token in _tokens(text):
        assert fold_text(text[token.start:token.end]) == token.text


def test_blend_averages_and_reorders() -> None:
    diet = [{"name": "ask_service", "confidence": 0.6}, {"name": "ask_materials", "confidence": 0.4}]
    ranking = blend_rankings(diet, ["ask_materials", "ask_service", "greet"], [0.9, 0.05, 0.05], 0.5)
    assert [r["name"] for r in ranking] == ["ask_materials", "ask_service", "greet"]
    assert ranking[0]["confidence"] == pytest.approx(0.65)
    assert ranking[2]["confidence"] == pytest.approx(0.025)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_blend_without_previous_ranking_is_the_regression_alone() -> None:
    ranking = blend_rankings([], ["a", "b"], [0.3, 0.7], 0.5)
    assert [(r["name"], r["confidence"]) for r in ranking] == [("b", 0.7), ("a", 0.3)]


def test_blend_keeps_intents_only_the_earlier_classifier_knows() -> None:
    ranking = blend_rankings([{"name": "nlu_x", "confidence": 1.0}], ["a"], [1.0], 0.25)
    assert {r["name"]: r["confidence"] for r in ranking} == {"a": 0.75, "nlu_x": 0.25}


def test_kb_entity_ruler_finds_services_departments_and_districts() -> None:
    from bot.nlu.kb_entities import build_nlp
    nlp = build_nlp([{"label": "service", "pattern": "社保卡", "id": "社保卡"},
                     {"label": "service", "pattern": "医保卡", "id": "社保卡"},
                     {"label": "department", "pattern": "人社局"},
                     {"label": "district", "pattern": "海淀区"}])
    doc = nlp("我在海淀区人社局补办医保卡")
    assert {(e.label_, e.ent_id_ or e.text) for e in doc.ents} == {
        ("district", "海淀区"), ("department", "人社局"), ("service", "社保卡")}
