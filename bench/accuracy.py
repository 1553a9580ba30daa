"""Accuracy of the hip/lumbar split against ground truth, next to the landmark-only baseline.

    python bench/accuracy.py /work/shared/devset [--pose-cache DIR] [--clips dev_01,dev_03]

A clip folder in devset format holds ``<clip>.mp4``, ``<clip>_gt.csv`` and ``<clip>_reps.json``. The real
pipeline runs on every video (PoseEstimator → SagittalMeasurer → calibrate → smooth_series); with
``--pose-cache DIR`` the MediaPipe results are read from (or written to) ``DIR/<clip>.npz`` (the format of
tools/pose_cache.py), so kinematics can be re-scored in seconds.

"baseline" is the landmark-only method: trunk–thigh angle relative to standing, used as the hip angle.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hingecheck.core.filters import smooth_series
from hingecheck.core.kinematics import SagittalMeasurer, assess_view, calibrate
from hingecheck.core.types import AngleSeries, PoseFrame
from hingecheck.io.pose_cache import caching, iter_pose_cache

SCORED = ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg", "trunk_inclination_deg")
SHORT = {"hip_flexion_deg": "hip", "lumbar_flexion_deg": "lumbar", "pelvic_tilt_deg": "pelvis",
         "trunk_inclination_deg": "trunk"}  # fmt: skip
SIDE_ON_YAW_DEG = 20.0  # coverage target applies to clips at most this far from a side view


# --- pose source ---------------------------------------------------------------------------------------------


def _live_poses(video: Path) -> Iterator[PoseFrame]:
    """Run MediaPipe on the video with analyze's pose configuration (its main, single-person pass)."""
    from hingecheck.io.pose import PoseEstimator, configured_num_poses
    from hingecheck.io.video import VideoReader

    with VideoReader(video) as reader, PoseEstimator(num_poses=configured_num_poses()) as estimator:
        for frame in reader:
            yield estimator.process(frame)


def poses_of(video: Path, cache_dir: Path | None) -> Iterator[PoseFrame]:
    """The clip's poses: from ``cache_dir`` when cached there, else from MediaPipe (written to the cache)."""
    if cache_dir is None:
        return _live_poses(video)
    cache = cache_dir / f"{video.stem}.npz"
    return iter_pose_cache(cache) if cache.exists() else caching(_live_poses(video), cache)


# --- scoring -------------------------------------------------------------------------------------------------


@dataclass
class ClipResult:
    clip: str
    yaw_deg: float
    n_frames: int
    errors: dict[str, np.ndarray]  # column → per-frame error (NaN where not measured), split method
    baseline_hip_error: np.ndarray
    coverage: float  # share of frames with a lumbar value
    hip_coverage: float
    warnings: list[str] = field(default_factory=list)
    ms_per_frame: float = float("nan")
    rep_peaks: list[tuple[str, float, float, float, float]] = field(default_factory=list)


def rmse(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e**2))) if e.size else float("nan")


def max_abs(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return float(np.max(np.abs(e))) if e.size else float("nan")


def read_gt(path: Path) -> dict[str, np.ndarray]:
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding=None)
    return {name: np.asarray(data[name]) for name in data.dtype.names}


