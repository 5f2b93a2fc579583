"""``govbot kb …``: import, export, search, seed, history and restore."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Dict, Iterable

_LOGGER = logging.getLogger(__name__)


def _open(args: argparse.Namespace, build_index: bool = False) -> Any:
    from bot.bootstrap import prepare_database
    from bot.settings import Settings
    from knowledge.service import KnowledgeService
    settings = Settings.from_env(database_url=args.db,
                                 answer_threshold=getattr(args, "answer_threshold", None),
                                 clarify_threshold=getattr(args, "clarify_threshold", None))
    engine = prepare_database(settings, seed=False)
    kb = KnowledgeService(engine, thresholds=settings.thresholds)
    if build_index:
        kb.load_index()
    return kb


def cmd_import(args: argparse.Namespace) -> int:
    from knowledge.importer import import_file
    kb = _open(args)
    report = import_file(kb, Path(args.file), actor=args.actor, fmt=args.format,
                         dry_run=args.dry_run, skip_bad_rows=args.skip_bad_rows,
                         encoding=args.encoding, progress=None if not args.no_progress else False)
    for error in report.errors[:50]:
        print(f"  {error}", file=sys.stderr)
    if len(report.errors) > 50:
        print(f"  …… 另有 {len(report.errors) - 50} 处错误", file=sys.stderr)
    if report.errors and not args.skip_bad_rows:
        print(f"发现 {len(report.errors)} 处错误，未导入任何条目（可加 --skip-bad-rows 跳过错误行）"
              f" / nothing imported", file=sys.stderr)
        return 1
    print(("[试运行 dry run] " if args.dry_run else "") + report.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from knowledge.exporter import export_file
    kb = _open(args)
    path = Path(args.file) if args.file and args.file != "-" else None
    count = export_file(kb.engine, path, fmt=args.format, status=args.status, stdout=sys.stdout)
    print(f"已导出 {count} 条 / exported {count}", file=sys.stderr)
    return 0


def _result_json(result: Any, top: int) -> Dict[str, Any]:
    return {"query": result.query, "decision": result.decision,
            "candidates": [{"id": c.id, "score": round(float(c.score), 4), "question": c.question}
                           for c in result.candidates[:top]]}


def _queries(args: argparse.Namespace) -> Iterable[str]:
    if args.file:
        with open(args.file, encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")
    else:
        yield args.query


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query and not args.file:
        print("请给出问题或 --file / give a query or --file", file=sys.stderr)
        return 2
    kb = _open(args, build_index=True)
    for query in _queries(args):
        result = kb.index.search(query, top=args.top)
        if args.json:
            print(json.dumps(_result_json(result, args.top), ensure_ascii=False), flush=True)
            continue
        print(f"决定 decision: {result.decision}")
        for i, c in enumerate(result.candidates[:args.top], 1):
            print(f"  {i}. [{c.score:.3f}] {c.id}  {c.question}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from knowledge.records import Records
    from knowledge.seed import load_seed
    kb = _open(args)
    if args.if_empty and kb.count() > 0:
        print("知识库已有条目，跳过种子导入 / KB not empty, seed skipped")
        return 0
    stats = load_seed(kb, Records(kb.engine))
    print(f"种子知识库 / seed: 新增 {stats['created']}，更新 {stats['updated']}，"
          f"同义词 {stats['terms']}，办件 {stats['cases']}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    kb = _open(args)
    for rev in kb.history(args.key):
        print(json.dumps(rev, ensure_ascii=False))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    kb = _open(args)
    outcome = kb.restore_revision(args.revision, args.actor)
    print(f"已恢复 / restored {outcome.ext_id} -> v{outcome.version}")
    return 0


def add_kb_commands(sub: Any, db_help: str) -> None:
    """Register ``kb`` and its subcommands on the top-level parser."""
    kb = sub.add_parser("kb", help="知识库 / knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="命令/command", required=True)

    imp = kb_sub.add_parser("import", help="导入 JSONL/CSV/XLSX / import entries")
    imp.add_argument("file", help="文件路径 / file path")
    imp.add_argument("--format", choices=["jsonl", "json", "csv", "xlsx"], help="格式 / format")
    imp.add_argument("--dry-run", action="store_true", help="只显示将发生什么 / show, don't write")
    imp.add_argument("--skip-bad-rows", action="store_true", help="跳过错误行 / skip bad rows")
    imp.add_argument("--encoding", default="utf-8", help="文本编码 / text encoding")
    imp.add_argument("--actor", default="import", help="操作人 / who is importing")
    imp.add_argument("--no-progress", action="store_true", help="不显示进度条 / no progress bar")
    imp.set_defaults(func=cmd_import)

    exp = kb_sub.add_parser("export", help="导出 / export entries")
    exp.add_argument("file", nargs="?", help="文件（默认标准输出 JSONL）/ file (default stdout)")
    exp.add_argument("--format", choices=["jsonl", "json", "csv", "xlsx"], help="格式 / format")
    exp.add_argument("--status", choices=["draft", "published", "archived"], help="状态 / status")
    exp.set_defaults(func=cmd_export)

    search = kb_sub.add_parser("search", help="检索 / search")
    search.add_argument("query", nargs="?", help="问题 / question")
    search.add_argument("--file", help="每行一个问题 / one query per line")
    search.add_argument("--top", type=int, default=5, help="候选数 / candidates")
    search.add_argument("--json", action="store_true", help="JSON 输出 / JSON lines")
    search.add_argument("--answer-threshold", type=float, metavar="0..1",
                        help="回答阈值（默认 GOVBOT_ANSWER_THRESHOLD 或调好的值）/ answer threshold")
    search.add_argument("--clarify-threshold", type=float, metavar="0..1",
                        help="追问阈值（默认 GOVBOT_CLARIFY_THRESHOLD 或调好的值）/ clarify "
                             "threshold: below it the answer is none")
    search.set_defaults(func=cmd_search)

    seed = kb_sub.add_parser("seed", help="加载种子知识库 / load the seed KB")
    seed.add_argument("--if-empty", action="store_true",
                      help="仅当知识库为空时导入 / only into an empty KB (never reverts staff edits)")
    seed.set_defaults(func=cmd_seed)

    hist = kb_sub.add_parser("history", help="修订历史 / revision history")
    hist.add_argument("key", help="条目 id 或同义词 / entry id or term")
    hist.set_defaults(func=cmd_history)

    rest = kb_sub.add_parser("restore", help="恢复到某次修订 / restore a revision")
    rest.add_argument("revision", type=int, help="修订号 / revision id")
    rest.add_argument("--actor", default="cli", help="操作人 / who")
    rest.set_defaults(func=cmd_restore)

    for parser in (imp, exp, search, seed, hist, rest):
        parser.add_argument("--db", help=db_help)
