"""The portal's own tables, in the same SQLite file as the batch results store.

The results store (``hingecheck.batch.store``) owns ``PRAGMA user_version`` and the recordings/reps/faults
tables; the portal keeps its schema version in its own one-row table ``serve_schema`` and applies
``MIGRATIONS`` in order, each exactly once and each in one transaction. Both sets of tables live in
``DIR/results.sqlite`` so the batch dashboard, ``hingecheck history`` and the portal read the same rows.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hingecheck.batch.store import ResultStore, StoreError, migration_statements
from hingecheck.io.sinks import writable_dir

log = logging.getLogger(__name__)

DB_NAME = "results.sqlite"

MIGRATIONS: tuple[str, ...] = (
    # 1: accounts, clients and links, the job queue, notes, audit log
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,          -- argon2id (argon2-cffi), never the password
        created_at TEXT NOT NULL
    );
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_sha256 TEXT NOT NULL UNIQUE,    -- the token itself is shown once and never stored
        created_at TEXT NOT NULL,
        last_used_at TEXT
    );
    CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,           -- sha256 of the cookie value
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,                   -- per-session token every POST form must carry
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE login_attempts (
        id INTEGER PRIMARY KEY,
        ip TEXT NOT NULL,
        username TEXT NOT NULL,
        at REAL NOT NULL,
        ok INTEGER NOT NULL
    );
    CREATE INDEX login_attempts_key ON login_attempts (ip, username, at);
    CREATE TABLE clients (
        id INTEGER PRIMARY KEY,
        clinician_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX clients_clinician ON clients (clinician_id);
    CREATE TABLE upload_links (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        token TEXT NOT NULL UNIQUE,           -- kept so the clinician can show the link (QR) again
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,               -- the recording id of the portal and the API
        uuid TEXT NOT NULL UNIQUE,            -- names DIR/uploads/<uuid>/ and DIR/results/<uuid>/
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        link_id INTEGER,
        original_name TEXT NOT NULL,          -- sanitised; shown escaped, never used as a path
        video_path TEXT NOT NULL,             -- absolute, chosen by the server
        size_bytes INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued', -- queued / running / done / failed
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until REAL,                     -- a running job whose lease ran out is queued again
        heartbeat_at REAL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        analysis_status TEXT,                 -- ok / no_person / not_a_video / corrupt / timeout / error
        message TEXT NOT NULL DEFAULT '',
        result_dir TEXT,
        recording_id INTEGER UNIQUE           -- recordings.id of the results store: one recording per job
    );
    CREATE INDEX jobs_state ON jobs (state, id);
    CREATE INDEX jobs_client ON jobs (client_id);
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user_name TEXT NOT NULL,              -- kept as text: the log outlives a removed account
        action TEXT NOT NULL,                 -- view_recording / download_video / export_csv / delete_client / …
        object TEXT NOT NULL DEFAULT '',
        ip TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_log_user ON audit_log (user_name, at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    """UTC now as ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def db_path(data_dir: str | Path) -> Path:
    """The shared SQLite file of a data folder."""
    return Path(data_dir) / DB_NAME


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in the store's mode (WAL, foreign keys, explicit transactions), rows as ``sqlite3.Row``."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE: writers queue instead of failing mid-way)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The portal schema version of this file (0 before the first migration)."""
    conn.execute("CREATE TABLE IF NOT EXISTS serve_schema (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM serve_schema").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the portal migrations this file has not seen; returns how many ran."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(f"portal schema {version} is newer than this hingecheck ({SCHEMA_VERSION})")
    for number in range(version + 1, SCHEMA_VERSION + 1):
        with transaction(conn):
            for statement in migration_statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute("DELETE FROM serve_schema")
            conn.execute("INSERT INTO serve_schema (version) VALUES (?)", (number,))
        log.info("portal database migrated to schema %d", number)
    return SCHEMA_VERSION - version


def open_data_dir(data_dir: str | Path) -> sqlite3.Connection:
    """Create DIR if needed, migrate the results store and the portal tables; returns a portal connection."""
    data = writable_dir(Path(data_dir), "data folder")
    with ResultStore(db_path(data)):  # its own migrations (user_version)
        pass
    conn = connect(db_path(data))
    migrate(conn)
    return conn


def open_store(data_dir: str | Path) -> ResultStore:
    """The results store of a data folder (its own connection)."""
    return ResultStore(db_path(data_dir))


def audit(conn: sqlite3.Connection, user_name: str, action: str, obj: str = "", ip: str = "") -> None:
    """Record who viewed, downloaded, exported or deleted what."""
    conn.execute(
        "INSERT INTO audit_log (at, user_name, action, object, ip) VALUES (?, ?, ?, ?, ?)",
        (now_iso(), user_name, action, obj, ip),
    )


def audit_rows(conn: sqlite3.Connection, user_name: str | None = None, limit: int = 200) -> list[Any]:
    """Audit entries, newest first (of one user when given)."""
    sql = "SELECT * FROM audit_log"
    args: tuple[Any, ...] = ()
    if user_name is not None:
        sql += " WHERE user_name = ?"
        args = (user_name,)
    return conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()


def monotonic_now() -> float:
    """Wall-clock seconds for leases and sessions (stored, so comparable across restarts)."""
    return time.time()
