"""Clinician accounts, API tokens, browser sessions, login rate limiting, clients and their upload links.

Passwords are hashed with argon2id (argon2-cffi); API tokens and session ids are stored as sha256 only.
Every function takes an open portal connection (``hingecheck.serve.db``) so the CLI and the web app share it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hingecheck.core.errors import HingecheckError
from hingecheck.serve.db import monotonic_now, now_iso, open_store, transaction

log = logging.getLogger(__name__)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# a hash to verify against when the user does not exist, so both cases cost the same time
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

SESSION_TTL_S = 12 * 3600
LOGIN_WINDOW_S = 15 * 60
LOGIN_MAX_FAILURES = 5
MAX_NAME_LEN = 120


class AccountError(HingecheckError):
    """A bad name, a duplicate user, an unknown user or client: one line for the CLI or a page."""

    status = "error"


@dataclass(frozen=True)
class User:
    """A clinician account (id and name)."""

    id: int
    name: str


def sha256_hex(text: str) -> str:
    """The hex sha256 of a secret: what is stored of tokens and session ids."""
    return hashlib.sha256(text.encode()).hexdigest()


def _clean_name(name: str, what: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LEN or any(ord(c) < 32 for c in name):
        raise AccountError(f"{what} must be 1–{MAX_NAME_LEN} printable characters")
    return name


# --- users -------------------------------------------------------------------------------------------


def add_user(conn: sqlite3.Connection, name: str, password: str) -> User:
    """Add a clinician with an argon2id hash of the password (at least 8 characters)."""
    name = _clean_name(name, "a user name")
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    try:
        with transaction(conn):
            cur = conn.execute(
                "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, _hasher.hash(password), now_iso()),
            )
    except sqlite3.IntegrityError:
        raise AccountError(f"user {name!r} exists already") from None
    log.info("user %s added", name)
    return User(int(cur.lastrowid or 0), name)


def get_user(conn: sqlite3.Connection, name: str) -> User:
    """The account called ``name``; AccountError when there is none."""
    row = conn.execute("SELECT id, name FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise AccountError(f"no user {name!r}")
    return User(int(row["id"]), row["name"])


def list_users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every clinician with their number of clients and API tokens."""
    rows = conn.execute(
        "SELECT u.name, u.created_at, (SELECT COUNT(*) FROM clients c WHERE c.clinician_id = u.id) AS n_clients, "
        "(SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id) AS n_tokens FROM users u ORDER BY u.name"
    ).fetchall()
    return [dict(r) for r in rows]


def remove_user(conn: sqlite3.Connection, data_dir: Path, name: str) -> None:
    """Remove an account with its clients (their files and rows), tokens and sessions."""
    user = get_user(conn, name)
    for row in conn.execute("SELECT id FROM clients WHERE clinician_id = ?", (user.id,)).fetchall():
        delete_client(conn, data_dir, user, int(row["id"]))
    with transaction(conn):
        conn.execute("DELETE FROM users WHERE id = ?", (user.id,))
    log.info("user %s removed", name)


def verify_password(conn: sqlite3.Connection, name: str, password: str) -> User | None:
    """The user when the password matches its hash, else None (same cost for unknown names)."""
    row = conn.execute("SELECT id, name, password_hash FROM users WHERE name = ?", (name,)).fetchone()
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return User(int(row["id"]), row["name"]) if row else None


def set_password(conn: sqlite3.Connection, name: str, password: str) -> None:
    """Replace a clinician's password and end their browser sessions."""
    user = get_user(conn, name)
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    with transaction(conn):
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), user.id))
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
    log.info("password of %s replaced", name)


def revoke_api_tokens(conn: sqlite3.Connection, name: str) -> int:
    """Delete every API token of a clinician; returns how many there were."""
    user = get_user(conn, name)
    with transaction(conn):
        return conn.execute("DELETE FROM api_tokens WHERE user_id = ?", (user.id,)).rowcount


def new_api_token(conn: sqlite3.Connection, name: str) -> str:
    """A fresh API token for the user (printed once; only its sha256 is stored)."""
    user = get_user(conn, name)
    token = "hc_" + secrets.token_urlsafe(32)
    with transaction(conn):
        conn.execute(
            "INSERT INTO api_tokens (user_id, token_sha256, created_at) VALUES (?, ?, ?)",
            (user.id, sha256_hex(token), now_iso()),
        )
    return token


def user_for_token(conn: sqlite3.Connection, token: str) -> User | None:
    """The owner of an API token (looked up by its hash), else None; notes the last use."""
    row = conn.execute(
        "SELECT u.id, u.name, t.id AS tid FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = ?",
        (sha256_hex(token),),
    ).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now_iso(), row["tid"]))
    return User(int(row["id"]), row["name"])


# --- sessions and login rate limiting ------------------------------------------------------------------


