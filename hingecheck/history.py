"""A client's trend over sessions, from the results database: ``hingecheck history CLIENT [--db PATH]``.

The trend logic (sessions, changes, what needs attention) is plain functions shared with the batch
dashboard; the command prints it as a rich table with ↑/↓ arrows.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HingecheckError

# metric → (label, True when a rise is an improvement)
TREND_METRICS: dict[str, tuple[str, bool]] = {
    "fault_rate": ("fault rate", False),
    "mean_lumbar_share": ("lumbar share", False),
    "mean_hinge_capacity_deg": ("hinge capacity °", True),
}
STEADY = {"fault_rate": 0.05, "mean_lumbar_share": 0.03, "mean_hinge_capacity_deg": 3.0}  # changes below: "same"


class HistoryError(HingecheckError):
    status = "error"


@dataclass
class Session:
    """One analysed recording of a client, with its change against the previous session."""

    recorded_at: str | None
    path: str
    status: str
    n_reps: int
    values: dict[str, float | None]
    output_dir: str | None
    fault_counts: dict[str, int] = field(default_factory=dict)
    change: dict[str, float | None] = field(default_factory=dict)  # vs the previous session with a value


def _row_get(row: Any, key: str, default: Any = None) -> Any:
    try:
        return row[key]
    except (IndexError, KeyError):
        return default


def sessions_of(rows: Sequence[Any]) -> list[Session]:
    """Sessions (successful analyses) in date order, each with its change against the previous one."""
    import json

    ok = [r for r in rows if r["status"] == "ok"]
    ok.sort(key=lambda r: (r["recorded_at"] or "", r["path"]))
    out: list[Session] = []
    last: dict[str, float] = {}
    for r in ok:
        values = {m: r[m] for m in TREND_METRICS}
        change = {m: (None if v is None or m not in last else round(v - last[m], 4)) for m, v in values.items()}
        last.update({m: v for m, v in values.items() if v is not None})
        out.append(
            Session(
                recorded_at=r["recorded_at"],
                path=r["path"],
                status=r["status"],
                n_reps=int(r["n_reps"] or 0),
                values=values,
                output_dir=r["output_dir"],
                fault_counts=json.loads(_row_get(r, "fault_counts_json", "{}") or "{}"),
                change=change,
            )
        )
    return out


def arrow(metric: str, delta: float | None) -> str:
    """↑ / ↓ for a change beyond the steady band, → within it, '' without a previous value."""
    if delta is None:
        return ""
    if abs(delta) < STEADY[metric]:
        return "→"
    return "↑" if delta > 0 else "↓"


def is_worse(metric: str, delta: float | None) -> bool:
    if delta is None or abs(delta) < STEADY[metric]:
        return False
    rise_is_better = TREND_METRICS[metric][1]
    return (delta > 0) != rise_is_better


def worsening(sessions: Sequence[Session]) -> bool:
    """The latest session is worse than the one before on fault rate or lumbar share."""
    if len(sessions) < 2:
        return False
    last = sessions[-1]
    return any(is_worse(m, last.change.get(m)) for m in ("fault_rate", "mean_lumbar_share"))


def attention_score(sessions: Sequence[Session], n_problem_files: int) -> float:
    """How much a client needs a look: latest fault rate, plus worsening, plus files that could not be analysed."""
    score = 0.0
    if sessions:
        last = sessions[-1]
        score += last.values.get("fault_rate") or 0.0
        score += max(0.0, last.change.get("fault_rate") or 0.0)
        score += 0.5 * max(0.0, last.change.get("mean_lumbar_share") or 0.0)
    if n_problem_files:
        score += 0.25
    return round(score, 4)


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    if metric in ("fault_rate", "mean_lumbar_share"):
        return f"{value:.0%}"
    return f"{value:.0f}°"


# --- command ----------------------------------------------------------------------------------------


def resolve_client(conn: sqlite3.Connection, wanted: str) -> str:
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
    p = sub.add_parser("history", help="a client's trend over sessions, from the batch results database")
    p.add_argument("client", metavar="CLIENT", help="client name (as in the batch folders or manifest)")
    p.add_argument("--db", metavar="PATH", default="results.sqlite", help="results database (default ./results.sqlite)")
    p.set_defaults(func=run_history)


def run_history(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .store import ResultStore

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
