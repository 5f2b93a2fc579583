"""Real citizen messages with our relevance labels: what each decision is worth on real traffic."""
from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from knowledge.decide import SearchResult

_LOGGER = logging.getLogger(__name__)

OUTCOMES = ("answer right", "answer wrong", "answer unjudged", "clarify useful",
            "clarify useless", "clarify unjudged", "none, KB has it", "none, KB lacks it")
"""Outcome kinds, in report order. "Unjudged": the system offered an entry nobody labelled for
that message (the labels pool only the candidates of the systems labelled)."""
_SERVED = ("answer right", "clarify useful")


def load_labelled(labels: Path, messages: Path) -> list[dict]:
    """Join ``bench/data/kb_citizen_labels.jsonl`` with the shared citizen-message file.

    Each label line is ``{"id", "judged", "relevant", "why"}``: ``judged`` are the entry ids we
    read for that message, ``relevant`` those of them that help with (one of) its questions.
    The messages themselves stay in the shared data; only their ids are in the repository.

    Args:
        labels: The label file.
        messages: ``citizen_messages_beijing.jsonl``.

    Returns:
        ``{"id", "message", "judged": set, "relevant": set}`` per label, in label order.

    Raises:
        ValueError: A label names a message the file lacks, or a relevant entry not judged.
    """
    with open(messages, encoding="utf-8") as fh:
        text = {m["id"]: m["message"] for m in map(json.loads, fh)}
    out = []
    with open(labels, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            row = json.loads(line)
            judged, relevant = set(row["judged"]), set(row["relevant"])
            if row["id"] not in text:
                raise ValueError(f"{labels.name} line {n}: no message {row['id']}")
            if not relevant <= judged:
                raise ValueError(f"{labels.name} line {n}: relevant entries not judged: "
                                 f"{sorted(relevant - judged)}")
            out.append({"id": row["id"], "message": text[row["id"]], "judged": judged,
                        "relevant": relevant})
    return out


def outcome(result: SearchResult, judged: set[str], relevant: set[str]) -> str:
    """The kind of one decision (one of ``OUTCOMES``).

    A clarify is useful when one offered entry is relevant; ``none`` is judged against the
    whole knowledge base (did any labelled entry help?), not against what was ranked.
    """
    offered = {c.id for c in result.candidates}
    if result.decision == "answer":
        top = result.candidates[0].id
        return ("answer right" if top in relevant else
                "answer wrong" if top in judged else "answer unjudged")
    if result.decision == "clarify":
        return ("clarify useful" if offered & relevant else
                "clarify useless" if offered <= judged else "clarify unjudged")
    return "none, KB has it" if relevant else "none, KB lacks it"


def usefulness(system: Callable[[str], SearchResult], labelled: Sequence[dict]) -> dict:
    """Count each outcome of ``system`` over the labelled messages.

    Returns:
        ``{"messages", "with_relevant", "outcomes": {kind: count}}``.
    """
    counts = Counter(outcome(system(m["message"]), m["judged"], m["relevant"])
                     for m in labelled)
    return {"messages": len(labelled),
            "with_relevant": sum(1 for m in labelled if m["relevant"]),
            "outcomes": {k: counts.get(k, 0) for k in OUTCOMES}}


def clarify_sweep(index: object, labelled: Sequence[dict], dev: Sequence[dict],
                  values: Sequence[float] = (0.25, 0.30, 0.35, 0.40)) -> list[dict]:
    """What raising the clarify threshold (``GOVBOT_CLARIFY_THRESHOLD``) trades, per value.

    Args:
        index: A built ``SearchIndex``; its config is restored afterwards.
        labelled: Labelled citizen messages.
        dev: Dev queries (``gold`` empty for unanswerable ones).
        values: Clarify thresholds to try.

    Returns:
        Per value: citizen outcomes, and the dev answerable queries served (answered right or
        offered among the clarify candidates).
    """
    base, rows = index.config, []
    answerable = [q for q in dev if q["gold"]]
    try:
        for value in values:
            index.config = replace(base, clarify_threshold=value)
            served = sum(outcome(index.search(q["query"], 5), set(q["gold"]), set(q["gold"]))
                         in _SERVED for q in answerable)
            rows.append({"clarify_threshold": value, "dev_served": served,
                         "dev_answerable": len(answerable),
                         **usefulness(lambda text: index.search(text, 5), labelled)})
    finally:
        index.config = base
    return rows


def render_sweep(rows: Sequence[dict]) -> list[str]:
    """Markdown lines of ``clarify_sweep``."""
    if not rows:
        return []
    lines = ["**The clarify threshold's trade** (shipped engine; the tuned value first):", "",
             "| clarify threshold | citizen: clarify useful | clarify useless | none | "
             "none, KB has it | dev answerable served |", "|---|---|---|---|---|---|"]
    for r in rows:
        o = r["outcomes"]
        lines.append(f"| {r['clarify_threshold']:g} | {o['clarify useful']} | "
                     f"{o['clarify useless'] + o['clarify unjudged']} | "
                     f"{o['none, KB has it'] + o['none, KB lacks it']} | {o['none, KB has it']} | "
                     f"{r['dev_served']}/{r['dev_answerable']} |")
    return lines + [""]


def render(results: dict[str, dict]) -> list[str]:
    """Markdown lines: one row per system."""
    if not results:
        return []
    first = next(iter(results.values()))
    lines = ["## Real citizen messages (labelled by us)", "",
             f"{first['messages']} messages drawn at random from the shared citizen messages; "
             f"{first['with_relevant']} of them have an FAQ entry that helps. A clarify is useful "
             "when one offered entry helps; \"unjudged\": an entry the labels never read.", "",
             "| system | " + " | ".join(OUTCOMES) + " |", "|---" * (len(OUTCOMES) + 1) + "|"]
    for name, res in results.items():
        lines.append(f"| {name} | " + " | ".join(str(res["outcomes"][k]) for k in OUTCOMES)
                     + " |")
    return lines + [""]
