"""``hingecheck clients add|list``: a clinician's clients and their upload links."""

from __future__ import annotations

import argparse

from hingecheck.serve import require_serve_extra


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck clients`` and its actions."""
    p = sub.add_parser("clients", help="clients of a clinician and their upload links (hingecheck serve)")
    actions = p.add_subparsers(dest="clients_action", required=True)
    add = actions.add_parser("add", help="add a client and print their upload link")
    add.add_argument("name", metavar="NAME")
    lst = actions.add_parser("list", help="a clinician's clients with their live upload links")
    for a in (add, lst):
        a.add_argument("--clinician", required=True, metavar="USER")
        a.add_argument("--data", required=True, metavar="DIR", help="the portal's data folder")
        a.add_argument(
            "--public-url",
            metavar="URL",
            help="base of the links (default from DIR/serve.toml or http://127.0.0.1:8000)",
        )
    p.set_defaults(func=run_clients)


def run_clients(args: argparse.Namespace) -> int:
    """Add a client (printing the upload link) or list clients with their live links."""
    require_serve_extra()
    from hingecheck.serve import accounts
    from hingecheck.serve.config import load_config
    from hingecheck.serve.db import open_data_dir

    base = load_config(args.data, public_url=args.public_url).base_url
    conn = open_data_dir(args.data)
    try:
        clinician = accounts.get_user(conn, args.clinician)
        if args.clients_action == "add":
            _, token = accounts.add_client(conn, clinician, args.name)
            print(f"{base}/u/{token}")
        else:
            for c in accounts.list_clients(conn, clinician):
                live = [r for r in accounts.client_links(conn, int(c["id"])) if r["revoked_at"] is None]
                print(f"{c['name']}\t" + " ".join(f"{base}/u/{r['token']}" for r in live))
    finally:
        conn.close()
    return 0
