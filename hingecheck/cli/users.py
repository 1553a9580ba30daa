"""``hingecheck users add|password|token|revoke-tokens|list|remove|audit``: a portal's clinician accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from hingecheck.serve import require_serve_extra


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck users`` and its actions."""
    p = sub.add_parser("users", help="clinician accounts of the portal (hingecheck serve)")
    actions = p.add_subparsers(dest="users_action", required=True)
    add = actions.add_parser("add", help="add a clinician")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    token = actions.add_parser("token", help="print a new API token for NAME (shown once, stored hashed)")
    token.add_argument("name", metavar="NAME")
    password = actions.add_parser("password", help="replace NAME's password (ends their browser sessions)")
    password.add_argument("name", metavar="NAME")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    revoke = actions.add_parser("revoke-tokens", help="delete every API token of NAME")
    revoke.add_argument("name", metavar="NAME")
    actions.add_parser("list", help="list the clinicians")
    remove = actions.add_parser("remove", help="remove a clinician with their clients, uploads and results")
    remove.add_argument("name", metavar="NAME")
    audit = actions.add_parser("audit", help="who viewed, downloaded, exported or deleted what")
    audit.add_argument("--user", metavar="NAME", help="only this clinician")
    audit.add_argument("--limit", type=int, default=200)
    for a in (add, token, password, revoke, remove, audit, actions.choices["list"]):
        a.add_argument("--data", required=True, metavar="DIR", help="the portal's data folder")
    p.set_defaults(func=run_users)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("hingecheck: the passwords differ")
    return first


def run_users(args: argparse.Namespace) -> int:
    """Add, list or remove clinicians, print an API token, or print the audit log."""
    require_serve_extra()
    from hingecheck.serve import accounts
    from hingecheck.serve.db import audit_rows, open_data_dir

    conn = open_data_dir(args.data)
    try:
        if args.users_action == "add":
            user = accounts.add_user(conn, args.name, _password(args))
            print(f"added clinician {user.name}")
        elif args.users_action == "token":
            print(accounts.new_api_token(conn, args.name))
        elif args.users_action == "password":
            accounts.set_password(conn, args.name, _password(args))
            print(f"password of {args.name} replaced; their browser sessions are ended")
        elif args.users_action == "revoke-tokens":
            print(f"{accounts.revoke_api_tokens(conn, args.name)} API token(s) of {args.name} revoked")
        elif args.users_action == "list":
            for u in accounts.list_users(conn):
                print(f"{u['name']}\t{u['n_clients']} clients\t{u['n_tokens']} API tokens\tsince {u['created_at']}")
        elif args.users_action == "remove":
            accounts.remove_user(conn, Path(args.data).resolve(), args.name)
            print(f"removed clinician {args.name} with their clients, uploads and results")
        elif args.users_action == "audit":
            for r in audit_rows(conn, args.user, args.limit):
                print(f"{r['at']}\t{r['user_name']}\t{r['action']}\t{r['object']}\t{r['ip']}")
    finally:
        conn.close()
    return 0
