"""A client's trend over sessions, from the results database: ``hingecheck history CLIENT [--db PATH]``.

The trend logic (sessions, changes, what needs attention) is plain functions shared with the batch
dashboard; the command prints it as a rich table with ↑/↓ arrows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hingecheck.core.errors import HingecheckError

# metric → (label, True when a rise is an improvement)
TREND_METRICS: dict[str, tuple[str, bool]] = {
    "fault_rate": ("fault rate", False),
    "mean_lumbar_share": ("lumbar share", False),
    "mean_hinge_capacity_deg": ("hinge capacity °", True),
}
STEADY = {"fault_rate": 0.05, "mean_lumbar_share": 0.03, "mean_hinge_capacity_deg": 3.0}  # changes below: "same"


class HistoryError(HingecheckError):
    """A history request that cannot be answered (no database, unknown client): one line."""

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
    """Whether a change of ``delta`` in this metric is a worsening beyond its steady band."""
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
    """A metric's value for tables: shares as percentages, angles in degrees, '–' when unknown."""
    if value is None:
        return "–"
    if metric in ("fault_rate", "mean_lumbar_share"):
        return f"{value:.0%}"
    return f"{value:.0f}°"


def trend_cells(session: Session | None) -> list[dict[str, Any]]:
    """A session's trend metrics for a table: value, text, arrow and whether it got worse (dashboard, portal)."""
    cells = []
    for metric, (label, _) in TREND_METRICS.items():
        value = session.values.get(metric) if session else None
        delta = session.change.get(metric) if session else None
        cells.append(
            {
                "metric": metric,
                "label": label,
                "value": value,
                "text": format_value(metric, value),
                "arrow": arrow(metric, delta),
                "worse": is_worse(metric, delta),
            }
        )
    return cells
