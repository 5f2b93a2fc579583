"""The compiled action-response validator accepts and rejects exactly what Rasa's own does."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.action_validation import validate_action_result

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "current_entry", "value": "ss-001"}],
     "responses": [{"text": "社保卡补办需要身份证。", "buttons": []}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "x"}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event needs its name
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["plain string"]},
    [],
]


def _rasa_says(result) -> bool:
    try:
        validate(result, RemoteAction.action_response_format_spec())
        return True
    except ValidationError:
        return False


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(result) -> None:
    assert _rasa_says(result)
    assert validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_like_rasa(result) -> None:
    assert not _rasa_says(result)
    with pytest.raises(ValidationError) as info:
        validate_action_result(result)
    assert "Failed to validate Action server response" in info.value.message


def test_patch_replaces_rasa_method() -> None:
    from bot.action_validation import patch_action_result_validation
    patch_action_result_validation()
    action = RemoteAction("action_answer_service", None)
    assert action._validate_action_result({"events": []}) is True
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "x"})
