"""Knowledge-retrieval benchmark: quality, question matching, speed and memory, with baselines."""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from knowledge.decide import Candidate, RetrievalConfig, SearchResult
from knowledge.index import IndexDoc, SearchIndex

_LOGGER = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
SHIPPED, LEXICAL = "engine", "engine, lexical only (no encoder)"
OUT = REPO / "bench" / "out" / "kb.json"
TARGETS = {"top1": 0.92, "mrr5": 0.95, "declined": 0.90, "confident_wrong": 0.02,
           "lcqmc_test": 0.80, "p99_ms_2080": 10.0, "p99_ms_20000": 30.0, "build_s_2080": 5.0}

System = Callable[[str], SearchResult]


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


def rss_mb() -> float:
    """Current resident set size in MB (``/proc/self/status``, else peak from getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------- baselines
class _Baseline:
    """Ranks entry titles; ``answer`` when the top score reaches ``threshold`` (tuned on dev)."""

    threshold = float("inf")

    def build(self, docs: Sequence[IndexDoc]) -> None:
        self.docs = list(docs)
        self._fit([d.title for d in self.docs])

    def search(self, query: str, top: int = 5) -> SearchResult:
        scores = self._scores(query)
        order = np.argsort(-scores)[:top]
        cands = tuple(Candidate(self.docs[i].id, float(scores[i]), self.docs[i].title)
                      for i in order if scores[i] > 0)
        decision = "answer" if cands and cands[0].score >= self.threshold else "none"
        return SearchResult(query, decision, cands)


class Bm25Baseline(_Baseline):
    """Plain jieba (own tokenizer, default dictionary) + ``rank_bm25.BM25Okapi`` over titles."""

    def _fit(self, titles: list[str]) -> None:
        import jieba
        from rank_bm25 import BM25Okapi

        self._tok = jieba.Tokenizer()
        self._bm25 = BM25Okapi([self._cut(t) for t in titles])

    def _cut(self, text: str) -> list[str]:
        return [w for w in self._tok.lcut(text.lower()) if w.strip()] or [""]

    def _scores(self, query: str) -> np.ndarray:
        return np.asarray(self._bm25.get_scores(self._cut(query[:2000])))


class TfidfBaseline(_Baseline):
    """Character 1-2-gram TF-IDF cosine over titles (scikit-learn)."""

    def _fit(self, titles: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
        self._mat = self._vec.fit_transform(titles)

    def _scores(self, query: str) -> np.ndarray:
        return (self._mat @ self._vec.transform([query[:2000]]).T).toarray().ravel()


def tune_threshold(baseline: _Baseline, dev: Sequence[dict]) -> float:
    """Pick the baseline's answer threshold on dev (same utility as ``tune_engine``)."""
    tops = [baseline.search(q["query"]) for q in dev]
    n_a = max(1, sum(bool(q["gold"]) for q in dev))
    best, best_u = float("inf"), -1e9
    for th in sorted({c.candidates[0].score for c in tops if c.candidates}):
        right = sum(1 for q, r in zip(dev, tops) if r.candidates and r.candidates[0].score >= th
                    and r.candidates[0].id in q["gold"])
        wrong = sum(1 for q, r in zip(dev, tops) if r.candidates and r.candidates[0].score >= th
                    and r.candidates[0].id not in q["gold"])
        u = (right - 4 * wrong) / n_a
        if u > best_u:
            best, best_u = th, u
    baseline.threshold = best
    return best


