"""Keep library warnings out of a normal run (``govbot -v`` shows them), here and in Rasa's CLI."""
from __future__ import annotations

import builtins
import os
import sys
import warnings
from typing import Sequence

QUIET_WARNINGS = ("ignore::DeprecationWarning", "ignore::PendingDeprecationWarning",
                  "ignore::FutureWarning", "ignore:Slot auto-fill has been removed:UserWarning",
                  "ignore:You have an overlap between the 'RegexEntityExtractor':UserWarning")
"""Deprecations inside Rasa, TensorFlow, SQLAlchemy 1.4, pyparsing and click, and the notice
Rasa gives on every domain load that slot auto-fill left in 3.0, and its note that our
configuration runs regex and statistical entity extraction side by side (by design)."""
_ACTIVE = False


def quiet_warnings() -> None:
    """Apply ``QUIET_WARNINGS`` ahead of every other filter, and pass them to child processes.

    Libraries add filters of their own when imported (sanic puts DeprecationWarning on
    "once"), so this is applied again after they load (``again``).
    """
    global _ACTIVE  # noqa: PLW0603 - one switch per process
    _ACTIVE = True
    for spec in reversed(QUIET_WARNINGS):
        action, message, category = spec.split(":")
        warnings.filterwarnings(action, message=message, category=getattr(builtins, category))
    os.environ["PYTHONWARNINGS"] = ",".join(QUIET_WARNINGS)
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def again() -> None:
    """Re-apply the filters after heavy imports, if this process asked for quiet."""
    if _ACTIVE:
        quiet_warnings()


def run_rasa(argv: Sequence[str]) -> None:
    """Rasa's own CLI (``rasa train …``) with the filters applied before Rasa loads and again
    after it sets its own."""
    quiet_warnings()
    import rasa.__main__ as rasa_main
    import rasa.utils.common as rasa_common

    own = rasa_common._filter_warnings

    def then_quiet(*args: object, **kwargs: object) -> None:
        own(*args, **kwargs)
        quiet_warnings()

    rasa_common._filter_warnings = then_quiet
    quiet_warnings()
    sys.argv = ["rasa", *argv]
    rasa_main.main()


if __name__ == "__main__":
    run_rasa(sys.argv[1:])
