"""Login and logout. The login form carries a double-submit CSRF token (cookie + field); failed logins are
limited per (address, user name): after five within 15 minutes the answer is 429 until the window passes."""

from __future__ import annotations

import logging
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hingecheck.serve import accounts
from hingecheck.serve.db import audit
from hingecheck.serve.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_ip,
    config_of,
    current,
    db,
    redirect,
    render,
    set_session_cookie,
)

log = logging.getLogger(__name__)


def home(request: Request) -> Response:
    """``/``: to the dashboard when logged in, else to the login page."""
    with db(request) as conn:
        return redirect("/dashboard" if current(request, conn) else "/login")


def login_page(request: Request, error: str = "", status_code: int = 200, name: str = "") -> Response:
    """The login form with a fresh double-submit CSRF token (cookie + field)."""
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code=status_code, csrf=token, error=error, name=name)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=config_of(request).secure_cookies,
        path="/login",
    )
    return response


def login_form(request: Request) -> Response:
    """``GET /login``."""
    return login_page(request)


async def login_submit(request: Request) -> Response:
    """``POST /login``: check the form token and the rate limit, verify, start a session."""
    form = await request.form(max_files=0, max_fields=5)
    sent, cookie = str(form.get("csrf") or ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    name, password = str(form.get("name") or "")[:200], str(form.get("password") or "")[:1000]
    if not sent or not cookie or not secrets.compare_digest(sent, cookie):
        return login_page(request, "The form expired: please try again.", 403, name)
    ip = client_ip(request)

    def attempt() -> tuple[str, str | None]:
        with db(request) as conn:
            if accounts.login_blocked(conn, ip, name):
                return "blocked", None
            user = accounts.verify_password(conn, name, password)
            accounts.record_login(conn, ip, name, user is not None)
            if user is None:
                return "bad", None
            sid, _ = accounts.create_session(conn, user)
            audit(conn, user.name, "login", "", ip)
            return "ok", sid

    outcome, sid = await run_in_threadpool(attempt)
    if outcome == "blocked":
        log.warning("login blocked for %r from %s", name, ip)
        return login_page(request, "Too many failed attempts: wait 15 minutes and try again.", 429, name)
    if outcome == "bad":
        log.info("failed login for %r from %s", name, ip)
        return login_page(request, "Wrong user name or password.", 401, name)
    response = redirect("/dashboard")
    set_session_cookie(response, config_of(request), sid or "")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    """``POST /logout``: end the server-side session (with the session's CSRF token)."""
    form = await request.form(max_files=0, max_fields=5)
    with db(request) as conn:
        found = current(request, conn)
        if found is not None:
            if not secrets.compare_digest(str(form.get("csrf") or ""), found[1]):
                raise HTTPException(403, "Missing or wrong form token: reload the page and try again.")
            accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fa8"/>'
    '<path d="M4 12 L8 4 L12 12" stroke="#fff" stroke-width="2" fill="none"/></svg>'
)


def favicon(request: Request) -> Response:
    """Browsers ask for it on every site; served here so no page has a failed request."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


routes = [
    Route("/", home),
    Route("/favicon.ico", favicon),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
