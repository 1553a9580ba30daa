"""A server killed with SIGKILL during an analysis and restarted finishes the job: one recording, nothing lost."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from hingecheck.serve import accounts
from hingecheck.serve.db import db_path, open_data_dir
from tests.conftest import SAMPLE_GOOD_STOOP
from tests.serve.serverproc import ServerProcess, free_port

httpx = pytest.importorskip("httpx2")


def _job(data) -> sqlite3.Row | None:
    conn = sqlite3.connect(db_path(data))
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM jobs").fetchone()
    finally:
        conn.close()


def _wait(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _workers(pid: int) -> list[int]:
    """The spawned analysis worker processes of a server (children of any of its threads)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"multiprocessing" in cmd and b"resource_tracker" not in cmd:
                out.append(child)
    return out


def test_sigkill_during_analysis_then_restart_completes_the_job_once(tmp_path):
    data = tmp_path / "data"
    conn = open_data_dir(data)
    alice = accounts.add_user(conn, "alice", "a long password")
    _, token = accounts.add_client(conn, alice, "Anna")
    conn.close()
    port = free_port()
    args = ("--workers", "1", "--no-video")
    server = ServerProcess(data, port, *args).start()
    try:
        with open(SAMPLE_GOOD_STOOP, "rb") as fh:
            r = httpx.post(f"{server.url}/u/{token}", files={"video": ("set.mp4", fh, "video/mp4")}, timeout=30)
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        _wait(lambda: (j := _job(data)) is not None and j["state"] == "running", 30, "the job to run")
        workers = _wait(lambda: _workers(server.proc.pid), 20, "a worker process")
        # the batch worker writes source.json into its temporary folder just before it starts analysing
        _wait(lambda: list((data / "work").glob("*/source.json")), 60, "the worker to start the analysis")
        time.sleep(0.5)
        assert _job(data)["state"] == "running"
        assert not (data / "results").exists() or not any((data / "results").iterdir())
        server.kill9()
        # the orphaned worker notices and stops by itself (no CPU burnt for a dead server)
        _wait(lambda: not any(_process_alive(w) for w in workers), 15, "the orphaned worker to exit")
        assert _job(data)["state"] == "running"  # as the killed server left it
        server = ServerProcess(data, free_port(), *args).start()
        done = _wait(
            lambda: (j := _job(data)) is not None and j["state"] in ("done", "failed") and j,
            120,
            "the job to finish after the restart",
        )
        assert done["id"] == job_id and done["state"] == "done" and done["analysis_status"] == "ok"
        assert done["attempts"] == 2
        conn = sqlite3.connect(db_path(data))
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1
        recordings = conn.execute("SELECT id, client, status, n_reps FROM recordings").fetchall()
        conn.close()
        assert recordings == [(done["recording_id"], "Anna", "ok", 3)]
        assert sorted(p.name for p in (data / "results").iterdir()) == [done["uuid"]]
        assert not any((data / "work").iterdir()) if (data / "work").exists() else True
        assert (data / "uploads" / done["uuid"] / "set.mp4").is_file()  # the upload is kept
    finally:
        server.stop()
