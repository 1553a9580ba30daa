"""The clinician's pages: dashboard, clients (trend, history, upload links with QR), recordings (video, rep
table with click-to-seek, notes, the full report), CSV export, status polling and the audit log.

Every handler looks the object up *with the clinician's id* (``views.own_job``, ``accounts.own_client``):
another clinician's client, recording, report or video answers 404 whatever the URL. Files are found from
the database row, never from a path in the request. Every POST checks the session's CSRF token.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import segno
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hingecheck.serve import accounts, views
from hingecheck.serve.accounts import User
from hingecheck.serve.db import audit, audit_rows, now_iso
from hingecheck.serve.web import (
    check_csrf,
    client_ip,
    config_of,
    db,
    not_found,
    redirect,
    render,
    require_login,
    store_of,
)

log = logging.getLogger(__name__)


def dashboard(request: Request) -> Response:
    """``GET /dashboard``: clients in attention order and the latest uploads."""
    with db(request) as conn:
        user, csrf = require_login(request, conn)
        clients = views.dashboard_clients(conn, user)
        recent = [views.recording_json(j) for j in views.own_jobs(conn, user, limit=30)]
    return render(request, "dashboard.html", user=user, csrf=csrf, clients=clients, recent=recent)


def status_json(request: Request) -> Response:
    """What the pages poll to update statuses without reloading."""
    with db(request) as conn:
        user, _ = require_login(request, conn)
        recs = [views.recording_json(j) for j in views.own_jobs(conn, user, limit=200)]
        clients = [
            {
                "id": c["id"],
                "latest_status_text": c["latest_status_text"],
                "rerecord": c["rerecord"],
                "fault_rate": c["fault_rate"],
                "n_pending": c["n_pending"],
            }
            for c in views.dashboard_clients(conn, user)
        ]
    return JSONResponse({"recordings": recs, "clients": clients})


async def client_create(request: Request) -> Response:
    """``POST /clients``: add a client with a first upload link."""
    with db(request) as conn:
        user, csrf = require_login(request, conn)
    form = await check_csrf(request, csrf)
    with db(request) as conn:
        try:
            client_id, _ = accounts.add_client(conn, user, form.get("name", ""))
        except accounts.AccountError as exc:
            return render(request, "error.html", 400, title="Cannot add the client", detail=str(exc))
    return redirect(f"/clients/{client_id}")


def _qr_svg(url: str) -> str:
    """The upload link as an inline SVG QR code, made here (no request to any other host)."""
    return segno.make(url, error="m").svg_inline(scale=4, dark="#1d232b")


def client_page(request: Request) -> Response:
    """``GET /clients/<id>``: trend, history, uploads and links (with QR codes) of one own client."""
    from hingecheck.batch.dashboard import trend_png

    client_id = int(request.path_params["client_id"])
    with db(request) as conn:
        user, csrf = require_login(request, conn)
        client = accounts.own_client(conn, user, client_id)
        if client is None:
            raise not_found()
        sessions = views.client_sessions(conn, client_id)
        jobs = [views.recording_json(j) for j in views.own_jobs(conn, user, client_id)]
        base = config_of(request).base_url
        links = [
            {
                "id": r["id"],
                "url": f"{base}/u/{r['token']}",
                "created_at": r["created_at"],
                "revoked_at": r["revoked_at"],
                "qr": None if r["revoked_at"] else _qr_svg(f"{base}/u/{r['token']}"),
            }
            for r in accounts.client_links(conn, client_id)
        ]
        audit(conn, user.name, "view_client", f"client {client_id}", client_ip(request))
    rows = [{"session": s, "cells": views.trend_cells(s)} for s in sessions]
    plot = trend_png(client["name"], sessions) if sessions else None
    return render(
        request,
        "client.html",
        user=user,
        csrf=csrf,
        client=client,
        rows=rows,
        plot=plot,
        jobs=jobs,
        links=links,
        worsening=views.worsening(sessions),
    )


async def owned_client_post(request: Request, client_id: int) -> tuple[User, dict[str, Any]]:
    """A POST on one of the clinician's clients: logged in, the client theirs (404 otherwise), the CSRF token
    right; returns the clinician and the form."""
    with db(request) as conn:
        user, csrf = require_login(request, conn)
        if accounts.own_client(conn, user, client_id) is None:
            raise not_found()
    return user, await check_csrf(request, csrf)


async def link_create(request: Request) -> Response:
    """``POST /clients/<id>/links``: a new upload link."""
    client_id = int(request.path_params["client_id"])
    user, _ = await owned_client_post(request, client_id)
    with db(request) as conn:
        accounts.create_link(conn, user, client_id)
    return redirect(f"/clients/{client_id}#links")


async def link_revoke(request: Request) -> Response:
    """``POST /clients/<id>/links/<link>/revoke``: the link stops working at once."""
    client_id, link_id = int(request.path_params["client_id"]), int(request.path_params["link_id"])
    user, _ = await owned_client_post(request, client_id)
    with db(request) as conn:
        if not accounts.revoke_link(conn, user, link_id):
            raise not_found()
        audit(conn, user.name, "revoke_link", f"link {link_id}", client_ip(request))
    return redirect(f"/clients/{client_id}#links")


async def client_delete(request: Request) -> Response:
    """``POST /clients/<id>/delete``: remove the client's files and rows (typed confirmation)."""
    client_id = int(request.path_params["client_id"])
    user, form = await owned_client_post(request, client_id)
    if form.get("confirm") != "delete":
        return render(request, "error.html", 400, title="Not deleted", detail="Type delete to confirm.")

    def delete() -> None:
        with db(request) as conn:
            accounts.delete_client(conn, config_of(request).data_dir, user, client_id)
            audit(conn, user.name, "delete_client", f"client {client_id}", client_ip(request))

    await run_in_threadpool(delete)
    return redirect("/dashboard")


