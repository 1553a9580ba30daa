"""The durable job queue: every accepted upload is a row in ``jobs`` (queued → running → done / failed).

A job is claimed in one transaction (state, attempt count, lease); the dispatcher renews the lease while it
runs. Jobs a killed server left ``running`` are queued again at start-up (and any whose lease ran out while
the server lives), so nothing is lost; the recording is keyed by the job's upload id, so an analysis done
twice updates one row instead of adding a second.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import uuid as uuid_mod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hingecheck.serve.db import monotonic_now, now_iso, transaction

log = logging.getLogger(__name__)

LEASE_S = 60.0
MAX_ATTEMPTS = 3
RETRY_STATUSES = frozenset({"timeout", "error"})  # worth another attempt (busy machine, killed worker)


def new_upload_id() -> str:
    """A fresh server-chosen upload id (names the upload and result folders)."""
    return uuid_mod.uuid4().hex


def enqueue(
    conn: sqlite3.Connection,
    *,
    upload_id: str,
    client_id: int,
    link_id: int | None,
    original_name: str,
    video_path: Path,
    size_bytes: int,
    content_sha256: str,
) -> int:
    """Queue an accepted upload; returns the job id (the recording id shown to clinicians and the API)."""
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO jobs (uuid, client_id, link_id, original_name, video_path, size_bytes, content_sha256, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload_id,
                client_id,
                link_id,
                original_name,
                str(video_path),
                size_bytes,
                content_sha256,
                datetime.now(UTC).isoformat(timespec="milliseconds"),
            ),  # orders sessions uploaded in one second
        )
    job_id = int(cur.lastrowid or 0)
    log.info("job %d queued (upload %s, %d bytes)", job_id, upload_id, size_bytes)
    return job_id


def requeue_abandoned(conn: sqlite3.Connection, everything_running: bool) -> int:
    """Queue again the jobs left running (all of them at start-up; else those whose lease ran out)."""
    where = "state = 'running'" + ("" if everything_running else " AND lease_until < ?")
    args: tuple[Any, ...] = () if everything_running else (monotonic_now(),)
    with transaction(conn):
        failed = conn.execute(
            f"UPDATE jobs SET state = 'failed', analysis_status = 'error', finished_at = ?, "
            f"message = 'analysis was interrupted {MAX_ATTEMPTS} times' WHERE {where} AND attempts >= ?",
            (now_iso(), *args, MAX_ATTEMPTS),
        ).rowcount
        n = conn.execute(f"UPDATE jobs SET state = 'queued', lease_until = NULL WHERE {where}", args).rowcount
    if n or failed:
        log.warning("%d interrupted job(s) queued again, %d given up", n, failed)
    return n


def claim(conn: sqlite3.Connection) -> sqlite3.Row | None:
    """Take the oldest queued job (one transaction: no two dispatchers get the same job)."""
    t = monotonic_now()
    with transaction(conn):
        row = conn.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?, heartbeat_at = ?, "
            "started_at = ? WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1) "
            "RETURNING *",
            (t + LEASE_S, t, now_iso()),
        ).fetchone()
    return row


def release(conn: sqlite3.Connection, job_ids: list[int]) -> None:
    """Put running jobs back in the queue on an orderly shutdown (the attempt does not count against them)."""
    if not job_ids:
        return
    with transaction(conn):
        conn.executemany(
            "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_until = NULL "
            "WHERE id = ? AND state = 'running'",
            [(j,) for j in job_ids],
        )
    log.info("%d running job(s) put back in the queue for the next start", len(job_ids))


def heartbeat(conn: sqlite3.Connection, job_ids: list[int]) -> None:
    """Renew the leases of the jobs this server is running."""
    if not job_ids:
        return
    t = monotonic_now()
    with transaction(conn):
        conn.executemany(
            "UPDATE jobs SET heartbeat_at = ?, lease_until = ? WHERE id = ? AND state = 'running'",
            [(t, t + LEASE_S, j) for j in job_ids],
        )


def finish(
    conn: sqlite3.Connection,
    job_id: int,
    *,
    analysis_status: str,
    message: str,
    result_dir: str | None,
    recording_id: int | None,
) -> str:
    """Record a job's outcome; a retryable failure with attempts left goes back to the queue. Returns the state."""
    row = conn.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:  # the client was deleted meanwhile
        return "gone"
    retry = analysis_status in RETRY_STATUSES and int(row["attempts"]) < MAX_ATTEMPTS and recording_id is None
    state = "queued" if retry else ("done" if recording_id is not None else "failed")
    with transaction(conn):
        conn.execute(
            "UPDATE jobs SET state = ?, analysis_status = ?, message = ?, result_dir = ?, recording_id = ?, "
            "finished_at = ?, lease_until = NULL WHERE id = ?",
            (
                state,
                None if retry else analysis_status,
                message[:500],
                result_dir,
                recording_id,
                None if retry else now_iso(),
                job_id,
            ),
        )
    log.info("job %d %s (%s)", job_id, state, analysis_status)
    return state


def recording_key_sha(upload_id: str, content_sha256: str) -> str:
    """The results-store content key of an upload: its bytes *and* its upload id.

    The store merges analyses of identical bytes; the portal keeps one recording per upload (a client may
    send the same file twice, and each upload is a session), so the key is salted with the upload id.
    """
    return hashlib.sha256(f"upload:{upload_id}:{content_sha256}".encode()).hexdigest()


def public_status(job: sqlite3.Row) -> str:
    """queued / running, then the analysis status (ok, no_person, not_a_video, corrupt, timeout, error)."""
    if job["state"] in ("queued", "running"):
        return str(job["state"])
    return str(job["analysis_status"] or "error")