# ---------------------------------------------------------------------------- quality
def quality(system: System, queries: Sequence[dict],
            ranking: Callable[[str], list[str]] | None = None) -> dict:
    """Top-1, MRR@5, no-answer declined, confident-wrong and per-style top-1.

    ``ranking`` gives the top-5 entry ids when the result's candidates are cut short (a clarify
    list holds at most three); by default the result's candidates are the ranking.
    """
    answerable = [q for q in queries if q["gold"]]
    unanswerable = [q for q in queries if not q["gold"]]
    top1 = mrr = declined = wrong = answered_right = 0.0
    styles: dict[str, list[float]] = {}
    for q in queries:
        res = system(q["query"])
        ids = [c.id for c in res.candidates]
        gold = set(q["gold"])
        if res.decision == "answer" and ids[0] not in gold:
            wrong += 1
        if not gold:
            declined += res.decision != "answer"
            styles.setdefault(q.get("style", "?"), []).append(float(res.decision != "answer"))
            continue
        hit = bool(ids) and ids[0] in gold
        top1 += hit
        answered_right += hit and res.decision == "answer"
        ranked = ranking(q["query"]) if ranking else ids
        rank = next((i for i, d in enumerate(ranked[:5]) if d in gold), None)
        mrr += 0.0 if rank is None else 1.0 / (rank + 1)
        styles.setdefault(q.get("style", "?"), []).append(float(hit))
    n_a, n_u = max(len(answerable), 1), max(len(unanswerable), 1)
    return {"queries": len(queries), "top1": top1 / n_a, "mrr5": mrr / n_a,
            "declined": declined / n_u if unanswerable else None,
            "confident_wrong": wrong / max(len(queries), 1),
            "answered_right": answered_right / n_a,
            "per_style": {k: round(sum(v) / len(v), 4) for k, v in sorted(styles.items())}}


def engine_system(index: SearchIndex) -> System:
    """The engine as a query -> result function."""
    return lambda q: index.search(q, top=5)


def engine_ranking(index: SearchIndex) -> Callable[[str], list[str]]:
    """The engine's top-5 ranking (before the decision trims it)."""
    return lambda q: [doc_id for doc_id, _ in index.raw_scores(q, 5)]


def tune_engine(index: SearchIndex, dev: Sequence[dict]) -> RetrievalConfig:
    """Grid-search the decision thresholds on dev: most right answers with at most 1 % of the
    queries answered wrongly and at least 90 % of no-answer queries declined."""
    base, best, best_key = index.config, index.config, (-1.0, 0.0)
    for at in np.arange(0.50, 0.91, 0.05):
        for margin in (0.05, 0.1, 0.15, 0.2):
            for logit_margin in (0.5, 1.0, 1.5, 2.0, 99.0):
                index.config = replace(base, answer_threshold=float(at), answer_margin=margin,
                                       answer_logit_margin=logit_margin)
                m = quality(engine_system(index), dev)
                if m["confident_wrong"] <= 0.01 and (m["declined"] or 1.0) >= 0.9:
                    key = (m["answered_right"], -m["confident_wrong"])
                    if key > best_key:
                        best, best_key = index.config, key
    index.config = base
    return best


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


# ---------------------------------------------------------------------------- speed
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


def speed(make_index: Callable[[], object], docs: Sequence[IndexDoc], queries: Sequence[str],
          search: Callable[[object, str], object], reps: int = 3, edit: bool = False) -> dict:
    """Build time, query latency percentiles, throughput and RSS growth for one system."""
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    index = make_index()
    index.build(docs)
    build = time.perf_counter() - t0
    cold = []
    for q in queries:  # first pass: caches (segmentation, pinyin) are cold for every query
        s = time.perf_counter()
        search(index, q)
        cold.append((time.perf_counter() - s) * 1000)
    lat, p99s = [], []
    t1 = time.perf_counter()
    for _ in range(reps):
        rep = []
        for q in queries:
            s = time.perf_counter()
            search(index, q)
            rep.append((time.perf_counter() - s) * 1000)
        lat += rep
        p99s.append(sorted(rep)[min(len(rep) - 1, int(0.99 * len(rep)))])
    wall = time.perf_counter() - t1
    cold.sort()
    edits = []
    if edit:  # live edits after the latency passes: replace 100 entries, then remove 20
        for d in list(docs)[:100]:
            s = time.perf_counter()
            index.upsert(IndexDoc(d.id, d.title + "（修订）", d.similar, d.answer, d.category,
                                  d.department))
            edits.append((time.perf_counter() - s) * 1000)
        for d in list(docs)[100:120]:
            s = time.perf_counter()
            index.remove(d.id)
            edits.append((time.perf_counter() - s) * 1000)
    return {"docs": len(docs), "build_s": round(build, 3),
            "p50_ms": round(statistics.median(lat), 3),
            "p99_ms": round(statistics.median(p99s), 3),
            "p99_per_pass_ms": [round(p, 3) for p in p99s],
            "edit_ms_median": round(statistics.median(edits), 3) if edits else None,
            "edit_ms_max": round(max(edits), 3) if edits else None,
            "p99_cold_ms": round(cold[min(len(cold) - 1, int(0.99 * len(cold)))], 3),
            "qps": round(len(lat) / wall, 1), "rss_mb": round(rss_mb(), 1),
            "rss_growth_mb": round(rss_mb() - before, 1), "_index": index}