def _own_job_or_404(request: Request) -> tuple[Any, str, Any]:
    with db(request) as conn:
        user, csrf = require_login(request, conn)
        job = views.own_job(conn, user, int(request.path_params["job_id"]))
    if job is None:
        raise not_found()
    return user, csrf, job


def _result_file(job: Any, name: str) -> Path | None:
    """A fixed output file of this job's own result folder (the folder comes from the database)."""
    if not job["result_dir"]:
        return None
    path = Path(job["result_dir"]) / name
    return path if path.is_file() else None


def recording_page(request: Request) -> Response:
    """``GET /recordings/<id>``: status, video, reps with click-to-seek faults, notes."""
    user, csrf, job = _own_job_or_404(request)
    reps: list[dict[str, Any]] = []
    if job["recording_id"] is not None:
        store = store_of(request)
        reps = views.rep_rows(store.reps(int(job["recording_id"])), store.faults(int(job["recording_id"])))
    with db(request) as conn:
        notes = views.notes_of(conn, int(job["id"]))
        audit(conn, user.name, "view_recording", f"recording {job['id']}", client_ip(request))
    return render(
        request,
        "recording.html",
        user=user,
        csrf=csrf,
        rec=views.recording_json(job),
        reps=reps,
        notes=notes,
        has_video=_result_file(job, "annotated.mp4") is not None,
        has_report=_result_file(job, "report.html") is not None,
    )


def report(request: Request) -> Response:
    """``GET /recordings/<id>/report``: the analysis's report.html, its script allowed by nonce."""
    user, _, job = _own_job_or_404(request)
    path = _result_file(job, "report.html")
    if path is None:
        raise not_found()
    html = path.read_text(encoding="utf-8")
    # the report is ours (Jinja-escaped): its own inline script runs under this response's nonce
    html = html.replace("<script>", f'<script nonce="{request.state.nonce}">')
    with db(request) as conn:
        audit(conn, user.name, "view_report", f"recording {job['id']}", client_ip(request))
    return HTMLResponse(html)


def video(request: Request) -> Response:
    """``GET /recordings/<id>/annotated.mp4``: the annotated video (range requests), audited."""
    user, _, job = _own_job_or_404(request)
    path = _result_file(job, "annotated.mp4")
    if path is None:
        raise not_found()
    if "range" not in request.headers or request.headers["range"].startswith("bytes=0-"):
        with db(request) as conn:  # one entry per viewing, not per range request
            audit(conn, user.name, "download_video", f"recording {job['id']}", client_ip(request))
    return FileResponse(
        path, media_type="video/mp4", filename=f"recording-{job['id']}.mp4", content_disposition_type="inline"
    )


async def note_add(request: Request) -> Response:
    """``POST /recordings/<id>/notes``: add a note."""
    user, csrf, job = _own_job_or_404(request)
    form = await check_csrf(request, csrf)
    body = form.get("body", "").strip()[:5000]
    if body:
        with db(request) as conn:
            conn.execute(
                "INSERT INTO notes (job_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                (job["id"], user.id, body, now_iso()),
            )
    return redirect(f"/recordings/{job['id']}#notes")


def export_csv(request: Request) -> Response:
    """``GET /export.csv``: every recording of the clinician, one row each (audited)."""
    with db(request) as conn:
        user, _ = require_login(request, conn)
        rows = views.csv_rows(conn, user)
        audit(conn, user.name, "export_csv", f"{len(rows)} recordings", client_ip(request))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(views.CSV_COLUMNS)
    writer.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="hingecheck-recordings.csv"'},
    )


def audit_page(request: Request) -> Response:
    """``GET /audit``: what this account viewed, downloaded, exported or deleted."""
    with db(request) as conn:
        user, csrf = require_login(request, conn)
        rows = audit_rows(conn, user.name)
    return render(request, "audit.html", user=user, csrf=csrf, rows=rows)


routes = [
    Route("/dashboard", dashboard),
    Route("/status.json", status_json),
    Route("/clients", client_create, methods=["POST"]),
    Route("/clients/{client_id:int}", client_page),
    Route("/clients/{client_id:int}/links", link_create, methods=["POST"]),
    Route("/clients/{client_id:int}/links/{link_id:int}/revoke", link_revoke, methods=["POST"]),
    Route("/clients/{client_id:int}/delete", client_delete, methods=["POST"]),
    Route("/recordings/{job_id:int}", recording_page),
    Route("/recordings/{job_id:int}/report", report),
    Route("/recordings/{job_id:int}/annotated.mp4", video),
    Route("/recordings/{job_id:int}/notes", note_add, methods=["POST"]),
    Route("/export.csv", export_csv),
    Route("/audit", audit_page),
]
