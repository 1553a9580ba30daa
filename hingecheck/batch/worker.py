"""The unit of batch work, run inside a worker process (local pool or Dask): analyse one video into a folder.

Workers only write files inside their own temporary folder and return a small picklable ``JobResult``;
the parent moves the folder into place and is the only writer of the results database.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hingecheck.pipeline import AnalyzeOptions

# analyze statuses → batch statuses (docs: batch.json `status`)
_STATUS_MAP = {
    "ok": "ok",
    "no_person": "no_person",
    "not_a_video": "not_a_video",
    "corrupt": "corrupt",
}
SOURCE_FILE = "source.json"  # what was analysed with which settings: lets a rerun trust a finished folder

# Leading bytes of containers we accept as "this is a video file", to tell damaged videos from non-videos.
_VIDEO_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),  # MP4 / MOV / M4V / 3GP (ISO base media)
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM (EBML)
    (8, b"AVI "),  # RIFF AVI
)


@dataclass(frozen=True)
class Job:
    """One video to analyse. Paths are absolute; ``partial_dir`` is where the worker writes."""

    index: int
    video: str
    rel_path: str
    client: str
    final_dir: str
    partial_dir: str
    options: AnalyzeOptions
    content_sha256: str
    settings_hash: str
    model_sha256: str


@dataclass
class JobResult:
    """What a worker sends back for one job: batch status, message, summary.json, time and frames."""

    index: int
    status: str  # batch status: ok / no_person / not_a_video / corrupt / timeout / error
    message: str
    summary: dict[str, Any] | None = None  # summary.json as written, None when the worker died or timed out
    elapsed_s: float = 0.0
    frames: int = 0
    worker: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def looks_like_video_container(path: str | Path) -> bool:
    """True when the file starts like a video container (so failing to open it means damaged, not wrong type)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return any(head[offset : offset + len(sig)] == sig for offset, sig in _VIDEO_SIGNATURES)


def batch_status(analyze_status: str, message: str, video: str | Path) -> str:
    """Map an analyze status onto the batch statuses; a video container that cannot be opened is ``corrupt``."""
    status = _STATUS_MAP.get(analyze_status, "error")
    if (
        status == "not_a_video"
        and "no video stream" not in message
        and "empty file" not in message
        and looks_like_video_container(video)
    ):
        # e.g. an MP4 cut before its index (moov atom): it is a damaged video, not some other kind of file
        return "corrupt"
    return status


def run_job(job: Job) -> JobResult:
    """Analyse one video into ``job.partial_dir``. Never raises: every failure becomes a status and a message."""
    t0 = time.perf_counter()
    partial = Path(job.partial_dir)
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        from hingecheck.api import analyze_to_dir

        partial.mkdir(parents=True, exist_ok=True)
        source = {
            "path": job.rel_path,
            "client": job.client,
            "content_sha256": job.content_sha256,
            "settings_hash": job.settings_hash,
            "model_sha256": job.model_sha256,
        }
        (partial / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n")
        analyze_to_dir(job.video, partial, job.options)
        summary = json.loads((partial / "summary.json").read_text())
        status = batch_status(summary.get("status", "error"), summary.get("message", ""), job.video)
        if status != summary.get("status"):
            summary["batch_status"] = status
        return JobResult(
            index=job.index,
            status=status,
            message=str(summary.get("message") or ""),
            summary=summary,
            elapsed_s=time.perf_counter() - t0,
            frames=int(summary.get("frames") or 0),
            worker=worker,
        )
    except Exception as exc:  # guard: one broken video must never stop the batch
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
        return JobResult(
            index=job.index,
            status="error",
            message=f"{type(exc).__name__}: {exc}{where}",
            elapsed_s=time.perf_counter() - t0,
            worker=worker,
        )


def job_result_dict(result: JobResult) -> dict[str, Any]:
    """The result as a plain dict (for Dask, which ships results between processes)."""
    return asdict(result)


def _exit_when_orphaned(parent_pid: int) -> None:
    """A worker whose parent was killed (SIGKILL leaves no chance to clean up) stops instead of burning CPU."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(3)
        time.sleep(0.5)


def worker_main(conn: Any, parent_pid: int) -> None:
    """Loop of a local worker process: receive a Job, send back its JobResult; ``None`` or EOF ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops us cleanly
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    from hingecheck import api  # noqa: F401  (import the heavy stack before saying ready: timeouts count analysis only)

    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(run_job(job))
