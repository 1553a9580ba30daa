"""Where batch jobs run: a local pool of spawned worker processes, or a Dask distributed cluster.

Both take jobs, enforce a per-video timeout and report each outcome through ``on_done`` in the parent.
A hanging or crashing video costs its own worker only: the watchdog kills that process, starts a fresh
one and the rest of the batch carries on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Final

from hingecheck.batch.worker import Job, JobResult, run_job, worker_main
from hingecheck.core.errors import HingecheckError

OnStart = Callable[[Job], None]
OnDone = Callable[[Job, JobResult], None]

# Spawn, not fork: MediaPipe's threads and GL/XNNPACK state do not survive a fork.
MP_CONTEXT: Final = "spawn"
MAX_FAILED_STARTS = 3


class ExecutorError(HingecheckError):
    """The executor cannot run (no Dask, scheduler unreachable, workers that never start): one line."""

    status = "error"


@dataclass
class _Slot:
    process: Any  # multiprocessing.Process (spawn context)
    conn: Connection
    ready: bool = False
    job: Job | None = None
    started_at: float = 0.0


class LocalExecutor:
    """N long-lived worker processes, one video each at a time, with a watchdog for the per-video timeout.

    (A ProcessPoolExecutor cannot kill one stuck task without breaking the whole pool, so the pool is
    kept by hand: a pipe per worker, and ``multiprocessing.connection.wait`` on pipes and process sentinels.)
    """

    def __init__(self, workers: int, timeout_s: float) -> None:
        self.workers = max(1, int(workers))
        self.timeout_s = float(timeout_s)
        self._ctx = mp.get_context(MP_CONTEXT)
        self._failed_starts = 0

    def describe(self) -> str:
        """A short description for the terminal and batch.json (how many worker processes)."""
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"

    def _start(self) -> _Slot:
        parent_conn, child_conn = self._ctx.Pipe()
        process = self._ctx.Process(
            target=worker_main, args=(child_conn, os.getpid()), daemon=True, name="hingecheck-worker"
        )
        process.start()
        child_conn.close()
        return _Slot(process, parent_conn)

    @staticmethod
    def _stop(slot: _Slot, kill: bool) -> None:
        if kill:
            slot.process.kill()
        else:
            with contextlib.suppress(OSError):
                slot.conn.send(None)
        slot.process.join(timeout=None if kill else 10)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join()
        slot.conn.close()

    def run(self, jobs: Iterable[Job], on_done: OnDone, on_start: OnStart | None = None) -> None:
        """Run the jobs on the worker processes, calling ``on_done`` in this process as each finishes."""
        pending = deque(jobs)
        slots: list[_Slot] = []
        try:
            while pending or any(s.job for s in slots):
                # keep as many workers as there is work for
                while len(slots) < min(self.workers, len(pending) + sum(1 for s in slots if s.job)):
                    slots.append(self._start())
                for slot in slots:
                    if slot.ready and slot.job is None and pending:
                        slot.job = pending.popleft()
                        slot.started_at = time.monotonic()
                        slot.conn.send(slot.job)
                        if on_start:
                            on_start(slot.job)
                busy = [s for s in slots if s.job]
                deadline = min((s.started_at + self.timeout_s for s in busy), default=None)
                wait_s = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready = set(wait([s.conn for s in slots] + [s.process.sentinel for s in slots], timeout=wait_s))
                for slot in list(slots):
                    replace_reason = self._service(slot, ready, on_done)
                    if replace_reason is not None:
                        slots.remove(slot)
        finally:
            for slot in slots:
                self._stop(slot, kill=slot.job is not None)

    def _service(self, slot: _Slot, ready: set[Any], on_done: OnDone) -> str | None:
        """Handle one worker's pipe, death or overrun; returns a reason when the worker must be replaced."""
        if slot.conn in ready:
            try:
                message = slot.conn.recv()
            except (EOFError, OSError):
                message = None
            if isinstance(message, tuple) and message[0] == "ready":
                slot.ready = True
                self._failed_starts = 0
                return None
            if isinstance(message, JobResult) and slot.job is not None:
                job, slot.job = slot.job, None
                on_done(job, message)
                return None
        if slot.process.sentinel in ready or not slot.process.is_alive():
            slot.process.join(timeout=1)
            code = slot.process.exitcode
            if slot.job is not None:
                job, slot.job = slot.job, None
                on_done(job, JobResult(job.index, "error", f"the worker process died (exit code {code})"))
            elif not slot.ready:
                self._failed_starts += 1
                if self._failed_starts >= MAX_FAILED_STARTS:
                    raise ExecutorError(f"worker processes fail to start (exit code {code})")
            self._stop(slot, kill=True)
            return "died"
        if slot.job is not None and time.monotonic() - slot.started_at > self.timeout_s:
            job, slot.job = slot.job, None
            self._stop(slot, kill=True)
            on_done(
                job,
                JobResult(
                    job.index,
                    "timeout",
                    f"analysis took longer than {self.timeout_s:g} s and was stopped",
                    elapsed_s=self.timeout_s,
                ),
            )
            return "timeout"
        return None


