"""What the pages and the API show, read with the clinician's id in every query (ownership is never implied).

A portal recording is a job (an upload) and, once analysed, its row in the results store. The dashboard
orders clients by need for attention: a latest upload to re-record first, then the latest fault rate, then
a worsening trend (``hingecheck.batch.trends``, the batch dashboard's logic).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from hingecheck.batch.trends import sessions_of, trend_cells, worsening
from hingecheck.serve.accounts import User
from hingecheck.serve.jobs import public_status

RERECORD_STATUSES = frozenset({"no_person", "not_a_video", "corrupt", "timeout", "error"})
STATUS_TEXT = {
    "queued": "waiting for analysis",
    "running": "being analysed",
    "ok": "analysed",
    "no_person": "re-record: no person found",
    "not_a_video": "re-record: not a readable video",
    "corrupt": "re-record: damaged video",
    "timeout": "analysis took too long",
    "error": "analysis failed",
}

_JOB_SELECT = (
    "SELECT j.*, c.name AS client_name, r.status AS rec_status, r.n_reps, r.n_reps_with_faults, r.fault_rate, "
    "r.mean_lumbar_share, r.mean_hinge_capacity_deg, r.fault_counts_json, r.warnings_json, r.withheld_json, "
    "r.recorded_at, "
    "r.path AS rec_path, r.output_dir AS rec_output_dir, r.duration_s "
    "FROM jobs j JOIN clients c ON c.id = j.client_id LEFT JOIN recordings r ON r.id = j.recording_id "
)


def own_job(conn: sqlite3.Connection, user: User, job_id: int) -> sqlite3.Row | None:
    """The recording (job) when its client belongs to this clinician, else None."""
    return conn.execute(_JOB_SELECT + "WHERE j.id = ? AND c.clinician_id = ?", (job_id, user.id)).fetchone()


def own_jobs(conn: sqlite3.Connection, user: User, client_id: int | None = None, limit: int = 1000) -> list[Any]:
    """This clinician's recordings (of one client when given), newest first."""
    sql = _JOB_SELECT + "WHERE c.clinician_id = ?"
    args: list[Any] = [user.id]
    if client_id is not None:
        sql += " AND j.client_id = ?"
        args.append(client_id)
    return conn.execute(sql + " ORDER BY j.id DESC LIMIT ?", (*args, limit)).fetchall()


def recording_json(row: sqlite3.Row) -> dict[str, Any]:
    """The API's view of one recording (also the status poll's)."""
    status = public_status(row)
    return {
        "id": int(row["id"]),
        "client": row["client_name"],
        "client_id": int(row["client_id"]),
        "file_name": row["original_name"],
        "status": status,
        "status_text": STATUS_TEXT.get(status, status),
        "message": row["message"] or "",
        "uploaded_at": row["created_at"],
        "recorded_at": row["recorded_at"] or row["created_at"],
        "analysed_at": row["finished_at"],
        "n_reps": row["n_reps"],
        "n_reps_with_faults": row["n_reps_with_faults"],
        "fault_rate": row["fault_rate"],
        "mean_lumbar_share": row["mean_lumbar_share"],
        "mean_hinge_capacity_deg": row["mean_hinge_capacity_deg"],
        "fault_counts": json.loads(row["fault_counts_json"] or "{}") if row["fault_counts_json"] else {},
        "warnings": [w.get("code", w) if isinstance(w, dict) else w for w in json.loads(row["warnings_json"] or "[]")]
        if row["warnings_json"]
        else [],
        "withheld": json.loads(row["withheld_json"] or "{}"),
        "attempts": int(row["attempts"]),
    }


def client_sessions(conn: sqlite3.Connection, client_id: int) -> list[Any]:
    """The trend sessions of one portal client (their analysed recordings, oldest first)."""
    rows = conn.execute(
        "SELECT r.* FROM recordings r JOIN jobs j ON j.recording_id = r.id WHERE j.client_id = ?", (client_id,)
    ).fetchall()
    return sessions_of(rows)


