"""Rasa's check of action-server responses, with the JSON schema compiled once instead of per call."""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict

_LOGGER = logging.getLogger(__name__)

_PATCHED = False


@lru_cache(maxsize=1)
def _validator() -> Any:
    """A jsonschema validator for Rasa's action response format, its schema checked once."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(result: Dict[str, Any]) -> bool:
    """Validate one action response exactly as ``jsonschema.validate`` would.

    Args:
        result: The action server's (or the in-process executor's) response body.

    Returns:
        True when it is valid.

    Raises:
        jsonschema.ValidationError: With Rasa's own hint appended, as Rasa raises it.
    """
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure "
                      "your response from the Action endpoint is valid. For more "
                      f"information about the format visit {DOCS_BASE_URL}/custom-actions")
    raise error


def patch_action_result_validation() -> None:
    """Make ``RemoteAction._validate_action_result`` reuse one compiled validator.

    Rasa 3.6 calls ``jsonschema.validate`` for every custom-action response, and that first
    re-checks the (large, constant) events schema against the JSON-Schema meta-schema: about
    65 ms of the 70 ms each action call spent validating here, more than NLU and policies
    together. The response itself is still validated in full on every call
    (``tests/bot/test_action_validation.py`` compares the two on valid and invalid bodies).
    """
    global _PATCHED
    if _PATCHED:
        return
    from rasa.core.actions.action import RemoteAction

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        return validate_action_result(result)

    RemoteAction._validate_action_result = _validate_action_result
    _PATCHED = True
    _LOGGER.debug("action response validation uses a compiled schema")