# ---------------------------------------------------------------------------- matching
def matching(data_dir: Path) -> dict:
    """Encoder-similarity accuracy on LCQMC dev/test and AFQMC dev (threshold from LCQMC dev)."""
    from knowledge.encoder import load_default
    from knowledge.matcher import evaluate

    encoder = load_default()
    if encoder is None:
        return {"error": "sentence encoder not installed (python -m knowledge.encoder_export)"}
    if not (data_dir / "lcqmc_dev.tsv").exists():
        return {"error": f"missing {data_dir / 'lcqmc_dev.tsv'}"}
    t0 = time.perf_counter()
    out = evaluate(encoder, data_dir)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


# ---------------------------------------------------------------------------- report
def _fmt(v, pct: bool = True) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v}"


def render(report: dict) -> str:
    """Markdown tables of the report."""
    lines = ["## Retrieval quality", ""]
    systems = list(report["quality"])
    for split in ("dev", "test"):
        lines += [f"**{split}**", "", "| system | top-1 | MRR@5 | no-answer declined | "
                  "confident-wrong | answered right | per-style top-1 (unanswerable: declined) |",
                  "|---|---|---|---|---|---|---|"]
        for name in systems:
            m = report["quality"][name].get(split)
            if not m:
                continue
            styles = ", ".join(f"{k} {100 * v:.0f}%" for k, v in m["per_style"].items())
            lines.append(f"| {name} | {_fmt(m['top1'])} | {_fmt(m['mrr5'])} | "
                         f"{_fmt(m['declined'])} | {_fmt(m['confident_wrong'])} | "
                         f"{_fmt(m['answered_right'])} | {styles} |")
        lines.append("")
    t = TARGETS
    if report.get("homophones"):
        lines += ["**Synthetic speech errors** (homophone substitutions in entry titles, "
                  "top-1):", "", "| engine | " + " | ".join(
                      next(iter(report["homophones"].values()))) + " |", "|---|---|---|"]
        for name, styles in report["homophones"].items():
            lines.append(f"| {name} | " + " | ".join(f"{100 * v:.1f}%" for v in styles.values())
                         + " |")
        lines.append("")
    lines += [f"Targets: top-1 ≥ {t['top1']:.0%}, MRR@5 ≥ {t['mrr5']:.0%}, declined ≥ "
              f"{t['declined']:.0%}, confident-wrong ≤ {t['confident_wrong']:.0%}.", "",
              "## Question matching (threshold chosen on LCQMC dev)", "",
              "| set | accuracy | target |", "|---|---|---|"]
    mt = report.get("matching", {})
    if "error" in mt:
        lines.append(f"| – | {mt['error']} | |")
    for name in ("lcqmc_dev", "lcqmc_test", "afqmc_dev"):
        if name in mt:
            target = f"≥ {t['lcqmc_test']:.2f}" if name == "lcqmc_test" else ""
            note = " (threshold chosen here)" if name == "lcqmc_dev" else ""
            lines.append(f"| {name}{note} | {mt[name]:.4f} | {target} |")
    lines += ["", "## Speed and memory", "",
              f"{report.get('speed_queries', '?')} queries (dev + test + 200 citizen messages). "
              "p99 is the median of the per-pass p99 over warm passes (the machine is shared and "
              "single passes are noisy; every pass is in kb.json); p99 cold is the first pass "
              f"(segmentation and pinyin caches empty). BLAS threads: {report.get('blas_threads')}"
              f"; load average at start: {report.get('load_average')}.", "",
              "| system | entries | build s | p50 ms | p99 ms | p99 cold ms | queries/s | RSS MB "
              "| RSS growth MB | upsert/remove ms (median / max) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["speed"]:
        edit = (f"{row['edit_ms_median']} / {row['edit_ms_max']}"
                if row.get("edit_ms_median") is not None else "–")
        lines.append(f"| {row['system']} | {row['docs']} | {row['build_s']} | {row['p50_ms']} | "
                     f"{row['p99_ms']} | {row['p99_cold_ms']} | {row['qps']} | {row['rss_mb']} | "
                     f"{row['rss_growth_mb']} | {edit} |")
    lines += ["", "## Targets (the shipped engine; quality on dev, where the issue sets the "
              "targets, and on the held-out test set)", "",
              "| target | value | met |", "|---|---|---|"]
    for name, value, goal, ok in target_rows(report):
        lines.append(f"| {name} {goal} | {value} | {'yes' if ok else 'NO'} |")
    return "\n".join(lines)


def target_rows(report: dict) -> list[tuple[str, str, str, bool]]:
    """(name, value, goal, met) for every target that could be measured."""
    t, rows = TARGETS, []
    quality_rows = report["quality"].get(SHIPPED, {})
    # The issue sets the quality targets on the dev set (where the defaults are tuned); the
    # held-out test set is reported beside it as the honest check of generalisation.
    for split in ("dev", "test"):
        measured = quality_rows.get(split)
        if not measured:
            continue
        for key, name, low in (("top1", "top-1", True), ("mrr5", "MRR@5", True),
                               ("declined", "no-answer declined", True),
                               ("confident_wrong", "confident-wrong", False)):
            value = measured[key]
            if value is not None:
                ok = value >= t[key] if low else value <= t[key]
                rows.append((f"{name} ({split})", f"{100 * value:.1f}%",
                             f"{'≥' if low else '≤'} {100 * t[key]:.0f}%", ok))
    lcqmc = report.get("matching", {}).get("lcqmc_test")
    if lcqmc is not None:
        rows.append(("LCQMC test accuracy", f"{lcqmc:.4f}", f"≥ {t['lcqmc_test']}",
                     lcqmc >= t["lcqmc_test"]))
    for row in report["speed"]:
        if row["system"].split(" (")[0] != SHIPPED:
            continue
        small = row["docs"] <= 2080
        goal = t["p99_ms_2080"] if small else t["p99_ms_20000"]
        rows.append((f"p99 @{row['docs']} ({row['system']})", f"{row['p99_ms']} ms",
                     f"≤ {goal:g} ms", row["p99_ms"] <= goal))
        if small:
            rows.append((f"build @{row['docs']} ({row['system']})", f"{row['build_s']} s",
                         f"≤ {t['build_s_2080']:g} s", row["build_s"] <= t["build_s_2080"]))
    return rows


def _encoder(tmp: Path):
    """The installed encoder with a fresh vector cache in ``tmp`` (so the first build really
    encodes every question), or None when it is not installed."""
    from knowledge.encoder import SentenceEncoder, default_dir, load_default

    if load_default() is None:
        return None
    return SentenceEncoder(default_dir(), cache_path=tmp / "vectors.sqlite")


def run_engine(report: dict, docs: list[IndexDoc], splits: dict, speed_queries: list[str],
               terms: dict[str, str], tune: bool, tmp: Path) -> None:
    """Engine speed (first build encodes every question, second reads the vector cache),
    quality with and without the sentence encoder, and homophone robustness."""
    encoder = _encoder(tmp)
    if encoder is None:
        print("sentence encoder not installed: the engine runs lexical only", file=sys.stderr)
    variants = [(SHIPPED, encoder)] if encoder else []
    variants.append((LEXICAL, None))
    for name, enc in variants:
        run = speed(lambda: SearchIndex(terms=terms, encoder=enc), docs, speed_queries,
                    lambda ix, q: ix.search(q))
        index = run.pop("_index")
        first = "first build, encodes every question" if enc else "first build"
        report["speed"].append({"system": f"{name} ({first})", **run})
        if tune:
            index.config = tune_engine(index, splits["dev"])
            print(f"{name} tuned on dev:", index.config)
        report["quality"][name] = {s: quality(engine_system(index), qs, engine_ranking(index))
                                   for s, qs in splits.items()}
        if name == SHIPPED or not encoder:
            base, report["homophones"] = index.config, {}
            for label, cfg in (("with pinyin", base),
                               ("without pinyin (weight_p=0)", replace(base, weight_p=0.0))):
                index.config = cfg
                report["homophones"][label] = quality(engine_system(index), homophone_queries(
                    docs), engine_ranking(index))["per_style"]
            index.config = base
        del index
        gc.collect()
        if enc:
            run = speed(lambda: SearchIndex(terms=terms, encoder=enc), docs, speed_queries,
                        lambda ix, q: ix.search(q), edit=True)
            del run["_index"]
            report["speed"].append({"system": f"{name} (second build, cached vectors)", **run})


def run_baselines(report: dict, docs: list[IndexDoc], splits: dict,
                  speed_queries: list[str]) -> None:
    """BM25 and TF-IDF baselines: speed, dev-tuned answer threshold, quality."""
    for name, cls in (("bm25 (jieba + rank_bm25)", Bm25Baseline),
                      ("tfidf (char 1-2)", TfidfBaseline)):
        run = speed(cls, docs, speed_queries, lambda ix, q: ix.search(q), reps=1)
        base = run.pop("_index")
        report["speed"].append({"system": name, **run})
        th = tune_threshold(base, splits["dev"])
        report["quality"][f"{name}, answer ≥ {th:.3g}"] = {
            s: quality(base.search, qs) for s, qs in splits.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print markdown tables and write ``bench/out/kb.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_kb")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--dev", type=Path, default=REPO / "bench" / "data" / "kb_dev.jsonl")
    parser.add_argument("--test", type=Path, default=REPO / "bench" / "data" / "kb_test.jsonl")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--scale", type=int, default=20000, help="0 skips the scale-up run")
    parser.add_argument("--tune", action="store_true", help="grid-search thresholds on dev")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (default 1, as in a request-serving process: the "
                             "index only does small matrix-vector products; 0 leaves the default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import jieba

    jieba.setLogLevel(logging.WARNING)
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
    faq = args.data / "gov_faq_beijing.jsonl"
    if not faq.exists():
        print(f"missing {faq}: set GOVBOT_SHARED_DATA or --data", file=sys.stderr)
        return 2
    docs = load_faq_docs(faq)
    splits = {name: load_queries(path) for name, path in (("dev", args.dev), ("test", args.test))
              if path.exists()}
    if "dev" not in splits:
        print(f"missing {args.dev}", file=sys.stderr)
        return 2
    speed_queries = [q["query"] for qs in splits.values() for q in qs]
    messages = args.data / "citizen_messages_beijing.jsonl"
    if messages.exists():
        with open(messages, encoding="utf-8") as fh:
            speed_queries += [json.loads(line)["message"] for _, line in zip(range(200), fh)]
    report: dict = {"docs": len(docs), "splits": {k: len(v) for k, v in splits.items()},
                    "speed_queries": len(speed_queries), "quality": {}, "speed": [],
                    "targets": TARGETS, "blas_threads": args.blas_threads or "default",
                    "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]}
    terms = shipped_terms()
    tmp = tempfile.TemporaryDirectory(prefix="bench-kb-")
    run_engine(report, docs, splits, speed_queries, terms, args.tune, Path(tmp.name))
    run_baselines(report, docs, splits, speed_queries)
    if args.scale:
        big = synthetic_docs(docs, args.scale)
        encoder = _encoder(Path(tmp.name))
        for name, make, reps in ((f"{SHIPPED} (encodes every question)",
                                  lambda: SearchIndex(terms=terms, encoder=encoder), 3),
                                 ("tfidf (char 1-2)", TfidfBaseline, 1)):
            run = speed(make, big, speed_queries, lambda ix, q: ix.search(q), reps=reps,
                        edit=name.startswith(SHIPPED))
            del run["_index"]
            report["speed"].append({"system": name, **run})
            gc.collect()
    report["matching"] = matching(args.data)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(render(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
