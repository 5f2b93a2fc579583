"""Benchmark data: the FAQ file through the import path, query sets, synthetic variants."""
from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path
from typing import Sequence

from knowledge.index import IndexDoc

_LOGGER = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """``GOVBOT_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("GOVBOT_SHARED_DATA")
    return Path(env) if env else (REPO / ".." / "shared" / "data").resolve()


def load_faq_docs(path: str | Path) -> list[IndexDoc]:
    """Import ``gov_faq_beijing.jsonl`` with ``govbot kb import``'s code into a temporary SQLite
    database and read the published entries back as index documents, so the benchmark covers
    the import path too (the file is read from its path, never copied)."""
    import tempfile

    from knowledge.db import make_engine, upgrade
    from knowledge.exporter import iter_entries
    from knowledge.importer import import_file
    from knowledge.service import KnowledgeService

    with tempfile.TemporaryDirectory(prefix="govbot-bench-kb-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'kb.db'}")
        upgrade(engine)
        report = import_file(KnowledgeService(engine), Path(path), actor="bench", progress=False)
        if report.errors:
            raise SystemExit(f"import failed: {report.errors[:3]}")
        rows = iter_entries(engine, status="published")
        engine.dispose()
    return [IndexDoc(id=r["id"], title=r["question"], similar=tuple(r["similar_questions"]),
                     answer=r["answer"], category=r["category"], department=r["department"])
            for r in rows]


def shipped_terms() -> dict[str, str]:
    """The seed terms the server loads (``knowledge/seed/terms.jsonl``): the engine is measured
    with the synonym map it is deployed with."""
    from knowledge.seed import SEED_DIR, read_terms

    return read_terms(SEED_DIR / "terms.jsonl")


def load_queries(path: str | Path) -> list[dict]:
    """Read ``{"query","gold","style"}`` rows."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def homophone_queries(docs: Sequence[IndexDoc], n: int = 300, seed: int = 1) -> list[dict]:
    """Synthetic speech errors: entry titles with 2-3 characters (1 in an 8-character prefix)
    replaced by another character with the same toneless pinyin, drawn from the KB's own text."""
    from knowledge.phonetic import token_pinyin

    rng = random.Random(seed)
    by_sound: dict[str, set] = {}
    for d in docs:
        for ch in d.title + d.answer[:300]:
            if "\u4e00" <= ch <= "\u9fff":
                by_sound.setdefault(token_pinyin(ch)[0], set()).add(ch)

    def perturb(text: str, k: int) -> str:
        chars = list(text)
        spots = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"
                 and len(by_sound.get(token_pinyin(ch)[0], ())) > 1]
        rng.shuffle(spots)
        for i in spots[:k]:
            chars[i] = rng.choice(sorted(by_sound[token_pinyin(chars[i])[0]] - {chars[i]}))
        return "".join(chars)

    out = []
    for d in rng.sample(list(docs), min(n, len(docs))):
        title = d.title.rstrip("？?")
        out.append({"query": perturb(title, 2 if len(title) < 15 else 3), "gold": [d.id],
                    "style": "homophone-title"})
        out.append({"query": perturb(d.title[:8], 1), "gold": [d.id], "style": "homophone-prefix"})
    return out


def synthetic_docs(docs: Sequence[IndexDoc], target: int, seed: int = 0) -> list[IndexDoc]:
    """Scale ``docs`` up to ``target`` entries: copies with perturbed ids and lightly varied
    text (a district or audience prefix and one dropped character)."""
    rng = random.Random(seed)
    prefixes = ("朝阳区", "海淀区", "丰台区", "通州区", "大兴区", "昌平区", "顺义区",
                "外地来京人员",
                "老年人", "企业", "个体户", "学生", "残疾人", "退役军人")
    out = list(docs)
    k = 0
    while len(out) < target:
        k += 1
        for d in docs:
            if len(out) >= target:
                break
            title = d.title
            if len(title) > 6:
                cut = rng.randrange(len(title))
                title = title[:cut] + title[cut + 1:]
            pre = rng.choice(prefixes)
            out.append(IndexDoc(id=f"{d.id}-s{k}", title=pre + title, similar=d.similar,
                                answer=pre + d.answer, department=d.department))
    return out