class DaskExecutor:
    """The same jobs on a Dask distributed cluster (``--scheduler tcp://HOST:PORT``).

    Workers must see INDIR and OUTDIR at the same paths (a shared file system). At most one job per worker
    thread is in flight, so a job's clock starts about when it starts; a job past its timeout is cancelled,
    its worker restarted (killing the stuck analysis) and the batch continues.
    """

    def __init__(self, address: str, timeout_s: float, connect_timeout_s: float = 10.0) -> None:
        if importlib.util.find_spec("distributed") is None:  # an optional extra: say so when it is asked for
            raise ExecutorError('--scheduler needs Dask: pip install "hingecheck[dask]"')
        from distributed import Client

        self.address = address
        self.timeout_s = float(timeout_s)
        try:
            self.client = Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def describe(self) -> str:
        """A short description for the terminal and batch.json (the cluster, its workers and threads)."""
        workers = self.client.scheduler_info().get("workers", {})
        threads = sum(w.get("nthreads", 1) for w in workers.values())
        return f"Dask cluster {self.address} ({len(workers)} workers, {threads} threads)"

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()

    def _slots(self) -> int:
        workers = self.client.scheduler_info().get("workers", {})
        return max(1, sum(w.get("nthreads", 1) for w in workers.values()))

    def run(self, jobs: Iterable[Job], on_done: OnDone, on_start: OnStart | None = None) -> None:
        """Run the jobs on the cluster, calling ``on_done`` in this process as each finishes."""
        from distributed import wait as dask_wait

        pending = deque(jobs)
        in_flight: dict[Any, tuple[Job, float]] = {}
        try:
            while pending or in_flight:
                slots = self._slots()
                while pending and len(in_flight) < slots:
                    job = pending.popleft()
                    future = self.client.submit(run_job, job, pure=False, key=f"hingecheck-{job.index}-{os.getpid()}")
                    in_flight[future] = (job, time.monotonic())
                    if on_start:
                        on_start(job)
                deadline = min(t + self.timeout_s for _, t in in_flight.values())
                wait_s = max(0.05, deadline - time.monotonic())
                try:
                    with self.client.as_current():  # dask's wait() looks for a default client
                        done, _ = dask_wait(list(in_flight), timeout=wait_s, return_when="FIRST_COMPLETED")
                except TimeoutError:  # dask raises instead of returning nothing done
                    done = set()
                for future in done:
                    job, _ = in_flight.pop(future)
                    on_done(job, self._result_of(job, future))
                now = time.monotonic()
                overdue = [f for f, (_, t) in in_flight.items() if now - t > self.timeout_s]
                if overdue:
                    self._stop_overdue(overdue, in_flight, on_done)
        finally:
            if in_flight:
                self.client.cancel(list(in_flight))

    @staticmethod
    def _result_of(job: Job, future: Any) -> JobResult:
        try:
            result = future.result()
        except Exception as exc:  # the task itself never raises; this is a lost worker or a cancelled task
            return JobResult(job.index, "error", f"the Dask task failed: {type(exc).__name__}: {exc}")
        return result if isinstance(result, JobResult) else JobResult(job.index, "error", "unexpected task result")

    def _stop_overdue(self, overdue: list[Any], in_flight: dict[Any, tuple[Job, float]], on_done: OnDone) -> None:
        keys = {f.key for f in overdue}
        stuck_workers = [w for w, ks in self.client.processing().items() if keys & set(ks)]
        self.client.cancel(overdue, force=True)
        for future in overdue:
            job, _ = in_flight.pop(future)
            on_done(
                job,
                JobResult(job.index, "timeout", f"analysis took longer than {self.timeout_s:g} s and was stopped"),
            )
        if stuck_workers:
            # a running Python thread cannot be cancelled: restart its worker process to free the slot
            self.client.restart_workers(stuck_workers, raise_for_error=False)
            now = time.monotonic()
            for future, (job, _) in list(in_flight.items()):  # their tasks may be rescheduled: fresh clocks
                in_flight[future] = (job, now)
