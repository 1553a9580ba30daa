"""``hingecheck batch`` run loop: plan, execute the jobs (local worker processes or a Dask cluster), record each
result as it arrives, and write the dashboard at the end.

What happens is reported to a ``BatchObserver`` (the CLI's progress bar); without one it is logged.
"""

from __future__ import annotations

import logging
from typing import Protocol

from hingecheck.batch.dashboard import write_dashboard
from hingecheck.batch.discovery import Item
from hingecheck.batch.executors import DaskExecutor, LocalExecutor
from hingecheck.batch.plan import Batch, BatchRequest, clean_leftovers
from hingecheck.batch.store import ResultStore
from hingecheck.batch.worker import Job, JobResult

log = logging.getLogger(__name__)


class BatchObserver(Protocol):
    """What a batch reports while it runs (``cli.batch_progress.BatchProgress`` draws it)."""

    def begin(self, total: int) -> None:
        """The plan is made: ``total`` videos in the input folder."""

    def note(self, text: str) -> None:
        """A one-line note (e.g. how many videos are analysed, and where)."""

    def skip(self, n: int) -> None:
        """``n`` videos need no analysis (already done with the same settings, model and bytes)."""

    def start(self, item: Item) -> None:
        """The analysis of ``item`` started."""

    def done(self, item: Item) -> None:
        """``item`` is finished (its ``status`` and ``message`` say how)."""


class LoggingObserver:
    """The observer used when none is given: one log record per event."""

    def begin(self, total: int) -> None:
        """Log the number of videos found."""
        log.info("%d videos", total)

    def note(self, text: str) -> None:
        """Log the note."""
        log.info("%s", text)

    def skip(self, n: int) -> None:
        """Log how many videos need no analysis."""
        if n:
            log.info("%d already done", n)

    def start(self, item: Item) -> None:
        """Log the start of an analysis."""
        log.debug("analysing %s", item.rel_path)

    def done(self, item: Item) -> None:
        """Log a finished video."""
        log.info("%s %s%s", item.status, item.rel_path, f" — {item.message}" if item.message else "")


def make_executor(req: BatchRequest) -> LocalExecutor | DaskExecutor:
    """Local worker processes, or the Dask cluster at ``req.scheduler``."""
    if req.scheduler:
        return DaskExecutor(req.scheduler, req.timeout_s)
    return LocalExecutor(req.workers, req.timeout_s)


def run(req: BatchRequest, observer: BatchObserver | None = None) -> Batch:
    """Run a whole batch; returns the Batch with every item's outcome. Raises BatchError for unusable setup."""
    progress = observer or LoggingObserver()
    batch = Batch(req)
    clean_leftovers(batch.outdir)
    with ResultStore(req.db_path) as store:
        jobs = batch.plan(store)
        batch.write_batch_json(finished=False)
        progress.begin(len(batch.items))
        progress.skip(sum(1 for i in batch.items if i.status != "pending"))
        if jobs:
            executor = make_executor(req)
            batch.executor_description = executor.describe()
            progress.note(f"{len(jobs)} to analyse on {batch.executor_description}")

            def on_done(job: Job, result: JobResult) -> None:
                item = batch.finish(store, job, result)
                batch.write_batch_json(finished=False)
                progress.done(item)

            try:
                executor.run(jobs, on_done, on_start=lambda job: progress.start(batch.items[job.index]))
            finally:
                if isinstance(executor, DaskExecutor):
                    executor.close()
        batch.write_batch_json(finished=True)
        write_dashboard(batch.outdir, store, [batch.item_dict(i) for i in batch.items])
    return batch
