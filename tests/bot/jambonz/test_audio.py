"""Prompt audio requests: signed URLs round-trip, and ``say`` SSML read back into the prompt
it was rendered from; forged, malformed and hostile input refused with codes."""
from __future__ import annotations

import pytest

from bot.errors import BadRequest, Forbidden
from bot.jambonz.audio import (MAX_SSML_CHARS, AudioRequest, audio_path, from_ssml,
                               parse_audio, parse_speech)
from bot.jambonz.render import ssml
from voice.prompts import Prompt


@pytest.mark.parametrize("parts,rate,before", [
    (("您好，这里是政务服务热线。",), "normal", False),
    (("查社保，请按1。", "查公积金，请按2。", "其他选项，请按4。"), "slow", True),
    (("<b>答</b>：A & B 的材料", "“引号”与 '撇号'"), "normal", True),
])
def test_say_ssml_reads_back_into_its_prompt(parts, rate, before) -> None:
    text = ssml(Prompt(parts), rate, before)
    assert from_ssml(text) == AudioRequest(parts, rate, before)
    assert parse_speech({"text": text}) == AudioRequest(parts, rate, before)


def test_signed_urls_round_trip_and_refuse_forgery() -> None:
    wanted = AudioRequest(("查社保，请按1。",), "slow", True)
    sig, token = audio_path(wanted, "k").removesuffix(".wav").split("/")
    assert parse_audio(sig, token, "k") == wanted
    with pytest.raises(Forbidden):
        parse_audio(sig, token, "another key")


@pytest.mark.parametrize("text,code", [
    ("", "empty_text"),
    ("<speak>没有结束", "invalid_ssml"),
    ("<say>不是 speak</say>", "invalid_ssml"),
    ('<speak>一<audio src="http://x"/>二</speak>', "invalid_ssml"),
    ("<speak><break time=\"600ms\"/></speak>", "empty_text"),
    ('<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "哈哈哈哈"><!ENTITY b "&a;&a;&a;">]>'
     "<speak>&b;</speak>", "invalid_ssml"),
    ('<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>',
     "invalid_ssml"),
    ("<speak>" + "长" * MAX_SSML_CHARS + "</speak>", "text_too_long"),
])
def test_bad_ssml_is_refused_with_a_code(text, code) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_speech({"text": text})
    assert caught.value.code == code


def test_a_speech_body_without_text_is_refused() -> None:
    for body in ({}, {"text": 5}, {"text": ["<speak/>"]}):
        with pytest.raises(BadRequest):
            parse_speech(body)
