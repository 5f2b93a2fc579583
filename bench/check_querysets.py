"""Validate the retrieval benchmark query sets (bench/data/kb_dev.jsonl, kb_test.jsonl) against the FAQ file."""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set

_LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
DEV_PATH = DATA_DIR / "kb_dev.jsonl"
TEST_PATH = DATA_DIR / "kb_test.jsonl"
FAQ_NAME = "gov_faq_beijing.jsonl"

STYLES = ("colloquial", "long", "asr", "traditional", "keywords")
# Target share of each style among the answerable queries (reported, not enforced).
TARGET_SHARES = {"colloquial": 0.25, "long": 0.20, "asr": 0.20, "traditional": 0.15, "keywords": 0.20}
SHARE_TOLERANCE = 0.07
# Minimum (answerable, unanswerable) counts per set.
MINIMUMS = {"dev": (160, 35), "test": (70, 15)}
KEYWORD_LEN = (3, 8)

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_ASR_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def default_data_dir(env: Optional[Mapping[str, str]] = None) -> Path:
    """The shared-data folder: ``$GOVBOT_SHARED_DATA`` or ``../shared/data`` beside the repo.

    Args:
        env: mapping to read instead of ``os.environ``.
    """
    env = os.environ if env is None else env
    return Path(env.get("GOVBOT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def faq_path(data: Path) -> Path:
    """Resolve ``--data``: a folder holding the FAQ file, or the FAQ file itself."""
    return data / FAQ_NAME if data.is_dir() else data


def _t2s() -> Optional[Callable[[str], str]]:
    """OpenCC traditional-to-simplified converter, or None when OpenCC is not installed."""
    try:
        import opencc
    except ImportError:  # pragma: no cover - opencc is a pinned dependency
        _LOGGER.warning("opencc missing: traditional-style checks are skipped")
        return None
    return opencc.OpenCC("t2s").convert


def strip_punct(text: str) -> str:
    """NFKC, lower case, drop whitespace, punctuation and symbols."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


@dataclass
class Report:
    """Outcome of a validation run."""

    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    counts: Dict[str, Dict[str, Counter]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no errors were found (warnings do not count)."""
        return not self.errors


def load_faq(path: Path) -> Dict[str, str]:
    """Map FAQ id to its question text.

    Args:
        path: the ``gov_faq_beijing.jsonl`` file.
    """
    questions: Dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                questions[row["id"]] = row["question"]
    return questions


def load_queries(path: Path) -> List[dict]:
    """Read one query-set JSONL file (one object per line)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _check_row(name: str, n: int, row: object, faq: Mapping[str, str], verbatim: Set[str],
               t2s: Optional[Callable[[str], str]], report: Report) -> bool:
    """Check one row; False when it is too malformed to count."""
    where = f"{name}:{n}"
    if not isinstance(row, dict) or set(row) != {"query", "gold", "style"}:
        report.errors.append(f"{where}: expected exactly the keys query, gold, style")
        return False
    query, gold, style = row["query"], row["gold"], row["style"]
    if not isinstance(query, str) or not query.strip():
        report.errors.append(f"{where}: empty query")
        return False
    if style not in STYLES:
        report.errors.append(f"{where}: unknown style {style!r}")
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        report.errors.append(f"{where}: gold must be a list of ids")
        return False
    if len(set(gold)) != len(gold):
        report.errors.append(f"{where}: duplicate gold ids {gold}")
    for gid in gold:
        if gid not in faq:
            report.errors.append(f"{where}: gold id {gid} is not in the FAQ file")
    simplified = t2s(query) if t2s else query
    if strip_punct(query) in verbatim or strip_punct(simplified) in verbatim:
        report.errors.append(f"{where}: query copies an FAQ question verbatim: {query}")
    if style == "asr" and _ASR_PUNCT.search(query):
        report.errors.append(f"{where}: asr query contains punctuation: {query}")
    if style == "keywords" and not KEYWORD_LEN[0] <= len(re.sub(r"\s+", "", query)) <= KEYWORD_LEN[1]:
        report.errors.append(f"{where}: keywords query must be {KEYWORD_LEN[0]}-{KEYWORD_LEN[1]} characters")
    if style == "traditional" and t2s and simplified == query:
        report.errors.append(f"{where}: traditional query has no traditional characters: {query}")
    return True


def validate(sets: Mapping[str, Sequence[object]], faq: Mapping[str, str],
             minimums: Mapping[str, tuple] = MINIMUMS) -> Report:
    """Check the query sets; every problem found goes into ``Report.errors``.

    Args:
        sets: set name ("dev", "test") to its rows as read from JSONL.
        faq: FAQ id to question text.
        minimums: set name to (answerable, unanswerable) minimum counts.
    """
    report = Report()
    t2s = _t2s()
    verbatim = {strip_punct(q) for q in faq.values()}
    if t2s:
        verbatim |= {strip_punct(t2s(q)) for q in faq.values()}
    gold_ids: Dict[str, Set[str]] = {}
    queries: Dict[str, Set[str]] = {}
    for name, rows in sets.items():
        counts = {"answerable": Counter(), "unanswerable": Counter()}
        gold_ids[name], queries[name] = set(), set()
        for n, row in enumerate(rows, 1):
            if not _check_row(name, n, row, faq, verbatim, t2s, report):
                continue
            key = strip_punct(t2s(row["query"]) if t2s else row["query"])
            if key in queries[name]:
                report.errors.append(f"{name}:{n}: duplicate query {row['query']}")
            queries[name].add(key)
            gold_ids[name].update(row["gold"])
            counts["answerable" if row["gold"] else "unanswerable"][row["style"]] += 1
        report.counts[name] = counts
        want_ans, want_unans = minimums.get(name, (0, 0))
        got_ans, got_unans = sum(counts["answerable"].values()), sum(counts["unanswerable"].values())
        if got_ans < want_ans:
            report.errors.append(f"{name}: {got_ans} answerable queries, need at least {want_ans}")
        if got_unans < want_unans:
            report.errors.append(f"{name}: {got_unans} unanswerable queries, need at least {want_unans}")
        for style, target in TARGET_SHARES.items():
            share = counts["answerable"][style] / got_ans if got_ans else 0.0
            if abs(share - target) > SHARE_TOLERANCE:
                report.warnings.append(f"{name}: style {style} is {share:.0%} of answerable queries (target {target:.0%})")
    names = list(sets)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            shared = sorted(gold_ids[first] & gold_ids[second])
            if shared:
                report.errors.append(f"{first}/{second} share gold ids: {', '.join(shared)}")
            both = queries[first] & queries[second]
            if both:
                report.errors.append(f"{first}/{second} share {len(both)} queries, e.g. {sorted(both)[0]}")
    return report


def format_counts(report: Report) -> Iterable[str]:
    """Human-readable per-set, per-style counts."""
    for name, counts in report.counts.items():
        for kind in ("answerable", "unanswerable"):
            total = sum(counts[kind].values())
            parts = ", ".join(f"{s} {counts[kind][s]}" for s in STYLES)
            yield f"{name} {kind}: {total} ({parts})"


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: validate the sets, print counts, exit 1 on any error."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=default_data_dir(),
                        help="shared data folder (or the FAQ file); default $GOVBOT_SHARED_DATA or ../shared/data")
    parser.add_argument("--dev", type=Path, default=DEV_PATH, help="dev query set")
    parser.add_argument("--test", type=Path, default=TEST_PATH, help="held-out test query set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    path = faq_path(args.data)
    if not path.is_file():
        _LOGGER.error("FAQ file not found: %s (set --data or GOVBOT_SHARED_DATA)", path)
        sys.exit(2)
    report = validate({"dev": load_queries(args.dev), "test": load_queries(args.test)}, load_faq(path))
    for line in format_counts(report):
        print(line)
    for warning in report.warnings:
        _LOGGER.warning(warning)
    for error in report.errors:
        _LOGGER.error(error)
    print("OK" if report.ok else f"FAILED: {len(report.errors)} problem(s)")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
