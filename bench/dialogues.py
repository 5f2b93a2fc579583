"""Scripted conversations and follow-up phrasings, played through ``/api/chat`` and checked."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

DATA = Path(__file__).resolve().parent / "data"
DIALOGUES = DATA / "dialogues.jsonl"
FOLLOW_UPS = DATA / "followups.jsonl"
SPLITS = ("dev", "heldout")
KINDS = ("answer", "field", "clarify", "none", "handoff", "ticket_confirm", "ticket", "progress",
         "out_of_scope", "ask_service", "text")
_CUSTOM_KIND = {"guide": "answer", "answer": "answer", "candidates": "clarify"}
EXPECT_KEYS = {"kind", "entry", "pick", "fields", "has", "not_has", "prefs", "buttons"}

Post = Callable[[str, str], Awaitable[Dict[str, Any]]]
"""Sends one turn ``(sender, text)`` and returns the ``/api/chat`` body."""


@dataclass(frozen=True)
class Dialogue:
    """One scripted conversation: what the resident says, and what each reply must show."""

    id: str
    split: str
    covers: str
    turns: tuple[tuple[str, Dict[str, Any]], ...]


@dataclass
class Outcome:
    """The result of one dialogue: the first failed turn, if any."""

    dialogue: Dialogue
    failure: str = ""
    replies: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failure


def _rows(path: Path) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """(line number, object) of a JSON-lines file; the split of each is checked."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                row = json.loads(line)
                if row.get("split") not in SPLITS:
                    raise ValueError(f"{path.name} line {n}: split {row.get('split')!r}")
                yield n, row


def load_dialogues(path: Path = DIALOGUES) -> List[Dialogue]:
    """Read and check the dialogue file (unknown keys or kinds are errors, not silent passes)."""
    out = []
    for n, row in _rows(path):
        turns = []
        for say, expect in row["turns"]:
            unknown = set(expect) - EXPECT_KEYS
            if unknown or expect.get("kind", "text") not in KINDS:
                raise ValueError(f"{path.name} line {n}: bad expectation {expect}")
            turns.append((say, expect))
        out.append(Dialogue(row["id"], row["split"], row["covers"], tuple(turns)))
    ids = [d.id for d in out]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path.name}: duplicate dialogue ids")
    return out


def follow_up_dialogues(path: Path = FOLLOW_UPS) -> List[Dialogue]:
    """Each phrasing as a two-turn dialogue: an answered question, then the follow-up.

    A row is ``{"anchor", "entry", "say", "split"}`` plus ``"fields"`` (the follow-up must be
    answered from the anchor's entry with these guide fields) or ``"new"`` (a new question: it
    must reach that entry, answered or offered).
    """
    out = []
    for n, row in _rows(path):
        first = {"kind": "answer", "entry": row["entry"]}
        if "new" in row:
            then = {"entry": row["new"]}
            covers = "new question"
        else:
            then = {"kind": "field", "entry": row["entry"], "fields": row["fields"]}
            covers = "+".join(row["fields"])
        out.append(Dialogue(f"followup-{n:03d}", row["split"], covers,
                            ((row["anchor"], first), (row["say"], then))))
    return out


def kinds_of(reply: Dict[str, Any]) -> List[str]:
    """The kinds of the messages in one reply (``text`` for plain ones)."""
    kinds = []
    for message in reply.get("messages", []):
        kind = (message.get("custom") or {}).get("type")
        kinds.append(_CUSTOM_KIND.get(kind, kind) if kind in KINDS or kind in _CUSTOM_KIND
                     else "text")
    return kinds or ["text"]


def _entries(reply: Dict[str, Any]) -> tuple[Optional[str], List[str], Dict[str, Any]]:
    """(answered entry, offered entries, fields) of a reply."""
    answered, offered, fields = None, [], {}
    for message in reply.get("messages", []):
        custom = message.get("custom") or {}
        if custom.get("type") == "candidates":
            offered = [c["id"] for c in custom.get("candidates", [])]
        elif custom.get("entry_id"):
            answered, fields = custom["entry_id"], custom.get("fields") or {}
    return answered, offered, fields


def check(expect: Dict[str, Any], reply: Dict[str, Any], last_offer: Sequence[str]) -> str:
    """Why ``reply`` misses ``expect`` ("" when it meets it)."""
    kinds = kinds_of(reply)
    text = "\n".join(m.get("text", "") for m in reply.get("messages", []))
    answered, offered, fields = _entries(reply)
    kind = expect.get("kind")
    if kind and kind not in kinds:
        return f"expected {kind}, got {kinds}"
    entry = expect.get("entry")
    if entry and entry != answered and entry not in offered:
        return f"expected entry {entry}, got {answered or offered}"
    pick = expect.get("pick")
    if pick:
        wanted = last_offer[pick - 1] if len(last_offer) >= pick else None
        if wanted is None or answered != wanted:
            return f"expected choice {pick} of {list(last_offer)}, got {answered}"
    if "fields" in expect and fields and sorted(fields) != sorted(expect["fields"]):
        return f"expected fields {expect['fields']}, got {sorted(fields)}"
    for word in expect.get("has", []):
        if word not in text:
            return f"missing {word!r}"
    for word in expect.get("not_has", []):
        if word in text:
            return f"unwanted {word!r}"
    prefs = reply.get("preferences") or {}
    for key, value in (expect.get("prefs") or {}).items():
        if prefs.get(key) != value:
            return f"preference {key}={prefs.get(key)!r}, expected {value!r}"
    payloads = [b.get("payload", "") for m in reply.get("messages", []) for b in m.get("buttons") or []]
    for wanted in expect.get("buttons", []):
        if wanted not in payloads:
            return f"no button {wanted!r} in {payloads}"
    return ""


async def play(dialogue: Dialogue, post: Post, sender: str) -> Outcome:
    """Play one dialogue turn by turn; stop at the first miss."""
    outcome, last_offer = Outcome(dialogue), []
    for n, (say, expect) in enumerate(dialogue.turns, 1):
        reply = await post(sender, say)
        outcome.replies.append(reply)
        why = check(expect, reply, last_offer)
        if why:
            outcome.failure = f"turn {n} {say!r}: {why}"
            break
        offered = _entries(reply)[1]
        last_offer = offered or last_offer
    return outcome


async def play_all(dialogues: Sequence[Dialogue], post: Post, tag: str = "d",
                   concurrency: int = 4) -> List[Outcome]:
    """Play dialogues a few at a time, each in a conversation of its own."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, dialogue: Dialogue) -> Outcome:
        async with gate:
            return await play(dialogue, post, f"{tag}-{i}-{dialogue.id}"[:60])

    return list(await asyncio.gather(*(one(i, d) for i, d in enumerate(dialogues))))


def pass_rates(outcomes: Sequence[Outcome]) -> Dict[str, Dict[str, Any]]:
    """Passed / total per split, and per split and covered behaviour."""
    table: Dict[str, Dict[str, Any]] = defaultdict(lambda: {"passed": 0, "total": 0})
    for o in outcomes:
        for key in (o.dialogue.split, f"{o.dialogue.split}/{o.dialogue.covers}"):
            table[key]["total"] += 1
            table[key]["passed"] += o.passed
    return dict(table)
