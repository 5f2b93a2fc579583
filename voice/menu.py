"""The keypad menu tree, built from the knowledge base: categories, then entries, then answers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from voice.prompts import MAX_OPTIONS, option

MORE = "more"
PAGE = MAX_OPTIONS - 1
"""Options per page when a list is longer than a menu holds: the last key turns the page."""


class Catalog(Protocol):
    """What the phone line reads from the knowledge base (published entries only); async, as
    the reads go to the database off the event loop."""

    async def categories(self) -> List[str]:
        """Categories, the largest first."""

    async def entries(self, category: str) -> List[Tuple[str, str]]:
        """``(entry id, question)`` of one category."""

    async def entry(self, entry_id: str) -> Optional[Mapping[str, str]]:
        """An entry with ``question``, ``short_answer`` and ``answer`` (None when unpublished)."""


@dataclass(frozen=True)
class Menu:
    """One menu: its options (key -> target) and how they are said."""

    keys: Dict[str, str]
    spoken: Tuple[str, ...]


def page_of(items: Sequence[Tuple[str, str]], page: int) -> Menu:
    """Page ``page`` of ``(label, target)`` items: all of them when they fit in one menu,
    else three and "其他，请按4" (the pages wrap round, so every item is reachable)."""
    if len(items) <= MAX_OPTIONS:
        chosen, more = list(items), False
    else:
        pages = (len(items) + PAGE - 1) // PAGE
        start = (page % pages) * PAGE
        chosen, more = list(items[start:start + PAGE]), True
    keys = {str(i): target for i, (_, target) in enumerate(chosen, 1)}
    spoken = [option(label, str(i)) for i, (label, _) in enumerate(chosen, 1)]
    if more:
        keys[str(MAX_OPTIONS)] = MORE
        spoken.append(option("其他选项", str(MAX_OPTIONS)))
    return Menu(keys, tuple(spoken))


def root_menu(categories: Sequence[str], page: int = 0) -> Menu:
    """Level 1: the categories."""
    return page_of([(c, f"cat:{c}") for c in categories], page)


def category_menu(entries: Sequence[Tuple[str, str]], page: int = 0) -> Menu:
    """Level 2: the entries of one category (level 3 is the answer)."""
    return page_of([(title, f"entry:{eid}") for eid, title in entries], page)


def pages(n_items: int) -> int:
    """How many pages a list of ``n_items`` takes."""
    return 1 if n_items <= MAX_OPTIONS else -(-n_items // PAGE)


def reachable(categories: Sequence[str],
              entries_of: Callable[[str], Sequence[Tuple[str, str]]]) -> Dict[str, int]:
    """Every entry id reachable from the root, with the fewest key presses it takes (for the
    tests and an operator's check that the tree covers the whole knowledge base)."""
    out: Dict[str, int] = {}
    for rp in range(pages(len(categories))):
        for target in root_menu(categories, rp).keys.values():
            if not target.startswith("cat:"):
                continue
            entries = entries_of(target[4:])
            for ep in range(pages(len(entries))):
                for t2 in category_menu(entries, ep).keys.values():
                    if t2.startswith("entry:"):
                        presses = rp + 1 + ep + 1
                        out[t2[6:]] = min(out.get(t2[6:], presses), presses)
    return out
