"""``govbot admin create-user NAME --role editor|reviewer|admin``: console accounts (the
password from the terminal, or from standard input with ``--password-stdin``)."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from knowledge.errors import ValidationError


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 / password: ")
    if getpass.getpass("再输一次 / again: ") != first:
        raise ValidationError("两次输入的密码不一致 / the passwords differ", "password")
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    from bot.bootstrap import prepare_database
    from bot.settings import Settings
    from knowledge.staff import StaffStore
    password = read_password(args.password_stdin)
    engine = prepare_database(Settings.from_env(database_url=args.db), seed=False)
    StaffStore(engine).create_user(args.name, args.role, password, actor="cli")
    print(f"已创建账号 {args.name}（{args.role}）/ created {args.name} ({args.role})")
    return 0


def cmd_list_users(args: argparse.Namespace) -> int:
    from bot.bootstrap import prepare_database
    from bot.settings import Settings
    from knowledge.staff import StaffStore
    engine = prepare_database(Settings.from_env(database_url=args.db), seed=False)
    for user in StaffStore(engine).users():
        print(f"{user['name']}\t{user['role']}\t{'locked' if user['locked'] else 'ok'}")
    return 0


def add_admin_commands(sub: Any, db_help: str) -> None:
    """``govbot admin create-user`` and ``govbot admin users``."""
    from knowledge.models import STAFF_ROLES
    admin = sub.add_parser("admin", help="工作台账号 / console accounts")
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="命令/command", required=True)
    create = admin_sub.add_parser("create-user", help="新建账号 / create an account")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=STAFF_ROLES)
    create.add_argument("--password-stdin", action="store_true",
                        help="从标准输入读一行密码 / read the password from standard input")
    create.add_argument("--db", help=db_help)
    create.set_defaults(func=cmd_create_user)
    users = admin_sub.add_parser("users", help="列出账号 / list accounts")
    users.add_argument("--db", help=db_help)
    users.set_defaults(func=cmd_list_users)
