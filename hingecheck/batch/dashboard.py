"""The batch dashboard: OUTDIR/index.html (what needs attention first) and a page per client with trends.

Self-contained HTML (Jinja2, autoescaped; plots as inline PNG; a little inline JS for sorting and filters).
File and client names come from uploads, so they are only ever rendered escaped and never build a path
on their own (client pages are named by ``batch.client_dir_name``).
"""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hingecheck.batch.discovery import client_dir_name
from hingecheck.batch.store import ResultStore
from hingecheck.batch.trends import (
    TREND_METRICS,
    Session,
    attention_score,
    sessions_of,
    trend_cells,
    worsening,
)
from hingecheck.io.sinks import atomic_open

TEMPLATES = Path(__file__).resolve().parent.parent / "report" / "templates"
PROBLEM_STATUSES = frozenset({"no_person", "not_a_video", "corrupt", "timeout", "error"})


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.0%}"
    env.filters["deg"] = lambda v: "–" if v is None else f"{v:.0f}°"
    return env


def trend_png(client: str, sessions: list[Session]) -> str | None:
    """Three small panels over sessions (lumbar share, hinge capacity, fault rate) as a data: URI."""
    if not sessions:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [(s.recorded_at or "?")[:10] for s in sessions]
    x = list(range(len(sessions)))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.0), dpi=96, sharex=True)
    for ax, metric in zip(axes, ("mean_lumbar_share", "mean_hinge_capacity_deg", "fault_rate"), strict=True):
        values = [s.values.get(metric) for s in sessions]
        pts = [(i, v) for i, v in zip(x, values, strict=True) if v is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="#1f5fa8")
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes, color="#888")
        ax.set_title(TREND_METRICS[metric][0], fontsize=10)
        if metric != "mean_hinge_capacity_deg":
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _link(outdir: Path, target: str | None, base: str = "") -> str | None:
    """A relative link to a file inside OUTDIR (None for anything else, e.g. another batch's folder)."""
    if not target:
        return None
    path = Path(target)
    if not path.is_absolute():
        path = outdir / path
    try:
        rel = path.resolve().relative_to(outdir.resolve())
    except ValueError:
        return None
    return base + rel.as_posix() if path.exists() else None


def _report_of(output_dir: str | None, outdir: Path, base: str = "") -> tuple[str | None, str]:
    """Link to a recording's report.html, else its summary.json; with a label saying which."""
    if not output_dir:
        return None, ""
    folder = Path(output_dir) if Path(output_dir).is_absolute() else outdir / output_dir
    for name, label in (("report.html", "report"), ("summary.json", "summary")):
        link = _link(outdir, str(folder / name), base)
        if link:
            return link, label
    return None, ""


def build_context(outdir: Path, store: ResultStore, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the templates show, sorted by what needs attention. ``items`` are batch.json items."""
    clients = _client_rows(store, items)
    recordings = _recording_rows(outdir, items, clients)
    fault_codes = sorted({c for r in recordings for c in r["fault_codes"]})
    statuses = sorted({r["effective_status"] for r in recordings})
    return {
        "clients": clients,
        "recordings": recordings,
        "fault_codes": fault_codes,
        "statuses": statuses,
        "metric_labels": [label for label, _ in TREND_METRICS.values()],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {s: sum(1 for r in recordings if r["effective_status"] == s) for s in statuses},
        "n_unchanged": sum(1 for r in recordings if r["status"] == "skipped_unchanged"),
    }


def _client_rows(store: ResultStore, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per client with its sessions and trend, the clients needing most attention first."""
    by_client: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_client[item["client"]].append(item)
    clients: list[dict[str, Any]] = []
    for name, client_items in by_client.items():
        sessions = sessions_of(store.recordings(name))
        problems = [i for i in client_items if _effective_status(i) in PROBLEM_STATUSES]
        last = sessions[-1] if sessions else None
        clients.append(
            {
                "name": name,
                "page": f"clients/{client_dir_name(name)}.html",
                "sessions": sessions,
                "n_files": len(client_items),
                "n_problems": len(problems),
                "latest": last,
                "worsening": worsening(sessions),
                "attention": attention_score(sessions, len(problems)),
                "cells": trend_cells(last),
            }
        )
    clients.sort(key=lambda c: (-c["attention"], c["name"]))
    return clients


def _recording_rows(outdir: Path, items: list[dict[str, Any]], clients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per input file: files to re-record first, then faults, then the sessions that made a trend worse."""
    client_rank = {c["name"]: i for i, c in enumerate(clients)}
    worsened = {(c["name"], c["latest"].path) for c in clients if c["worsening"] and c["latest"] is not None}
    recordings = []
    for item in items:
        status = _effective_status(item)
        n = item.get("n_reps") or 0
        fault_rate = (item.get("n_reps_with_faults") or 0) / n if n else None
        link, link_label = _report_of(item.get("output_dir"), outdir)
        recordings.append(
            {
                **item,
                "effective_status": status,
                "shown_message": item.get("result_message")
                if item["status"] == "skipped_unchanged"
                else item["message"],
                "fault_rate": fault_rate,
                "fault_codes": sorted(item.get("fault_counts") or {}),
                "link": link,
                "link_label": link_label,
                "worsened": (item["client"], item["path"]) in worsened,
                # files to re-record first, then faults, then the session that made a client's trend worse
                "attention": round(
                    (1.0 if status in PROBLEM_STATUSES else 0.0)
                    + (fault_rate or 0.0)
                    + (0.5 if (item["client"], item["path"]) in worsened else 0.0),
                    4,
                ),
                "client_rank": client_rank[item["client"]],
            }
        )
    recordings.sort(key=lambda r: (-r["attention"], r["client_rank"], r["path"]))
    return recordings


def _effective_status(item: dict[str, Any]) -> str:
    """The status that describes the recording: for a skipped file, what its earlier analysis found."""
    if item["status"] == "skipped_unchanged" and item.get("previous_status"):
        return item["previous_status"]
    return item["status"]


def write_dashboard(outdir: Path, store: ResultStore, items: list[dict[str, Any]]) -> Path:
    """Write OUTDIR/index.html and OUTDIR/clients/<client>.html; returns the index path."""
    env = _env()
    ctx = build_context(outdir, store, items)
    (outdir / "clients").mkdir(exist_ok=True)
    for client in ctx["clients"]:
        rows = []
        for s in client["sessions"]:
            link, label = _report_of(s.output_dir, outdir, base="../")
            rows.append({"session": s, "cells": trend_cells(s), "link": link, "link_label": label})
        page = env.get_template("dashboard_client.html").render(
            client=client,
            rows=rows,
            plot=trend_png(client["name"], client["sessions"]),
            problems=[r for r in ctx["recordings"] if r["client"] == client["name"] and r["attention"] >= 1.0],
            generated_at=ctx["generated_at"],
        )
        with atomic_open(outdir / client["page"], encoding="utf-8") as fh:
            fh.write(page)
    index = outdir / "index.html"
    html = env.get_template("dashboard_index.html").render(**ctx)
    with atomic_open(index, encoding="utf-8") as fh:
        fh.write(html)
    return index
