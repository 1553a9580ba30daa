"""The client's side: ``GET /u/<token>`` (a phone-friendly upload page) and ``POST /u/<token>``.

The link token is the only credential a client has: a made-up or revoked one answers 404. An upload is
streamed to disk, capped, probed with PyAV (a text file named .mp4 is refused and nothing is queued), moved
to ``DIR/uploads/<uuid>/`` under a sanitised name and queued; the answer is ``201 {"id": …}``.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hingecheck.serve import accounts, jobs
from hingecheck.serve.uploads import UploadError, probe_video, receive_upload, store_upload
from hingecheck.serve.web import client_ip, config_of, db, not_found, render

log = logging.getLogger(__name__)


def _target(request: Request):  # noqa: ANN202 (sqlite3.Row)
    with db(request) as conn:
        target = accounts.link_target(conn, request.path_params["token"])
    if target is None:
        raise not_found("This upload link is not valid (it may have been replaced): ask your clinician for a new one.")
    return target


def upload_page(request: Request) -> Response:
    """``GET /u/<token>``: the phone upload page of a live link, else 404."""
    target = _target(request)
    return render(
        request,
        "upload.html",
        client_name=target["client_name"],
        max_mb=int(config_of(request).max_upload_mb),
    )


async def upload_submit(request: Request) -> Response:
    """``POST /u/<token>``: receive, cap, probe, store and queue one video; 201 ``{"id": …}``."""
    target = _target(request)
    config = config_of(request)
    try:
        received = await receive_upload(
            request.stream(),
            request.headers.get("content-type", ""),
            request.headers.get("content-length"),
            config.data_dir,
            config.max_upload_bytes,
        )
    except UploadError as exc:
        log.info("upload refused (%s) from %s: %s", exc.http_status, client_ip(request), exc)
        return JSONResponse({"error": str(exc)}, status_code=exc.http_status, headers={"Connection": "close"})
    problem = await run_in_threadpool(probe_video, received.path)
    if problem is not None:
        received.path.unlink(missing_ok=True)
        log.info("upload refused from %s: %s", client_ip(request), problem)
        return JSONResponse({"error": f"Not accepted: {problem}."}, status_code=415)

    def accept() -> int:
        upload_id = jobs.new_upload_id()
        video = store_upload(received, config.data_dir, upload_id)
        with db(request) as conn:
            return jobs.enqueue(
                conn,
                upload_id=upload_id,
                client_id=int(target["client_id"]),
                link_id=int(target["link_id"]),
                original_name=received.original_name,
                video_path=video,
                size_bytes=received.size_bytes,
                content_sha256=received.sha256,
            )

    job_id = await run_in_threadpool(accept)
    dispatcher = request.app.state.dispatcher
    if dispatcher is not None:
        dispatcher.wake()
    return JSONResponse(
        {"id": job_id, "status": "queued", "message": "Thank you: your video was received and will be analysed."},
        status_code=201,
    )


routes = [
    Route("/u/{token}", upload_page, methods=["GET"]),
    Route("/u/{token}", upload_submit, methods=["POST"]),
]
