"""Train the Rasa model when it is missing or stale, with KB-generated dictionary and patterns."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.settings import Settings
from knowledge.db import session_scope
from knowledge.models import Entry, Term

_LOGGER = logging.getLogger(__name__)

MODEL_NAME = "govbot"
GAZETTEER = Path(__file__).resolve().parent.parent / "knowledge" / "seed" / "gazetteer.json"


BUILD_FILES = ("build/jieba/userdict.txt", "build/entity_patterns.jsonl")


def fingerprint(project_dir: Path) -> str:
    """SHA-256 over config.yml, domain.yml, intents/, the KB-generated dictionary and entity
    patterns (when present), and the Rasa version."""
    import rasa
    digest = hashlib.sha256(rasa.__version__.encode())
    files = [project_dir / "config.yml", project_dir / "domain.yml"]
    files += sorted((project_dir / "intents").rglob("*.yml"))
    files += [project_dir / name for name in BUILD_FILES if (project_dir / name).is_file()]
    for path in files:
        digest.update(str(path.relative_to(project_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_path(settings: Settings) -> Path:
    """Where the trained model lives."""
    return settings.model_dir / f"{MODEL_NAME}.tar.gz"


def model_is_current(settings: Settings) -> bool:
    """Whether a model exists and was trained from the current project files."""
    stamp = settings.model_dir / f"{MODEL_NAME}.fingerprint"
    return (model_path(settings).is_file() and stamp.is_file()
            and stamp.read_text().strip() == fingerprint(settings.project_dir))


def vocabulary(engine: Engine) -> Dict[str, List[str]]:
    """Service names, departments, districts and terms from the KB and the gazetteer."""
    gaz = json.loads(GAZETTEER.read_text(encoding="utf-8")) if GAZETTEER.is_file() else {}
    with session_scope(engine) as session:
        terms = [(t.variant, t.standard) for t in session.scalars(select(Term))]
        departments = {d for (d,) in session.execute(select(Entry.department).distinct()) if d}
        categories = {c for (c,) in session.execute(select(Entry.category).distinct()) if c}
    services = set(gaz.get("services", [])) | {s for _v, s in terms} | {v for v, _s in terms}
    return {
        "services": sorted(services | categories),
        "departments": sorted(departments | set(gaz.get("departments", []))),
        "districts": sorted(set(gaz.get("districts", []))),
        "district_aliases": sorted((gaz.get("district_aliases") or {}).items()),
        "terms": sorted(terms),
    }


def write_build_files(engine: Engine, build_dir: Path) -> Dict[str, int]:
    """Write ``build/jieba/userdict.txt`` and ``build/entity_patterns.jsonl`` from the KB."""
    vocab = vocabulary(engine)
    (build_dir / "jieba").mkdir(parents=True, exist_ok=True)
    words = set(vocab["services"]) | set(vocab["departments"]) | set(vocab["districts"])
    words |= {alias for alias, _full in vocab["district_aliases"]}
    with (build_dir / "jieba" / "userdict.txt").open("w", encoding="utf-8") as fh:
        for word in sorted(w for w in words if w and " " not in w):
            fh.write(f"{word} 2000 n\n")
    patterns = _patterns(vocab)
    with (build_dir / "entity_patterns.jsonl").open("w", encoding="utf-8") as fh:
        for pattern in patterns:
            fh.write(json.dumps(pattern, ensure_ascii=False) + "\n")
    return {"words": len(words), "patterns": len(patterns)}


def _patterns(vocab: Dict[str, List]) -> Iterable[Dict[str, str]]:
    standard = dict(vocab["terms"])
    out = [{"label": "service", "pattern": s, "id": standard.get(s, s)} for s in vocab["services"]]
    out += [{"label": "department", "pattern": d, "id": d} for d in vocab["departments"]]
    out += [{"label": "district", "pattern": d, "id": d} for d in vocab["districts"]]
    out += [{"label": "district", "pattern": a, "id": full} for a, full in vocab["district_aliases"]]
    return out


def train(settings: Settings, engine: Engine, force: bool = False) -> Optional[Path]:
    """Train if the model is missing or stale; returns the model path (None if up to date)."""
    build = settings.project_dir / "build"
    counts = write_build_files(engine, build)
    if not force and model_is_current(settings):
        print("模型已是最新，跳过训练 / model is up to date", flush=True)
        return None
    print(f"==> 生成分词词典与实体规则 / user dictionary {counts['words']} words, "
          f"{counts['patterns']} entity patterns", flush=True)
    print("==> 训练 Rasa 模型（约几分钟）/ training the Rasa model", flush=True)
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-m", "bot.quiet", "train", "--config", "config.yml", "--domain",
           "domain.yml", "--data", "intents", "--out", str(settings.model_dir),
           "--fixed-model-name", MODEL_NAME, "--force"]
    subprocess.run(cmd, cwd=settings.project_dir, env=env, check=True)
    (settings.model_dir / f"{MODEL_NAME}.fingerprint").write_text(fingerprint(settings.project_dir))
    print(f"==> 模型已保存 / model saved: {model_path(settings)}", flush=True)
    return model_path(settings)


def nlu_report(settings: Settings, folds: int = 5) -> Dict[str, float]:
    """``rasa test nlu`` cross-validation; returns macro and weighted F1 of intents."""
    out = settings.project_dir / "results" / "nlu"
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-m", "bot.quiet", "test", "nlu", "--nlu", "intents/nlu.yml", "--config",
           "config.yml", "--cross-validation", "--folds", str(folds), "--out", str(out)]
    subprocess.run(cmd, cwd=settings.project_dir, env=env, check=True)
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return {"macro_f1": report["macro avg"]["f1-score"],
            "weighted_f1": report["weighted avg"]["f1-score"],
            "accuracy": report.get("accuracy", 0.0)}
