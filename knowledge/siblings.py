"""Close calls between sibling entries: answer when the resident's own words settle them.

Many clarifications offer entries built on one template ("租房怎么提取住房公积金？", "买房怎么
提取住房公积金？", "离职以后住房公积金能提取吗？"), and the resident has already said which one
("我租房子住，公积金能拿出来交房租不"). The scores cannot tell: the shared template dominates
them. The words that tell the offered titles apart can. A close call is answered with its first
entry when

- a word of the query occurs in the first title and in no other offered title (租房), and no
  word of the query occurs in a runner-up's title alone (买房, 离职); and
- every word of the query that the knowledge base knows at all occurs in the first entry, so a
  specific ask the entry does not cover ("违约金", "有效期") keeps the clarification.

Measured on the dev queries only (``make bench-kb`` prints it beside the engine without it).
"""
from __future__ import annotations

from typing import Callable, Sequence

from knowledge.normalize import TermMap, normalize
from knowledge.segment import Segmenter

GENERIC_WORDS = frozenset(
    """办理 申请 办 怎么办 如何办理 进行 以后 之后 的话 个人 本市 北京 北京市 规定 情况 相关 有关
    可以 需要 能否 是否 怎样 哪里 多少 什么 哪些 怎么""".split())
"""Procedure and place words every title shares; they tell no entry apart."""


def content_words(text: str, seg: Segmenter, terms: TermMap) -> set[str]:
    """Words of at least two characters that say what a text is about."""
    norm = terms.apply(normalize(text))
    return {w for w in seg.cut(norm) if len(w) >= 2 and w not in GENERIC_WORDS}


def settled_by_query(query: str, titles: Sequence[str], first_text: str,
                     known: Callable[[str], bool], seg: Segmenter, terms: TermMap) -> bool:
    """Whether the query's words pick the first of ``titles`` and the first entry covers them.

    A word that occurs in one title and in no other, found in the query, tells that title
    apart; so does a word of the query found in one title alone. Titles are compared as text,
    not as word sets: the segmenter knows short titles as single words.

    Args:
        query: The resident's text.
        titles: The offered entries' questions, best first (at least two).
        first_text: Everything the first entry says, normalised with ``terms``.
        known: Whether a word occurs anywhere in the knowledge base.
        seg: The index's segmenter.
        terms: The index's synonym map.

    Returns:
        True when the first entry can be answered.
    """
    if len(titles) < 2:
        return False
    norm = terms.apply(normalize(query))
    norm_titles = [terms.apply(normalize(t)) for t in titles]
    picked = set()
    for i, title in enumerate(norm_titles):  # a word of one title alone, found in the query
        others = norm_titles[:i] + norm_titles[i + 1:]
        if any(word in norm and not any(word in other for other in others)
               for word in content_words(title, seg, terms)):
            picked.add(i)
    words = content_words(query, seg, terms)
    for word in words:  # a word of the query found in one title alone
        holders = [i for i, title in enumerate(norm_titles) if word in title]
        if len(holders) == 1:
            picked.add(holders[0])
    if picked != {0}:
        return False
    return all(word in first_text for word in words if known(word))
