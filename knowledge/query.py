"""Query preparation for the index: the tail of a long message, its clauses and their weights."""
from __future__ import annotations

import logging
import re

from knowledge.decide import RetrievalConfig
from knowledge.encoder import MAX_TOKENS
from knowledge.normalize import TermMap, clause_weights, split_clauses, to_simplified

_LOGGER = logging.getLogger(__name__)

QUERY_MAX_CHARS = 240
"""Longer normalised queries keep their last clauses up to this length (the question is there)."""
QUERY_RAW_CHARS = 2 * QUERY_MAX_CHARS
"""Only the tail of a long raw query is normalised (fillers and punctuation rarely halve it)."""
QUERY_ENCODE_CHARS = 8 * MAX_TOKENS
"""The tail of the raw query given to the encoder, which keeps its last ``MAX_TOKENS`` tokens (a
token is one Chinese character, or a word piece of a few Latin letters or digits)."""
_JUNK_RUN_RE = re.compile(r"[\W_]{2,}")


def query_tail(query: str, chars: int) -> str:
    """The last characters of a long query.

    Runs of punctuation, symbols and emoji are collapsed to a space first, so a tail of junk
    cannot push the question out; a query of at most ``chars`` characters is returned as is.

    Args:
        query: The resident's text.
        chars: How many characters to keep.

    Returns:
        The tail.
    """
    if len(query) <= chars:
        return query
    return _JUNK_RUN_RE.sub(" ", query)[-chars:]


def encoder_text(query: str) -> str:
    """What the sentence encoder reads of a query.

    Args:
        query: The resident's text.

    Returns:
        Its last ``QUERY_ENCODE_CHARS`` characters (``query_tail``) in Simplified characters.
    """
    return to_simplified(query_tail(query, QUERY_ENCODE_CHARS))


def query_clauses(query: str, terms: TermMap, config: RetrievalConfig,
                  ) -> tuple[list[str], list[float]]:
    """Normalised clauses of a query, synonyms applied, with their weights.

    Only the last ``QUERY_MAX_CHARS`` normalised characters count; in a long query, clauses
    without a question cue weigh less (``normalize.clause_weights``).

    Args:
        query: The resident's text.
        terms: Variant -> standard map.
        config: Holds the clause-weighting settings.

    Returns:
        (clauses, weights); both empty when nothing is left after normalisation.
    """
    clauses = [c for c in (terms.apply(c) for c in split_clauses(
        query_tail(query, QUERY_RAW_CHARS))) if c]
    kept, total = [], 0
    for clause in reversed(clauses):
        if total >= QUERY_MAX_CHARS:
            break
        kept.append(clause[-(QUERY_MAX_CHARS - total):])
        total += len(kept[-1])
    return clause_weights(kept[::-1], config.long_query_chars, config.context_weight,
                          config.cue_window)


def question_focus(clauses: list[str], weights: list[float]) -> str:
    """The question of a long query without its context clauses, or "" when it has none.

    A resident who tells a story first ("我在工地干活时把腿摔骨折了……停工留薪期最长多久？")
    asks in the clauses that hold a question cue; ``query_clauses`` weighs the rest less. This
    is those cue clauses alone, normalised, for a second look (``SearchIndex.search``).

    Args:
        clauses: The query's clauses, as ``query_clauses`` gives them.
        weights: Their weights.

    Returns:
        The cue clauses joined with "，"; "" when every clause weighs the same.
    """
    if not clauses or min(weights) >= 1.0:
        return ""
    return "，".join(c for c, w in zip(clauses, weights) if w >= 1.0)
