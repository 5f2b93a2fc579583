"""Toneless pinyin helpers used to match homophone errors from speech recognition."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Iterable, Sequence

_LOGGER = logging.getLogger(__name__)

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_RUNS_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[^\u3400-\u4dbf\u4e00-\u9fff]+")
# Accent-level confusions folded together by ``fuzzy``: retroflex/flat initials and -n/-ng finals.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


@lru_cache(maxsize=200_000)
def token_pinyin(token: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of one token, using pypinyin's phrase context for heteronyms.

    Non-Chinese runs (digits, Latin) are kept as one lower-case item each.

    Args:
        token: A word or short string.

    Returns:
        Tuple of syllables, e.g. ``("she", "bao", "ka")`` for 社保卡.
    """
    if not token:
        return ()
    if not _HAN_RE.search(token):
        return (token.lower(),)
    if len(token) > 1 and not any(_is_heteronym(ch) for ch in token):
        # No character with several readings: per-character lookups (cached) are exact and
        # avoid pypinyin's phrase segmentation, the slow part for never-seen tokens.
        return tuple(s for part in _RUNS_RE.findall(token) for s in token_pinyin(part))
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    for item in lazy_pinyin(token, style=Style.NORMAL, errors="default", v_to_u=False):
        item = item.strip().lower()
        if item:
            out.append(item)
    return tuple(out)


@lru_cache(maxsize=50_000)
def _is_heteronym(ch: str) -> bool:
    from pypinyin.constants import PINYIN_DICT

    return "," in PINYIN_DICT.get(ord(ch), "")


@lru_cache(maxsize=4096)
def fuzzy(syllable: str) -> str:
    """Fold a syllable's accent-level confusions (zh/z, ch/c, sh/s, -ng/-n).

    Args:
        syllable: Toneless pinyin syllable.

    Returns:
        The folded syllable (``"shang"`` -> ``"san"``).
    """
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            syllable = b + syllable[len(a):]
            break
    for a, b in _FUZZY_FINALS:
        if syllable.endswith(a):
            syllable = syllable[: -len(a)] + b
            break
    return syllable


def syllables(tokens: Iterable[str], fold: bool = True) -> list[str]:
    """Pinyin syllables of a token sequence (tokens give heteronym context).

    Args:
        tokens: Tokens in text order (e.g. from ``Segmenter.cut``) or single characters.
        fold: Apply ``fuzzy`` to each syllable.

    Returns:
        Flat list of syllables.
    """
    out: list[str] = []
    for tok in tokens:
        for syl in token_pinyin(tok):
            out.append(fuzzy(syl) if fold else syl)
    return out


def to_pinyin(text: str, fold: bool = False) -> list[str]:
    """Toneless pinyin of a text, character by character context-free except pypinyin phrases.

    Args:
        text: Normalised text.
        fold: Apply ``fuzzy``.

    Returns:
        List of syllables.
    """
    return syllables([text], fold=fold) if text else []


def bigrams(items: Sequence[str]) -> list[str]:
    """Adjacent pairs joined with ``_`` (a single item yields itself).

    Args:
        items: Syllables or characters.

    Returns:
        List of bigram strings.
    """
    if len(items) < 2:
        return list(items)
    return [f"{a}_{b}" for a, b in zip(items, items[1:])]


def pinyin_overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """Dice overlap of the syllable-bigram sets of two syllable sequences (0..1).

    Args:
        a: Syllables of the first text.
        b: Syllables of the second text.

    Returns:
        2|A∩B| / (|A|+|B|), 0.0 when both are empty.
    """
    sa, sb = set(bigrams(a)), set(bigrams(b))
    if not sa and not sb:
        return 0.0
    return 2.0 * len(sa & sb) / (len(sa) + len(sb))