def create_session(conn: sqlite3.Connection, user: User) -> tuple[str, str]:
    """A new server-side session; returns (cookie value, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    t = monotonic_now()
    with transaction(conn):
        conn.execute("DELETE FROM sessions WHERE expires_at < ?", (t,))
        conn.execute(
            "INSERT INTO sessions (id_sha256, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (sha256_hex(sid), user.id, csrf, t, t + SESSION_TTL_S),
        )
    return sid, csrf


def session_user(conn: sqlite3.Connection, sid: str | None) -> tuple[User, str] | None:
    """The user and CSRF token of a live session cookie, else None."""
    if not sid:
        return None
    row = conn.execute(
        "SELECT u.id, u.name, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.id_sha256 = ? AND s.expires_at > ?",
        (sha256_hex(sid), monotonic_now()),
    ).fetchone()
    return (User(int(row["id"]), row["name"]), row["csrf"]) if row else None


def end_session(conn: sqlite3.Connection, sid: str | None) -> None:
    """Delete a session (logout)."""
    if sid:
        conn.execute("DELETE FROM sessions WHERE id_sha256 = ?", (sha256_hex(sid),))


def login_blocked(conn: sqlite3.Connection, ip: str, username: str) -> bool:
    """True after LOGIN_MAX_FAILURES failed logins for this (address, user name) within LOGIN_WINDOW_S."""
    n = conn.execute(
        "SELECT COUNT(*) FROM login_attempts WHERE ip = ? AND username = ? AND ok = 0 AND at > ?",
        (ip, username, monotonic_now() - LOGIN_WINDOW_S),
    ).fetchone()[0]
    return int(n) >= LOGIN_MAX_FAILURES


def record_login(conn: sqlite3.Connection, ip: str, username: str, ok: bool) -> None:
    """Remember a login attempt for the rate limit; a success clears the earlier failures."""
    t = monotonic_now()
    with transaction(conn):
        conn.execute("DELETE FROM login_attempts WHERE at < ?", (t - 2 * LOGIN_WINDOW_S,))
        if ok:  # a success clears the failures of this address and name
            conn.execute("DELETE FROM login_attempts WHERE ip = ? AND username = ?", (ip, username))
        conn.execute(
            "INSERT INTO login_attempts (ip, username, at, ok) VALUES (?, ?, ?, ?)", (ip, username[:200], t, int(ok))
        )


# --- clients and upload links ---------------------------------------------------------------------------


def add_client(conn: sqlite3.Connection, clinician: User, name: str) -> tuple[int, str]:
    """A client of this clinician with a first upload link; returns (client id, link token)."""
    name = _clean_name(name, "a client name")
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO clients (clinician_id, name, created_at) VALUES (?, ?, ?)", (clinician.id, name, now_iso())
        )
    client_id = int(cur.lastrowid or 0)
    return client_id, create_link(conn, clinician, client_id)


def own_client(conn: sqlite3.Connection, clinician: User, client_id: int) -> sqlite3.Row | None:
    """The client row when it belongs to this clinician, else None (callers answer 404)."""
    return conn.execute("SELECT * FROM clients WHERE id = ? AND clinician_id = ?", (client_id, clinician.id)).fetchone()


def find_client(conn: sqlite3.Connection, clinician: User, name: str) -> sqlite3.Row:
    """This clinician's client called ``name``; AccountError when there is none."""
    row = conn.execute(
        "SELECT * FROM clients WHERE clinician_id = ? AND name = ? ORDER BY id LIMIT 1", (clinician.id, name)
    ).fetchone()
    if row is None:
        raise AccountError(f"{clinician.name} has no client {name!r}")
    return row


def list_clients(conn: sqlite3.Connection, clinician: User) -> list[sqlite3.Row]:
    """This clinician's clients by name."""
    return conn.execute("SELECT * FROM clients WHERE clinician_id = ? ORDER BY name, id", (clinician.id,)).fetchall()


def create_link(conn: sqlite3.Connection, clinician: User, client_id: int) -> str:
    """A new upload link (``secrets.token_urlsafe(32)``) for one of this clinician's clients."""
    if own_client(conn, clinician, client_id) is None:
        raise AccountError("no such client")
    token = secrets.token_urlsafe(32)  # 256 bits
    with transaction(conn):
        conn.execute(
            "INSERT INTO upload_links (client_id, token, created_at) VALUES (?, ?, ?)", (client_id, token, now_iso())
        )
    return token


def revoke_link(conn: sqlite3.Connection, clinician: User, link_id: int) -> bool:
    """Revoke a link of one of this clinician's clients; False when there is no such live link."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE upload_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND client_id IN "
            "(SELECT id FROM clients WHERE clinician_id = ?)",
            (now_iso(), link_id, clinician.id),
        )
    return cur.rowcount > 0


def client_links(conn: sqlite3.Connection, client_id: int) -> list[sqlite3.Row]:
    """Every link of a client, revoked ones included (oldest first)."""
    return conn.execute("SELECT * FROM upload_links WHERE client_id = ? ORDER BY id", (client_id,)).fetchall()


def link_target(conn: sqlite3.Connection, token: str) -> sqlite3.Row | None:
    """(link id, client id, client name) of a live upload link, else None (made up or revoked)."""
    if not token or len(token) > 100:
        return None
    return conn.execute(
        "SELECT l.id AS link_id, c.id AS client_id, c.name AS client_name FROM upload_links l "
        "JOIN clients c ON c.id = l.client_id WHERE l.token = ? AND l.revoked_at IS NULL",
        (token,),
    ).fetchone()


def delete_client(conn: sqlite3.Connection, data_dir: Path, clinician: User, client_id: int) -> bool:
    """Delete a client: uploads, results, recordings (with reps and faults), jobs, notes and links."""
    if own_client(conn, clinician, client_id) is None:
        return False
    jobs = conn.execute("SELECT uuid, recording_id FROM jobs WHERE client_id = ?", (client_id,)).fetchall()
    recording_ids = [int(j["recording_id"]) for j in jobs if j["recording_id"] is not None]
    with transaction(conn):
        conn.execute("DELETE FROM clients WHERE id = ?", (client_id,))  # cascades: links, jobs, notes
    if recording_ids:
        with open_store(data_dir) as store, store.transaction() as sconn:  # reps and faults cascade
            sconn.executemany("DELETE FROM recordings WHERE id = ?", [(r,) for r in recording_ids])
    for job in jobs:
        for sub in ("uploads", "results"):
            shutil.rmtree(Path(data_dir) / sub / job["uuid"], ignore_errors=True)
    log.info("client %d of %s deleted with %d uploads", client_id, clinician.name, len(jobs))
    return True
