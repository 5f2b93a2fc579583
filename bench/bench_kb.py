"""Knowledge-retrieval benchmark: quality, question matching, speed and memory, with baselines."""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from bench.kb_baselines import Bm25Baseline, TfidfBaseline, tune_threshold
from bench.kb_citizen import clarify_sweep, load_labelled, usefulness
from bench.kb_data import (REPO, default_data_dir, homophone_queries, load_faq_docs,
                           load_queries, shipped_terms, synthetic_docs)
from bench.kb_report import BEFORE, LEXICAL, SHIPPED, TARGETS, render
from bench.kb_speed import speed
from knowledge.decide import RetrievalConfig, SearchResult
from knowledge.encoder import SentenceEncoder
from knowledge.index import IndexDoc, SearchIndex

_LOGGER = logging.getLogger(__name__)

OUT = REPO / "bench" / "out" / "kb.json"

System = Callable[[str], SearchResult]


# ---------------------------------------------------------------------------- quality
def quality(system: System, queries: Sequence[dict],
            ranking: Callable[[str], list[str]] | None = None) -> dict:
    """Top-1, MRR@5, no-answer declined, confident-wrong, answered right (a direct and right
    answer), and per style: top-1 (declined for unanswerable), answered right, answered wrong.

    ``ranking`` gives the top-5 entry ids when the result's candidates are cut short (a clarify
    list holds at most three); by default the result's candidates are the ranking.
    """
    answerable = [q for q in queries if q["gold"]]
    unanswerable = [q for q in queries if not q["gold"]]
    top1 = mrr = declined = wrong = answered_right = 0.0
    styles: dict[str, list[float]] = {}
    direct: dict[str, list[float]] = {}
    wrong_by_style: dict[str, int] = {}
    for q in queries:
        res = system(q["query"])
        ids = [c.id for c in res.candidates]
        gold = set(q["gold"])
        style = q.get("style", "?")
        if res.decision == "answer" and ids[0] not in gold:
            wrong += 1
            wrong_by_style[style] = wrong_by_style.get(style, 0) + 1
        if not gold:
            declined += res.decision != "answer"
            styles.setdefault(style, []).append(float(res.decision != "answer"))
            continue
        hit = bool(ids) and ids[0] in gold
        top1 += hit
        answered_right += hit and res.decision == "answer"
        direct.setdefault(style, []).append(float(hit and res.decision == "answer"))
        ranked = ranking(q["query"]) if ranking else ids
        rank = next((i for i, d in enumerate(ranked[:5]) if d in gold), None)
        mrr += 0.0 if rank is None else 1.0 / (rank + 1)
        styles.setdefault(q.get("style", "?"), []).append(float(hit))
    n_a, n_u = max(len(answerable), 1), max(len(unanswerable), 1)
    return {"queries": len(queries), "top1": top1 / n_a, "mrr5": mrr / n_a,
            "declined": declined / n_u if unanswerable else None,
            "confident_wrong": wrong / max(len(queries), 1),
            "answered_right": answered_right / n_a,
            "per_style": {k: round(sum(v) / len(v), 4) for k, v in sorted(styles.items())},
            "per_style_answered": {k: round(sum(v) / len(v), 4) for k, v in sorted(direct.items())},
            "per_style_wrong": {k: wrong_by_style.get(k, 0) for k in sorted(styles)}}


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


def _encoder(tmp: Path) -> SentenceEncoder | None:
    """The installed encoder with a fresh vector cache in ``tmp`` (so the first build really
    encodes every question), or None when it is not installed."""
    from knowledge.encoder import default_dir, load_default

    if load_default() is None:
        return None
    return SentenceEncoder(default_dir(), cache_path=tmp / "vectors.sqlite")


def warm_up(terms: dict[str, str], encoder: SentenceEncoder | None) -> float:
    """Build and search an index of 20 seed entries once, so that the builds timed next leave
    out what a process loads once on first use (jieba's and pypinyin's dictionaries, OpenCC,
    scikit-learn, the encoder's first runs); a server pays that at start-up.

    Args:
        terms: The shipped terms.
        encoder: The encoder the timed builds use (None: lexical only).

    Returns:
        Seconds taken.
    """
    from knowledge.seed import SEED_DIR

    with open(SEED_DIR / "entries.jsonl", encoding="utf-8") as fh:  # not the benchmark's texts
        seed = [json.loads(line) for _, line in zip(range(20), fh)]
    t0 = time.perf_counter()
    index = SearchIndex(terms=terms, encoder=encoder)
    index.build([IndexDoc(e["id"], e["question"], tuple(e["similar_questions"]), e["answer"])
                 for e in seed])
    index.search(seed[0]["question"])
    return round(time.perf_counter() - t0, 3)


