"""Load the seed knowledge base shipped with govbot (entries, terms, sample 办件)."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Dict

from knowledge.importer import import_file
from knowledge.records import Records
from knowledge.service import KnowledgeService

_LOGGER = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parent / "seed"


def read_terms(path: Path) -> Dict[str, str]:
    """``{"variant","standard"}`` lines as a mapping."""
    terms: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            terms[row["variant"]] = row["standard"]
    return terms


def load_seed(kb: KnowledgeService, records: Records, seed_dir: Path = SEED_DIR,
              actor: str = "seed") -> Dict[str, int]:
    """Upsert the seed entries, terms and cases (idempotent)."""
    terms = read_terms(seed_dir / "terms.jsonl")
    existing = kb.terms()
    changed = {v: s for v, s in terms.items() if existing.get(v) != s}
    if changed:  # terms first, so entries are indexed with them in place
        kb.save_terms(changed, actor)
    report = import_file(kb, seed_dir / "entries.jsonl", actor=actor, progress=False)
    if report.errors:
        raise ValueError("seed entries invalid: " + "; ".join(str(e) for e in report.errors[:5]))
    cases = records.load_cases(seed_dir / "cases.jsonl")
    _LOGGER.info("seed: %s, %d terms changed, %d cases", report.summary(), len(changed), cases)
    return {"created": report.created, "updated": report.updated, "terms": len(changed),
            "cases": cases}
