"""One analysis job: analyse a video and write every output of the contract into OUTDIR.

``analyze_to_dir`` never raises for bad input: it writes summary.json with an honest status and returns
the result, so batch work continues past a bad file. Used by ``analyze``, ``batch`` and ``live --record``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .errors import HingecheckError
from .pipeline import AnalyzeOptions, ProgressCallback, analyze, error_result
from .render.overlay import OverlayRenderer
from .result import AnalysisResult
from .sinks import temporary_path, write_frames_csv, write_reps_csv, write_summary_json
from .video import VideoReader, VideoWriter


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


def write_outputs(result: AnalysisResult, video_path: str | Path, out_dir: Path, options: AnalyzeOptions) -> None:
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
        try:
            from .render.plots import write_plots
        except ImportError:
            write_plots = None
        if write_plots is not None:
            result.outputs.update(write_plots(result, out_dir))
    try:
        from .report.html import write_report
    except ImportError:
        write_report = None
    if write_report is not None:
        write_report(result, out_dir)
        result.outputs["report"] = "report.html"
    result.timings_s["outputs"] = time.perf_counter() - t0
    result.outputs["summary"] = "summary.json"
    write_summary_json(result, out_dir / "summary.json")


def analyze_to_dir(
    video_path: str | Path,
    out_dir: str | Path,
    options: AnalyzeOptions | None = None,
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    options = options or AnalyzeOptions()
    out = Path(out_dir)
    try:
        result = analyze(video_path, options, progress=progress)
    except HingecheckError as exc:
        result = error_result(video_path, exc)
    write_outputs(result, video_path, out, options)
    return result
