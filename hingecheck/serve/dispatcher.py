"""Hands queued jobs to the batch machinery: local worker processes or a Dask cluster.

One dispatcher thread per worker slot claims a job, runs it through a batch executor (``LocalExecutor``
with one spawned worker process, or the shared ``DaskExecutor``) with the batch worker's ``run_job``, then
ingests the outcome: the worker's temporary folder is renamed into ``DIR/results/<upload id>/`` and the
recording upserted into the results store under a key unique to the upload. A heartbeat thread renews the
leases of running jobs. Killed at any moment, the next start queues the interrupted jobs again.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

from hingecheck.batch.plan import move_into_place, run_settings_hash
from hingecheck.batch.store import RecordingKey, ResultStore
from hingecheck.batch.worker import Job, JobResult
from hingecheck.pipeline import AnalyzeOptions
from hingecheck.serve import jobs
from hingecheck.serve.config import ServeConfig, ServeConfigError
from hingecheck.serve.db import connect, db_path, open_store
from hingecheck.serve.uploads import INCOMING

log = logging.getLogger(__name__)

WORK_DIR = "work"
RESULTS_DIR = "results"
UPLOADS_DIR = "uploads"
LOCK_FILE = "serve.lock"


def analysis_options(config: ServeConfig) -> tuple[AnalyzeOptions, str, str]:
    """The options every portal analysis uses, with their settings hash and the model's sha256."""
    from hingecheck.io.config import load_settings
    from hingecheck.io.pose import resolve_model

    settings = load_settings(config.config_path)
    model = resolve_model(None)
    options = AnalyzeOptions(
        model_path=model.path,
        config_path=config.config_path,
        write_video=config.write_video,
        blur_faces=config.blur_faces,
    )
    return options, run_settings_hash(settings.hash, options), model.sha256


def ingest(
    conn: sqlite3.Connection, store: ResultStore, data_dir: Path, job_row: Any, result: JobResult, partial: Path
) -> str:
    """Store one job's outcome (idempotent: ingesting the same job again updates the same recording)."""
    job_id = int(job_row["id"])
    client = conn.execute("SELECT name FROM clients WHERE id = ?", (job_row["client_id"],)).fetchone()
    if client is None:  # deleted while it was analysed
        shutil.rmtree(partial, ignore_errors=True)
        return "gone"
    if result.summary is None:  # the worker died or timed out: nothing usable was written
        shutil.rmtree(partial, ignore_errors=True)
        return jobs.finish(
            conn, job_id, analysis_status=result.status, message=result.message, result_dir=None, recording_id=None
        )
    final = data_dir / RESULTS_DIR / str(job_row["uuid"])
    final.parent.mkdir(parents=True, exist_ok=True)
    move_into_place(partial, final)
    summary = dict(result.summary)
    summary["status"] = result.status  # the batch status (a damaged container is 'corrupt')
    summary["message"] = (summary.get("message") or "").replace(str(job_row["video_path"]), job_row["original_name"])
    key = RecordingKey(
        jobs.recording_key_sha(job_row["uuid"], job_row["content_sha256"]),
        job_row["settings_hash"],
        job_row["model_sha256"],
    )
    recording_id = store.upsert_recording(
        key,
        client=client["name"],
        path=f"{UPLOADS_DIR}/{job_row['uuid']}/{job_row['original_name']}",
        source_root=str(data_dir),
        summary=summary,
        output_dir=str(final),
        recorded_at=job_row["created_at"],
        recorded_at_source="upload",
    )
    state = jobs.finish(
        conn,
        job_id,
        analysis_status=result.status,
        message=summary["message"],
        result_dir=str(final),
        recording_id=recording_id,
    )
    if state == "gone":  # the client was deleted while this was being stored: leave nothing of it
        with store.transaction() as sconn:
            sconn.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))
        shutil.rmtree(final, ignore_errors=True)
    return state


def remove_orphans(conn: sqlite3.Connection, data_dir: Path) -> int:
    """Remove upload and result folders no job owns (a server killed between saving a file and its row)."""
    known = {r[0] for r in conn.execute("SELECT uuid FROM jobs")}
    removed = 0
    for sub in (UPLOADS_DIR, RESULTS_DIR):
        root = data_dir / sub
        for folder in root.iterdir() if root.is_dir() else []:
            if folder.is_dir() and not folder.name.startswith(".") and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    if removed:
        log.warning("removed %d upload/result folder(s) that no job owns", removed)
    return removed


