"""The JSON API for integrations (``Authorization: Bearer <token>`` from ``hingecheck users token``) and
``GET /healthz``. A recording of another clinician answers 404, as in the pages."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hingecheck.serve import accounts, views
from hingecheck.serve.db import audit
from hingecheck.serve.web import client_ip, db, not_found


def _bearer_user(request: Request, conn) -> accounts.User:  # noqa: ANN001
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = accounts.user_for_token(conn, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise HTTPException(
            401, "a valid API token is needed (Authorization: Bearer <token>)", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def api_recordings(request: Request) -> Response:
    """``GET /api/recordings``: the clinician's recordings, newest first."""
    with db(request) as conn:
        user = _bearer_user(request, conn)
        recs = [views.recording_json(j) for j in views.own_jobs(conn, user, limit=100_000)]
        audit(conn, user.name, "api_list_recordings", f"{len(recs)} recordings", client_ip(request))
    return JSONResponse({"recordings": recs})


def api_recording(request: Request) -> Response:
    """``GET /api/recordings/<id>``: one recording of this clinician, else 404."""
    with db(request) as conn:
        user = _bearer_user(request, conn)
        job = views.own_job(conn, user, int(request.path_params["job_id"]))
        if job is None:
            raise not_found()
        audit(conn, user.name, "api_view_recording", f"recording {job['id']}", client_ip(request))
    return JSONResponse(views.recording_json(job))


def api_clients(request: Request) -> Response:
    """``GET /api/clients``: the clinician's clients in attention order."""
    with db(request) as conn:
        user = _bearer_user(request, conn)
        out = [
            {
                "id": c["id"],
                "name": c["name"],
                "n_uploads": c["n_uploads"],
                "latest_status": c["latest_status"],
                "needs_rerecord": c["rerecord"],
                "fault_rate": c["fault_rate"],
                "worsening": c["worsening"],
            }
            for c in views.dashboard_clients(conn, user)
        ]
    return JSONResponse({"clients": out})


def healthz(request: Request) -> Response:
    """``GET /healthz``: alive, with the queue length and busy workers (no login)."""
    with db(request) as conn:
        queued = conn.execute("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')").fetchone()[0]
    dispatcher = request.app.state.dispatcher
    busy = dispatcher.busy() if dispatcher else 0
    return JSONResponse({"ok": True, "pending_jobs": int(queued), "busy_workers": busy})


routes = [
    Route("/api/recordings", api_recordings),
    Route("/api/recordings/{job_id:int}", api_recording),
    Route("/api/clients", api_clients),
    Route("/healthz", healthz),
]