def run_engine(report: dict, docs: list[IndexDoc], splits: dict, speed_queries: list[str],
               terms: dict[str, str], tune: bool, encoder: SentenceEncoder | None,
               labelled: Sequence[dict] = ()) -> None:
    """Engine speed (first build encodes every question, second reads the vector cache),
    quality with and without the sentence encoder, on labelled citizen messages, and
    homophone robustness."""
    if encoder is None:
        print("sentence encoder not installed: the engine runs lexical only", file=sys.stderr)
    variants = [(SHIPPED, encoder)] if encoder else []
    variants.append((LEXICAL, None))
    report["warmup_s"] = warm_up(terms, encoder)
    for name, enc in variants:
        run = speed(lambda: SearchIndex(terms=terms, encoder=enc), docs, speed_queries,
                    lambda ix, q: ix.search(q))
        index = run.pop("_index")
        first = "first build, encodes every question" if enc else "first build"
        report["speed"].append({"system": f"{name} ({first})", **run})
        if tune:
            index.config = tune_engine(index, splits["dev"])
            print(f"{name} tuned on dev:", index.config)
        shipped = index.config
        for label, cfg in ((name, shipped),) + (
                ((BEFORE, replace(shipped, sibling_min_score=0.0, focus_second_look=False)),)
                if name == SHIPPED else ()):
            index.config = cfg
            report["quality"][label] = {s: quality(engine_system(index), qs,
                                                   engine_ranking(index))
                                        for s, qs in splits.items()}
            if labelled:
                report["citizen"][label] = usefulness(engine_system(index), labelled)
        index.config = shipped
        if labelled and name == SHIPPED:
            report["clarify_sweep"] = clarify_sweep(index, labelled, splits["dev"])
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
                  speed_queries: list[str], labelled: Sequence[dict] = ()) -> None:
    """BM25 and TF-IDF baselines: speed, dev-tuned answer threshold, quality."""
    for name, cls in (("bm25 (jieba + rank_bm25)", Bm25Baseline),
                      ("tfidf (char 1-2)", TfidfBaseline)):
        run = speed(cls, docs, speed_queries, lambda ix, q: ix.search(q), reps=1)
        base = run.pop("_index")
        report["speed"].append({"system": name, **run})
        th = tune_threshold(base, splits["dev"])
        report["quality"][f"{name}, answer ≥ {th:.3g}"] = {
            s: quality(base.search, qs) for s, qs in splits.items()}
        if labelled:
            report["citizen"][f"{name}, answer ≥ {th:.3g}"] = usefulness(base.search, labelled)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print markdown tables and write ``bench/out/kb.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_kb")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--dev", type=Path, default=REPO / "bench" / "data" / "kb_dev.jsonl")
    parser.add_argument("--test", type=Path, default=REPO / "bench" / "data" / "kb_test.jsonl")
    parser.add_argument("--citizen", type=Path,
                        default=REPO / "bench" / "data" / "kb_citizen_labels.jsonl")
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
    labelled = load_labelled(args.citizen, messages) if (
        messages.exists() and args.citizen.exists()) else []
    report: dict = {"docs": len(docs), "splits": {k: len(v) for k, v in splits.items()},
                    "speed_queries": len(speed_queries), "quality": {}, "citizen": {},
                    "speed": [],
                    "targets": TARGETS, "blas_threads": args.blas_threads or "default",
                    "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]}
    terms = shipped_terms()
    tmp = tempfile.TemporaryDirectory(prefix="bench-kb-")
    encoder = _encoder(Path(tmp.name))  # one model load, its cache starting empty
    run_engine(report, docs, splits, speed_queries, terms, args.tune, encoder, labelled)
    run_baselines(report, docs, splits, speed_queries, labelled)
    if args.scale:
        big = synthetic_docs(docs, args.scale)
        for name, make, reps in ((f"{SHIPPED} (encodes every question)",
                                  lambda: SearchIndex(terms=terms, encoder=encoder), 5),
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
