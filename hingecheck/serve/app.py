"""The portal's ASGI application (Starlette): routes, error pages, the dispatcher's life cycle.

``create_app(config)`` migrates the data folder, then serves: the login and review pages
(``routes_auth``, ``routes_review``), the client upload pages (``routes_upload``) and the JSON API
(``routes_api``). On start-up the dispatcher re-queues jobs a killed server left running and starts the
worker slots; on shut-down it stops taking jobs (running ones resume at the next start).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hingecheck.serve import routes_api, routes_auth, routes_review, routes_upload
from hingecheck.serve.config import ServeConfig
from hingecheck.serve.db import open_data_dir
from hingecheck.serve.dispatcher import Dispatcher
from hingecheck.serve.web import FormBodyLimit, SecurityHeaders, make_env, render

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    415: "Unsupported",
    429: "Too many attempts",
}


async def http_error(request: Request, exc: Exception) -> Response:
    """Error pages: JSON for the API and uploads, an HTML page otherwise; redirects pass through."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (301, 302, 303, 307):
        return Response(status_code=exc.status_code, headers=exc.headers)
    wants_json = (
        request.url.path.startswith("/api/") or request.url.path.startswith("/u/") and (request.method == "POST")
    )
    if wants_json:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return render(
        request,
        "error.html",
        status_code=exc.status_code,
        title=ERROR_TITLES.get(exc.status_code, "Error"),
        detail=exc.detail,
    )


def create_app(config: ServeConfig) -> Starlette:
    """The portal for the data folder ``config.data_dir`` (created and migrated if needed)."""
    open_data_dir(config.data_dir).close()
    (config.data_dir / "uploads").mkdir(exist_ok=True)
    dispatcher = Dispatcher(config) if config.start_workers else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if dispatcher is not None:
            dispatcher.start()
            log.info("portal serving %s with %d worker slot(s)", config.data_dir, config.workers)
        yield
        if dispatcher is not None:
            dispatcher.stop()

    routes = routes_auth.routes + routes_upload.routes + routes_review.routes + routes_api.routes
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.config = config
    app.state.env = make_env()
    app.state.dispatcher = dispatcher
    app.add_middleware(FormBodyLimit)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every answer carries the headers
    return app
