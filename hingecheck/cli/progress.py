"""Terminal presentation: a progress bar while analysing and a short summary after (rich)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from hingecheck.pipeline import ProgressCallback
from hingecheck.result import AnalysisResult

console = Console(stderr=True)


@contextmanager
def video_progress(video: str | Path) -> Iterator[ProgressCallback | None]:
    """A progress bar over the video's duration on a terminal; nothing when output is redirected."""
    if not sys.stderr.isatty():
        yield None
        return
    duration = 0.0
    try:
        from hingecheck.io.video import probe

        duration = probe(video).duration_s
    except Exception:  # the analysis itself reports unreadable input
        duration = 0.0
    with Progress(
        TextColumn("[bold]analysing[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.fields[frames]} frames"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(Path(video).name, total=duration or None, frames=0)

        def update(frames: int, time_s: float) -> None:
            bar.update(task, completed=time_s, frames=frames)

        yield update


def print_summary(result: AnalysisResult, out_dir: Path) -> None:
    """Print the reps, verdicts and warnings of a result, or its failure in one line."""
    out = Console()
    if not result.ok:
        print(f"hingecheck: {result.status}: {result.message}", file=sys.stderr)
        return
    reps = [r for r in result.reps if not r.partial]
    out.print(
        f"[bold]{len(reps)} reps[/] analysed, person found in {result.detection_rate:.0%} of {result.n_frames} frames"
    )
    for rep in result.reps:
        clean = "no fault among what could be judged" if result.verdicts_withheld else "good hinge"
        verdict = ", ".join(f.message for f in rep.faults) if rep.faults else clean
        hip = rep.peak_hip_flexion_deg
        lum = rep.peak_lumbar_flexion_deg
        if hip is None and lum is None and rep.peak_trunk_inclination_deg is None:
            measured = "counted, nothing measured (no standing posture to measure from)"
        else:
            hip_txt = f"hip {hip:.0f}°" if hip is not None else "hip not measured"
            measured = f"{hip_txt}, " + (f"lumbar {lum:.0f}°" if lum is not None else "lumbar not measured")
        out.print(f"  rep {rep.index}{' (partial)' if rep.partial else ''}: {measured} — {verdict}")
    for code, reason in result.verdicts_withheld.items():
        out.print(f"[yellow]not judged[/] {code}: {reason}")
    for w in result.warnings:
        out.print(f"[yellow]warning[/] {w.code}: {w.message}")
    out.print(f"outputs in [bold]{out_dir}[/]: " + ", ".join(sorted(set(result.outputs.values()))))