def evaluate_clip(video: Path, cache_dir: Path | None) -> ClipResult:
    clip = video.stem
    gt = read_gt(video.with_name(f"{clip}_gt.csv"))
    meta = json.loads(video.with_name(f"{clip}_reps.json").read_text())
    measurer = SagittalMeasurer()
    measurements, poses = [], []
    spent = 0.0
    for pose in poses_of(video, cache_dir):
        t0 = time.perf_counter()
        measurements.append(measurer.measure(pose))
        spent += time.perf_counter() - t0
        poses.append(pose.without_mask())
    calibration = calibrate(measurements)
    series = smooth_series(AngleSeries.from_frames([calibration.angles(m) for m in measurements]))
    warnings = [w.code for w in calibration.warnings + assess_view(measurements, poses)]

    # the landmark-only baseline, from the same landmarks and the same standing window
    trunk = np.array([m.trunk_deg for m in measurements]) - calibration.trunk_deg
    thigh = np.array([m.thigh_deg for m in measurements]) - calibration.thigh_deg
    baseline = AngleSeries.empty(series.index, series.time_s)
    baseline.hip_flexion_deg = trunk + thigh
    baseline = smooth_series(baseline)

    n = min(len(series), len(gt["frame"]))
    errors = {c: getattr(series, c)[:n] - gt[c][:n] for c in SCORED}
    lumbar = series.lumbar_flexion_deg[:n]
    reps = []
    for rep in meta.get("reps", []):
        a, b = rep["start_frame"], min(rep["end_frame"], n - 1)
        seg = lumbar[a : b + 1]
        hip_seg = series.hip_flexion_deg[a : b + 1]
        reps.append(
            (
                rep["type"],
                float(np.nanmax(seg)) if np.isfinite(seg).any() else float("nan"),
                float(rep["peak_lumbar_flexion_deg"]),
                float(np.nanmax(hip_seg)) if np.isfinite(hip_seg).any() else float("nan"),
                float(rep["peak_hip_flexion_deg"]),
            )
        )
    return ClipResult(
        clip=clip,
        yaw_deg=float(meta.get("camera", {}).get("yaw_deg", float("nan"))),
        n_frames=n,
        errors=errors,
        baseline_hip_error=baseline.hip_flexion_deg[:n] - gt["hip_flexion_deg"][:n],
        coverage=float(np.isfinite(lumbar).mean()),
        hip_coverage=float(np.isfinite(series.hip_flexion_deg[:n]).mean()),
        warnings=warnings,
        ms_per_frame=1000.0 * spent / max(len(measurements), 1),
        rep_peaks=reps,
    )


# --- report --------------------------------------------------------------------------------------------------


def _table_rows(results: list[ClipResult]) -> tuple[list[str], list[list[str]]]:
    header = ["clip", "yaw°"]
    for c in SCORED:
        header += [f"{SHORT[c]} rmse", f"{SHORT[c]} max"]
    header += ["baseline hip rmse", "baseline hip max", "coverage", "ms/frame", "warnings"]
    rows = []

    def fmt(x: float) -> str:
        return "—" if not np.isfinite(x) else f"{x:.1f}"

    for r in results:
        row = [r.clip, f"{r.yaw_deg:+.0f}"]
        for c in SCORED:
            row += [fmt(rmse(r.errors[c])), fmt(max_abs(r.errors[c]))]
        row += [
            fmt(rmse(r.baseline_hip_error)),
            fmt(max_abs(r.baseline_hip_error)),
            f"{r.coverage:.0%}",
            f"{r.ms_per_frame:.1f}",
            ",".join(r.warnings),
        ]
        rows.append(row)
    pooled = {c: np.concatenate([r.errors[c] for r in results]) for c in SCORED}
    base = np.concatenate([r.baseline_hip_error for r in results])
    cover = np.mean(np.concatenate([np.isfinite(r.errors["lumbar_flexion_deg"]) for r in results]))
    row = ["overall", ""]
    for c in SCORED:
        row += [fmt(rmse(pooled[c])), fmt(max_abs(pooled[c]))]
    ms = np.mean([r.ms_per_frame for r in results])
    row += [fmt(rmse(base)), fmt(max_abs(base)), f"{cover:.0%}", f"{ms:.1f}", ""]
    rows.append(row)
    return header, rows


def print_report(results: list[ClipResult]) -> None:
    header, rows = _table_rows(results)
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="hip/lumbar split vs ground truth (degrees; RMSE and max |error| per clip)")
        for h in header:
            table.add_column(h, justify="left" if h in ("clip", "warnings") else "right")
        for row in rows:
            table.add_row(*row, end_section=row[0] == rows[-2][0])
        Console(width=220).print(table)
    except ImportError:  # plain text is enough
        print(" | ".join(header))
        for row in rows:
            print(" | ".join(row))
    print("\nper-rep peaks (measured / truth):")
    for r in results:
        text = "  ".join(f"{t[:4]} L{lm:.0f}/{lg:.0f} H{hm:.0f}/{hg:.0f}" for t, lm, lg, hm, hg in r.rep_peaks)
        print(f"  {r.clip}: {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="clips in devset format")
    parser.add_argument("--pose-cache", type=Path, default=None, help="read/write MediaPipe results here")
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: all)")
    args = parser.parse_args(argv)
    videos = sorted(p for p in args.folder.glob("*.mp4") if p.with_name(f"{p.stem}_gt.csv").exists())
    if args.clips:
        wanted = set(args.clips.split(","))
        videos = [v for v in videos if v.stem in wanted]
    if not videos:
        print(f"no clips with ground truth in {args.folder}", file=sys.stderr)
        return 2
    results = [evaluate_clip(v, args.pose_cache) for v in videos]
    print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
