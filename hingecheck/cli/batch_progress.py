"""Terminal presentation of a batch (the CLI's ``BatchObserver``): a rich progress bar on a terminal, one line per
video otherwise, and the summary table at the end."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from hingecheck.batch.discovery import Item
    from hingecheck.batch.plan import Batch

STATUS_STYLE = {
    "ok": "green",
    "skipped_unchanged": "dim",
    "no_person": "yellow",
    "not_a_video": "yellow",
    "corrupt": "red",
    "timeout": "red",
    "error": "bold red",
}


class BatchProgress:
    """Progress of a batch on stderr: a live bar on a terminal, else one line per finished video."""

    def __init__(self, quiet: bool = False) -> None:
        self.console = Console(stderr=True)
        self.quiet = quiet
        self.counts: Counter[str] = Counter()
        self.live = (not quiet) and sys.stderr.isatty()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        return self

    def begin(self, total: int) -> None:
        """The plan is made: ``total`` videos; the live bar starts (on a terminal)."""
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]batch[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("batch", total=total, status="")

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def _task_id(self) -> TaskID:
        assert self._task is not None
        return self._task

    def _status_text(self) -> str:
        return "  ".join(f"[{STATUS_STYLE.get(s, '')}]{s} {n}[/]" for s, n in sorted(self.counts.items()))

    def note(self, text: str) -> None:
        """A dim one-line note."""
        if not self.quiet:
            self.console.print(f"[dim]{escape(text)}[/]")

    def skip(self, n: int) -> None:
        """Count ``n`` videos that need no analysis."""
        if n and self._progress is not None:
            self._progress.update(self._task_id(), advance=n)
        if n:
            self.counts["already done"] += n

    def start(self, item: Item) -> None:
        """Name the video being analysed."""
        if self._progress is not None:
            self._progress.update(self._task_id(), description=item.rel_path)

    def done(self, item: Item) -> None:
        """Count a finished video and print its line."""
        self.counts[item.status] += 1
        if self._progress is not None:
            self._progress.update(self._task_id(), advance=1, status=self._status_text())
        if not self.quiet:
            style = STATUS_STYLE.get(item.status, "")
            extra = f" — {escape(item.message)}" if item.message else ""
            self.console.print(
                f"[{style}]{item.status:>17}[/] {escape(item.rel_path)}{extra}", highlight=False, soft_wrap=True
            )


def print_batch_summary(batch: Batch, elapsed_s: float) -> None:
    """The end-of-batch table: how many files ended in each status, and where the dashboard is."""
    out = Console()
    counts = Counter(i.status for i in batch.items)
    table = Table(title=f"{len(batch.items)} files in {elapsed_s:.0f} s", show_edge=False)
    table.add_column("status")
    table.add_column("files", justify="right")
    for status, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(f"[{STATUS_STYLE.get(status, '')}]{status}[/]", str(n))
    out.print(table)
    out.print(f"dashboard: [bold]{escape(str(batch.outdir / 'index.html'))}[/]")