def dashboard_clients(conn: sqlite3.Connection, user: User) -> list[dict[str, Any]]:
    """The clinician's clients, most in need of attention first."""
    out = []
    clients = conn.execute("SELECT * FROM clients WHERE clinician_id = ?", (user.id,)).fetchall()
    for client in clients:
        jobs = own_jobs(conn, user, int(client["id"]), limit=50)
        finished = [j for j in jobs if j["state"] in ("done", "failed")]
        latest_status = public_status(finished[0]) if finished else None
        sessions = client_sessions(conn, int(client["id"]))
        last = sessions[-1] if sessions else None
        fault_rate = last.values.get("fault_rate") if last else None
        rerecord = latest_status in RERECORD_STATUSES
        worse = worsening(sessions)
        out.append(
            {
                "id": int(client["id"]),
                "name": client["name"],
                "n_uploads": len(jobs),
                "n_pending": sum(1 for j in jobs if j["state"] in ("queued", "running")),
                "latest_status": latest_status,
                "latest_status_text": STATUS_TEXT[latest_status]
                if latest_status
                else ("first upload in analysis" if jobs else "no upload yet"),
                "rerecord": rerecord,
                "fault_rate": fault_rate,
                "worsening": worse,
                "cells": trend_cells(last),
                "last_upload": jobs[0]["created_at"] if jobs else None,
            }
        )
    out.sort(key=lambda c: (not c["rerecord"], -(c["fault_rate"] or 0.0), not c["worsening"], c["name"].casefold()))
    return out


def rep_rows(store_reps: list[Any], store_faults: list[Any]) -> list[dict[str, Any]]:
    """The recording page's rep table (faults with their time, for click-to-seek)."""
    from hingecheck.report.html import fault_title

    by_rep: dict[int, list[dict[str, Any]]] = {}
    for f in store_faults:
        by_rep.setdefault(int(f["rep_index"]), []).append(
            {
                "code": f["code"],
                "title": fault_title(f["code"]),
                "time_s": f["time_s"],
                "cue": f["cue"],
                "message": f["message"],
            }
        )
    return [
        {
            "index": int(r["rep_index"]),
            "partial": bool(r["partial"]),
            "start_s": r["start_s"],
            "hip": r["peak_hip_flexion_deg"],
            "lumbar": r["peak_lumbar_flexion_deg"],
            "share": r["lumbar_share"],
            "capacity": r["hinge_capacity_deg"],
            "faults": by_rep.get(int(r["rep_index"]), []),
        }
        for r in store_reps
    ]


def notes_of(conn: sqlite3.Connection, job_id: int) -> list[Any]:
    """The notes of a recording, oldest first, with their author."""
    return conn.execute(
        "SELECT n.body, n.created_at, u.name AS author FROM notes n JOIN users u ON u.id = n.user_id "
        "WHERE n.job_id = ? ORDER BY n.id",
        (job_id,),
    ).fetchall()


CSV_COLUMNS = (
    "id",
    "client",
    "file_name",
    "status",
    "uploaded_at",
    "analysed_at",
    "n_reps",
    "n_reps_with_faults",
    "fault_rate",
    "mean_lumbar_share",
    "mean_hinge_capacity_deg",
    "fault_counts",
    "warnings",
)


def csv_rows(conn: sqlite3.Connection, user: User) -> list[list[Any]]:
    """The CSV export's rows (formula-looking text defused)."""
    rows = []
    for job in own_jobs(conn, user, limit=100_000):
        d = recording_json(job)
        row = []
        for col in CSV_COLUMNS:
            v = d.get(col)
            if isinstance(v, dict):
                v = ";".join(f"{k}={n}" for k, n in sorted(v.items()))
            elif isinstance(v, list):
                v = ";".join(map(str, v))
            row.append(_csv_safe(v))
        rows.append(row)
    return rows


def _csv_safe(value: Any) -> Any:
    """Text cells that a spreadsheet would run as a formula get a leading quote (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
