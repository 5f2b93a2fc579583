"""``govbot answer …``: staff answer a handoff or a request a resident left; the answer is
pushed back on the resident's channel where it can push, and the record says what happened."""
from __future__ import annotations

import argparse
import json
from typing import Any, Dict

from knowledge.errors import NotFoundError, ValidationError

def deliver_answer(engine: Any, record: Dict[str, Any], text: str) -> str:
    """Queue the answer for the resident's channel; returns the note for the staff record."""
    from knowledge.handoffs import ANSWER_PREFIX, push_note
    return push_note(engine, str(record["sender"]), ANSWER_PREFIX + text, record["ref"])


def cmd_answer(args: argparse.Namespace) -> int:
    from bot.bootstrap import prepare_database
    from bot.settings import Settings
    from knowledge.records import Records
    text = args.text.strip()
    if not text:
        raise ValidationError("回复内容不能为空 / the answer is empty", "text")
    engine = prepare_database(Settings.from_env(database_url=args.db), seed=False)
    records = Records(engine)
    if args.kind == "handoff":
        record = records.get_handoff(int(args.id))
    else:
        record = records.get_ticket(args.id)
    if record is None:
        raise NotFoundError(f"没有 {args.kind} {args.id} / no such {args.kind}")
    note = deliver_answer(engine, record, text)
    records.save_answer(args.kind, record["id"], text, note, args.actor)
    print(json.dumps({"kind": args.kind, "id": args.id, "note": note}, ensure_ascii=False))
    return 0


def add_staff_commands(sub: Any, db_help: str) -> None:
    """``govbot answer handoff ID TEXT`` and ``govbot answer ticket NUMBER TEXT``."""
    answer = sub.add_parser("answer", help="工作人员答复转人工或留言 / answer a handoff or request")
    answer.add_argument("kind", choices=["handoff", "ticket"])
    answer.add_argument("id", help="转接单号或工单号 / handoff id or ticket number")
    answer.add_argument("text", help="答复内容 / the answer")
    answer.add_argument("--actor", default="staff", help="答复人 / who answers")
    answer.add_argument("--db", help=db_help)
    answer.set_defaults(func=cmd_answer)

