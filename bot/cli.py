"""The ``govbot`` command: serve, train, shell, kb …, db upgrade."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Optional, Sequence

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One BLAS thread: request-serving latency is steadier (see bench/bench_kb.py --blas-threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.settings import Settings  # noqa: E402

_LOGGER = logging.getLogger(__name__)

DESCRIPTION = "govbot 政务服务智能助手 / accessible government-service assistant"


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "db", None))


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.server import run
    from bot.training import model_path
    from knowledge.decide import LEXICAL_CONFIG, RetrievalConfig, with_thresholds
    settings = _settings(args)
    for tuned in (RetrievalConfig(), LEXICAL_CONFIG):  # refuse bad thresholds before serving
        with_thresholds(tuned, *settings.thresholds)
    if settings.sip_listen:
        from bot.sip_cli import check_sip_settings
        check_sip_settings(settings)
    if not model_path(settings).is_file():
        print("未找到模型，请先运行 `govbot train` / no model: run `govbot train` first",
              file=sys.stderr)
        return 2
    print(f"==> 正在启动 / starting on http://{args.host}:{args.port}", flush=True)
    run(settings, args.host, args.port)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.bootstrap import prepare_database
    from bot.training import nlu_report, train
    settings = _settings(args)
    engine = prepare_database(settings)
    if args.nlu_report:
        train(settings, engine, force=False)
        scores = nlu_report(settings, folds=args.folds)
        print(json.dumps(scores, ensure_ascii=False, indent=1))
        return 0
    train(settings, engine, force=args.force)
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    from bot.shell import run_shell
    return asyncio.run(run_shell(_settings(args), args.sender))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from knowledge.db import make_engine, upgrade
    settings = _settings(args)
    settings.ensure_dirs()
    upgrade(make_engine(settings.database_url))
    print("数据库已是最新结构 / database migrated to head")
    return 0


def cmd_actions(args: argparse.Namespace) -> int:
    """A separate rasa-sdk action server, sharing the database with the servers."""
    from actions import runtime
    from bot.bootstrap import open_services
    from rasa_sdk.endpoint import run as run_action_server
    settings = _settings(args)
    kb, records = open_services(settings)
    runtime.install(runtime.Services(kb=kb, records=records, hotline=settings.hotline))
    run_action_server("actions", port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (Chinese / English help)."""
    parser = argparse.ArgumentParser(prog="govbot", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="详细日志 / verbose logging")
    sub = parser.add_subparsers(dest="command", metavar="命令/command", required=True)
    db_help = "数据库地址（默认 GOVBOT_DATABASE_URL）/ database URL"

    serve = sub.add_parser("serve", help="启动服务 / run the server")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址 / bind address")
    serve.add_argument("--port", type=int, default=8080, help="端口 / port")
    serve.add_argument("--db", help=db_help)
    serve.set_defaults(func=cmd_serve)

    train = sub.add_parser("train", help="训练模型（仅在过期时）/ train the model if stale")
    train.add_argument("--force", action="store_true", help="强制重新训练 / retrain anyway")
    train.add_argument("--nlu-report", action="store_true",
                       help="交叉验证意图识别并输出报告 / cross-validate NLU and report")
    train.add_argument("--folds", type=int, default=5, help="交叉验证折数 / folds")
    train.add_argument("--db", help=db_help)
    train.set_defaults(func=cmd_train)

    shell = sub.add_parser("shell", help="在终端对话 / chat in the terminal")
    shell.add_argument("--sender", default="shell", help="会话编号 / conversation id")
    shell.add_argument("--db", help=db_help)
    shell.set_defaults(func=cmd_shell)

    actions = sub.add_parser("actions", help="单独的动作服务器 / a separate action server")
    actions.add_argument("--port", type=int, default=5055, help="端口 / port")
    actions.add_argument("--db", help=db_help)
    actions.set_defaults(func=cmd_actions)

    db = sub.add_parser("db", help="数据库 / database")
    db_sub = db.add_subparsers(dest="db_command", metavar="命令/command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="迁移到最新结构 / migrate to the latest schema")
    upgrade.add_argument("--db", help=db_help)
    upgrade.set_defaults(func=cmd_db_upgrade)

    from bot.admin_cli import add_admin_commands
    from bot.kb_cli import add_kb_commands
    from bot.sip_cli import add_sip_commands
    from bot.staff_cli import add_staff_commands
    from bot.wechat_cli import add_wechat_commands
    add_kb_commands(sub, db_help)
    add_wechat_commands(sub, db_help)
    add_staff_commands(sub, db_help)
    add_sip_commands(sub)
    add_admin_commands(sub, db_help)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``govbot`` console script."""
    from bot.fastload import skip_jax

    skip_jax()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verbose:
        from bot.quiet import quiet_warnings
        quiet_warnings()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        import jieba
        jieba.setLogLevel(logging.WARNING)
    from knowledge.errors import KnowledgeError
    try:
        return int(args.func(args) or 0)
    except KnowledgeError as exc:
        print(f"错误 / error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
