"""Terminal presentation of a batch: a rich progress bar on a terminal, one line per video otherwise."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from hingecheck.batch.plan import Batch, Item

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
    def __init__(self, total: int, quiet: bool = False) -> None:
        self.console = Console(stderr=True)
        self.quiet = quiet
        self.counts: Counter[str] = Counter()
        self.live = (not quiet) and sys.stderr.isatty()
        self._progress: Progress | None = None
        self._task = None
        self.total = total

    def __enter__(self) -> BatchProgress:
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
            self._task = self._progress.add_task("batch", total=self.total, status="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def _status_text(self) -> str:
        return "  ".join(f"[{STATUS_STYLE.get(s, '')}]{s} {n}[/]" for s, n in sorted(self.counts.items()))

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[dim]{escape(text)}[/]")

    def skip(self, n: int) -> None:
        if n and self._progress is not None:
            self._progress.update(self._task, advance=n)
        if n:
            self.counts["already done"] += n

    def start(self, item: Item) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=item.rel_path)

    def done(self, item: Item) -> None:
        self.counts[item.status] += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1, status=self._status_text())
        if not self.quiet:
            style = STATUS_STYLE.get(item.status, "")
            extra = f" — {escape(item.message)}" if item.message else ""
            self.console.print(
                f"[{style}]{item.status:>17}[/] {escape(item.rel_path)}{extra}", highlight=False, soft_wrap=True
            )


def print_batch_summary(batch: Batch, elapsed_s: float) -> None:
    out = Console()
    counts = Counter(i.status for i in batch.items)
    table = Table(title=f"{len(batch.items)} files in {elapsed_s:.0f} s", show_edge=False)
    table.add_column("status")
    table.add_column("files", justify="right")
    for status, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(f"[{STATUS_STYLE.get(status, '')}]{status}[/]", str(n))
    out.print(table)
    out.print(f"dashboard: [bold]{escape(str(batch.outdir / 'index.html'))}[/]")
