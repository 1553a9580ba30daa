"""Speed benchmark: MediaPipe inference alone vs the whole ``analyze`` pipeline, on the same clip, in one run.

    python bench/speed.py samples/hinge_good_stoop.mp4 [--repeat 1] [--no-video]

Prints frames per second for both and their ratio (pipeline fps / inference fps).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hingecheck.api import analyze_to_dir  # noqa: E402
from hingecheck.io.pose import PoseEstimator, configured_num_poses  # noqa: E402
from hingecheck.io.video import VideoReader  # noqa: E402
from hingecheck.pipeline import AnalyzeOptions  # noqa: E402


def inference_only(video: Path, num_poses: int) -> tuple[int, float, float]:
    """Frames, seconds spent inside MediaPipe, and wall seconds including decoding."""
    frames, infer_s = 0, 0.0
    wall0 = time.perf_counter()
    with VideoReader(video, max_width=1280) as reader, PoseEstimator(num_poses=num_poses) as estimator:
        for frame in reader:
            t0 = time.perf_counter()
            estimator.process(frame)
            infer_s += time.perf_counter() - t0
            frames += 1
    return frames, infer_s, time.perf_counter() - wall0


def whole_pipeline(video: Path, write_video: bool) -> tuple[int, float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        result = analyze_to_dir(video, out, AnalyzeOptions(write_video=write_video))
        wall = time.perf_counter() - t0
    return result.n_frames, wall, result.timings_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--no-video", action="store_true", help="pipeline without annotated.mp4/report video")
    args = parser.parse_args()
    num_poses = configured_num_poses()

    n_inf, infer_s, infer_wall = inference_only(args.video, num_poses)
    n_pipe, pipe_s, stages = whole_pipeline(args.video, not args.no_video)

    table = Table(title=f"{args.video.name}: {n_inf} frames, num_poses={num_poses}, {os.cpu_count()} CPUs")
    for col in ("what", "frames", "seconds", "fps", "ms/frame"):
        table.add_column(col, justify="right" if col != "what" else "left")
    rows = [
        ("MediaPipe inference alone", n_inf, infer_s),
        ("decode + inference", n_inf, infer_wall),
        ("whole analyze pipeline" + (" (no video)" if args.no_video else ""), n_pipe, pipe_s),
    ]
    for name, n, s in rows:
        table.add_row(name, str(n), f"{s:.2f}", f"{n / s:.1f}", f"{1000 * s / n:.1f}")
    console = Console()
    console.print(table)
    ratio = (n_pipe / pipe_s) / (n_inf / infer_s)
    console.print(
        f"pipeline fps / inference fps = [bold]{ratio:.2f}[/]  (stages: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items())
        + ")"
    )


if __name__ == "__main__":
    main()