class Dispatcher:
    """Worker-slot threads plus a heartbeat thread; ``start`` re-queues what a killed server left running."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.data_dir = config.data_dir
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: set[int] = set()
        self._lock = threading.Lock()
        self._dask: Any = None
        self.options, self.settings_hash, self.model_sha256 = analysis_options(config)
        self._take_lock()

    def start(self) -> None:
        """Queue again what a killed server left running, then start the worker slots and the heartbeat."""
        conn = connect(db_path(self.data_dir))
        try:
            jobs.requeue_abandoned(conn, everything_running=True)
            remove_orphans(conn, self.data_dir)
        finally:
            conn.close()
        shutil.rmtree(self.data_dir / WORK_DIR, ignore_errors=True)  # half-written analyses of a killed run
        shutil.rmtree(self.data_dir / UPLOADS_DIR / INCOMING, ignore_errors=True)  # half-received uploads
        if self.config.scheduler:
            from hingecheck.batch.executors import DaskExecutor

            self._dask = DaskExecutor(self.config.scheduler, self.config.timeout_s)
            log.info("analyses run on %s", self._dask.describe())
        for i in range(self.config.workers):
            t = threading.Thread(target=self._slot_loop, name=f"hingecheck-dispatch-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        hb = threading.Thread(target=self._heartbeat_loop, name="hingecheck-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)

    def _take_lock(self) -> None:
        """One server per data folder: a second one would re-queue the first one's running jobs.

        An flock on ``DIR/serve.lock``: the kernel releases it when the holder dies, even by SIGKILL.
        """
        self._lock_file = open(self.data_dir / LOCK_FILE, "a")  # noqa: SIM115 (held for the server's life)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise ServeConfigError(f"another hingecheck serve is using {self.data_dir}") from None

    def wake(self) -> None:
        """A job was queued: a free slot takes it now instead of at its next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop taking jobs; running ones go back to the queue and are redone at the next start."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            running = sorted(self._running)
        conn = connect(db_path(self.data_dir))
        try:
            jobs.release(conn, running)
        except sqlite3.Error:
            log.exception("cannot put the running jobs back in the queue (the next start will)")
        finally:
            conn.close()
        if self._dask is not None:
            self._dask.close()
        self._lock_file.close()  # releases the flock

    def busy(self) -> int:
        """How many analyses run now."""
        with self._lock:
            return len(self._running)

    def _heartbeat_loop(self) -> None:
        conn = connect(db_path(self.data_dir))
        while not self._stop.wait(jobs.LEASE_S / 4):
            try:
                with self._lock:
                    running = sorted(self._running)
                jobs.heartbeat(conn, running)
                jobs.requeue_abandoned(conn, everything_running=False)
            except sqlite3.Error:
                log.exception("heartbeat failed")

    def _slot_loop(self) -> None:
        conn = connect(db_path(self.data_dir))
        with open_store(self.data_dir) as store:
            while not self._stop.is_set():
                try:
                    row = jobs.claim(conn)
                except sqlite3.Error:
                    log.exception("cannot claim a job")
                    row = None
                if row is None:
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                self._run_one(conn, store, row)

    def _run_one(self, conn: sqlite3.Connection, store: ResultStore, row: sqlite3.Row) -> None:
        job_id = int(row["id"])
        partial = self.data_dir / WORK_DIR / f"{row['uuid']}-{int(row['attempts'])}"
        shutil.rmtree(partial, ignore_errors=True)
        job = Job(
            index=job_id,
            video=str(row["video_path"]),
            rel_path=str(row["original_name"]),
            client=str(row["client_id"]),
            final_dir=str(self.data_dir / RESULTS_DIR / row["uuid"]),
            partial_dir=str(partial),
            options=self.options,
            content_sha256=str(row["content_sha256"]),
            settings_hash=self.settings_hash,
            model_sha256=self.model_sha256,
        )
        outcome: list[JobResult] = []
        with self._lock:
            self._running.add(job_id)
        try:
            executor: Any = self._dask
            if executor is None:
                from hingecheck.batch.executors import LocalExecutor

                executor = LocalExecutor(1, self.config.timeout_s)
            log.info("job %d running (attempt %d)", job_id, row["attempts"])
            executor.run([job], lambda _job, result: outcome.append(result))
            if self._stop.is_set():  # shutting down: the worker was stopped with us, the job is queued again
                shutil.rmtree(partial, ignore_errors=True)
                return
            result = outcome[0] if outcome else JobResult(job_id, "error", "the analysis ended without a result")
            keyed = {**dict(row), "settings_hash": self.settings_hash, "model_sha256": self.model_sha256}
            state = ingest(conn, store, self.data_dir, keyed, result, partial)
            if state == "done" and not self.config.keep_originals:
                Path(row["video_path"]).unlink(missing_ok=True)  # only the (face-blurred) analysis stays
        except Exception as exc:  # keep the slot alive: the job is retried through its lease
            log.exception("job %d could not be run", job_id)
            try:
                jobs.finish(
                    conn,
                    job_id,
                    analysis_status="error",
                    message=f"{type(exc).__name__}: {exc}",
                    result_dir=None,
                    recording_id=None,
                )
            except sqlite3.Error:
                log.exception("job %d: cannot record the failure", job_id)
        finally:
            with self._lock:
                self._running.discard(job_id)
