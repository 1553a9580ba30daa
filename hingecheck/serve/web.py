"""Shared pieces of the web layer: templates, security headers, sessions, CSRF, ownership answers.

Every response carries a Content-Security-Policy that allows nothing from another host (scripts only with
the response's nonce), ``X-Content-Type-Options: nosniff``, ``frame-ancestors 'none'``, no referrer and
``Cache-Control: no-store``. Pages are Jinja2 templates with autoescaping on: names and file names from
clients are text, never markup.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hingecheck.batch.store import ResultStore
from hingecheck.serve.accounts import User, session_user
from hingecheck.serve.config import ServeConfig
from hingecheck.serve.db import connect, db_path

SESSION_COOKIE = "hc_session"
LOGIN_CSRF_COOKIE = "hc_login_csrf"
TEMPLATES = Path(__file__).with_name("templates")
REPORT_TEMPLATES = Path(__file__).resolve().parent.parent / "report" / "templates"


def csp(nonce: str) -> str:
    """The Content-Security-Policy: nothing from another host, scripts only with this nonce."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: a fresh CSP nonce per request (``request.state.nonce``) and the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers += [
                    (b"content-security-policy", csp(nonce).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
                    (b"cache-control", b"no-store"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FormBodyLimit:
    """ASGI middleware: request bodies other than uploads (``/u/…``) are forms of a few kB; past
    ``max_bytes`` the answer is 413 (declared Content-Length), or the body is cut off (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int = 256 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/u/"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await PlainTextResponse("Request body too large", status_code=413)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, "Request body too large")
            return message

        await self.app(scope, limited, send)


def make_env() -> Environment:
    """The Jinja2 environment (autoescaping on) over the portal's and the report's templates."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(REPORT_TEMPLATES)]),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.0%}"
    env.filters["deg"] = lambda v: "–" if v is None else f"{v:.0f}°"
    env.filters["secs"] = lambda v: "–" if v is None else f"{v:.1f} s"
    env.filters["when"] = lambda v: "–" if not v else str(v)[:16].replace("T", " ") + " UTC"
    return env


def config_of(request: Request) -> ServeConfig:
    """The portal's settings."""
    return request.app.state.config


@contextmanager
def db(request: Request) -> Iterator[sqlite3.Connection]:
    """A connection for this request (sqlite connections are cheap; one per request keeps threads apart)."""
    conn = connect(db_path(config_of(request).data_dir))
    try:
        yield conn
    finally:
        conn.close()


_local = threading.local()


def store_of(request: Request) -> ResultStore:
    """This thread's results store (opening one migrates and takes a write lock: done once per thread)."""
    path = db_path(config_of(request).data_dir)
    stores: dict[Path, ResultStore] = _local.__dict__.setdefault("stores", {})
    if path not in stores:
        stores[path] = ResultStore(path)
    return stores[path]


def client_ip(request: Request) -> str:
    """The peer address (the rate limit's and the audit log's 'from')."""
    return request.client.host if request.client else "?"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A template as an HTML response, with the request's CSP nonce."""
    env: Environment = request.app.state.env
    html = env.get_template(template).render(nonce=request.state.nonce, request_path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)


def not_found(what: str = "Not found") -> HTTPException:
    """Another clinician's object and a missing one get the same answer."""
    return HTTPException(404, what)


def current(request: Request, conn: sqlite3.Connection) -> tuple[User, str] | None:
    """The logged-in clinician and CSRF token of this request's session, else None."""
    return session_user(conn, request.cookies.get(SESSION_COOKIE))


def require_login(request: Request, conn: sqlite3.Connection) -> tuple[User, str]:
    """The logged-in clinician and their CSRF token; a visitor is sent to the login page."""
    found = current(request, conn)
    if found is None:
        raise HTTPException(303, headers={"Location": "/login"})
    return found


async def check_csrf(request: Request, expected: str) -> dict[str, Any]:
    """Read a POSTed form and check its ``csrf`` field against the session's token (403 otherwise)."""
    form = await request.form(max_files=0, max_fields=20)
    sent = str(form.get("csrf") or "")
    if not sent or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "Missing or wrong form token: reload the page and try again.")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def redirect(url: str) -> RedirectResponse:
    """A 303 redirect (after a POST)."""
    return RedirectResponse(url, status_code=303)


def set_session_cookie(response: Response, config: ServeConfig, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure behind HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=config.secure_cookies,
        path="/",
        max_age=12 * 3600,
    )
