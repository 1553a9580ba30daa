"""``hingecheck history CLIENT``: a client's trend over sessions, printed as a table."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from hingecheck.batch.trends import (
    TREND_METRICS,
    HistoryError,
    arrow,
    format_value,
    is_worse,
    sessions_of,
    worsening,
)


def resolve_client(conn: sqlite3.Connection, wanted: str) -> str:
    """The stored client name meant by ``wanted`` (exact, case-insensitive or a unique part of it)."""
    clients = [r[0] for r in conn.execute("SELECT DISTINCT client FROM recordings ORDER BY client")]
    if wanted in clients:
        return wanted
    folded = [c for c in clients if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    partial = [c for c in clients if wanted.casefold() in c.casefold()]
    if len(partial) == 1:
        return partial[0]
    known = ", ".join(clients[:20]) or "none"
    what = "matches several clients" if partial else "is not in the database"
    raise HistoryError(f"client {wanted!r} {what} (known: {known})")


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck history``."""
    p = sub.add_parser("history", help="a client's trend over sessions, from the batch results database")
    p.add_argument("client", metavar="CLIENT", help="client name (as in the batch folders or manifest)")
    p.add_argument("--db", metavar="PATH", default="results.sqlite", help="results database (default ./results.sqlite)")
    p.set_defaults(func=run_history)


def run_history(args: argparse.Namespace) -> int:
    """Print one client's sessions and trend from the batch database."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from hingecheck.batch.store import ResultStore

    db = Path(args.db)
    if not db.is_file():
        raise HistoryError(f"results database not found: {db} (run `hingecheck batch` first, or pass --db)")
    with ResultStore(db) as store:
        client = resolve_client(store.conn, args.client)
        rows = store.recordings(client)
    sessions = sessions_of(rows)
    console = Console()
    problems = [r for r in rows if r["status"] != "ok"]
    table = Table(title=f"{escape(client)}: {len(sessions)} sessions", show_edge=False)
    table.add_column("date")
    table.add_column("recording", overflow="fold")
    table.add_column("reps", justify="right")
    for label, _ in TREND_METRICS.values():
        table.add_column(label, justify="right")
    table.add_column("faults")
    for s in sessions:
        cells = []
        for metric in TREND_METRICS:
            delta = s.change.get(metric)
            mark = arrow(metric, delta)
            style = "red" if is_worse(metric, delta) else ("green" if mark in ("↑", "↓") else "dim")
            cells.append(f"{format_value(metric, s.values[metric])} [{style}]{mark}[/]".strip())
        faults = ", ".join(f"{code}×{n}" for code, n in sorted(s.fault_counts.items())) or "–"
        table.add_row((s.recorded_at or "?")[:10], escape(s.path), str(s.n_reps), *cells, escape(faults))
    console.print(table)
    if worsening(sessions):
        console.print("[bold red]worsening:[/] the latest session is worse than the one before")
    for r in problems:
        console.print(f"[yellow]{r['status']}[/] {escape(r['path'])}: {escape(r['message'] or '')}")
    return 0
