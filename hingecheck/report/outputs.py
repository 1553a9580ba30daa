"""Every output of the contract for one result, written into OUTDIR (``AnalysisResult.save`` and the CLI).

frames.csv, reps.csv, annotated.mp4, plots and report.html first, summary.json last: it marks completion.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hingecheck.io.sinks import temporary_path, write_frames_csv, write_reps_csv, write_summary_json
from hingecheck.io.video import VideoReader, VideoWriter
from hingecheck.render.overlay import OverlayRenderer
from hingecheck.render.plots import write_plots
from hingecheck.report.html import write_report

if TYPE_CHECKING:  # the result is the data these stages read; they sit below it
    from hingecheck.result import AnalysisResult, OutputOptions


def write_annotated_video(
    result: AnalysisResult, video_path: str | Path, path: Path, blur_faces: bool, max_width: int | None
) -> None:
    """Second decoding pass: draw the overlay on every frame and encode H.264 (renamed into place at the end)."""
    renderer = OverlayRenderer(result, blur_faces=blur_faces)
    tmp = temporary_path(path)
    with VideoReader(video_path, max_width=max_width) as reader:
        writer = VideoWriter(tmp, reader.info.width, reader.info.height, reader.info.fps)
        try:
            for frame in reader:
                writer.write(renderer.draw(frame.rgb, frame.index), frame.time_s)
        finally:
            writer.close()
    os.replace(tmp, path)


def write_outputs(result: AnalysisResult, video_path: str | Path, out_dir: Path, options: OutputOptions) -> None:
    """frames.csv, reps.csv, annotated.mp4, plots, report.html, then summary.json last (it marks completion)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if result.angles is not None:
        write_frames_csv(result, out_dir / "frames.csv")
        write_reps_csv(result, out_dir / "reps.csv")
        result.outputs.update({"frames": "frames.csv", "reps": "reps.csv"})
        if options.write_video and result.poses:
            write_annotated_video(result, video_path, out_dir / "annotated.mp4", options.blur_faces, options.max_width)
            result.outputs["annotated_video"] = "annotated.mp4"
        result.outputs.update(write_plots(result, out_dir))
    write_report(result, out_dir)
    result.outputs["report"] = "report.html"
    result.timings_s["outputs"] = time.perf_counter() - t0
    result.outputs["summary"] = "summary.json"
    write_summary_json(result, out_dir / "summary.json")
