"""Accuracy of the hip/lumbar split against ground truth, next to the landmark-only baseline.

    python bench/accuracy.py /work/shared/devset [--pose-cache DIR] [--clips dev_01,dev_03]
    python bench/accuracy.py /work/corpus/c0* --manifest tools/corpus/manifest.csv --split val --pose-cache DIR

A clip folder in devset format holds ``<clip>.mp4``, ``<clip>_gt.csv`` and ``<clip>_reps.json``. The real
pipeline runs on every video (PoseEstimator → SagittalMeasurer → ``pipeline.angles_from``), once per reading
method in the same run: the hand-made outline windows (old) and the learned model (new), side by side, with the
learned reading's stated 90 % half-widths and the share of frames they held the truth (its calibration); with
``--pose-cache DIR`` the MediaPipe results are read from (or written to) ``DIR/<clip>.npz`` (the format of
tools/pose_cache.py), so kinematics can be re-scored in seconds.

"baseline" is the landmark-only method: trunk–thigh angle relative to standing, used as the hip angle.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hingecheck.core.filters import smooth_series
from hingecheck.core.kinematics import SagittalMeasurer, assess_view
from hingecheck.core.settings import Settings
from hingecheck.core.types import ANGLE_COLUMNS, UNCERTAINTY_COLUMNS, AngleSeries, PoseFrame
from hingecheck.io.config import load_settings
from hingecheck.io.pose_cache import caching, iter_pose_cache
from hingecheck.pipeline import Measured, angles_from

SCORED = ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg", "trunk_inclination_deg")
SHORT = {"hip_flexion_deg": "hip", "lumbar_flexion_deg": "lumbar", "pelvic_tilt_deg": "pelvis",
         "trunk_inclination_deg": "trunk"}  # fmt: skip
SIDE_ON_YAW_DEG = 20.0  # coverage target applies to clips at most this far from a side view


# --- pose source ---------------------------------------------------------------------------------------------


def _live_poses(video: Path) -> Iterator[PoseFrame]:
    """Run MediaPipe on the video with analyze's pose configuration (its main, single-person pass)."""
    from hingecheck.io.pose import PoseEstimator, configured_num_poses
    from hingecheck.io.video import VideoReader

    with VideoReader(video, max_width=1280) as reader, PoseEstimator(num_poses=configured_num_poses()) as estimator:
        for frame in reader:
            yield estimator.process(frame)


def poses_of(video: Path, cache_dir: Path | None) -> Iterator[PoseFrame]:
    """The clip's poses: from ``cache_dir`` when cached there, else from MediaPipe (written to the cache)."""
    if cache_dir is None:
        return _live_poses(video)
    cache = cache_dir / f"{video.stem}.npz"
    return iter_pose_cache(cache) if cache.exists() else caching(_live_poses(video), cache)


# --- scoring -------------------------------------------------------------------------------------------------

METHODS = ("hand_made", "learned")


@dataclass
class ClipResult:
    clip: str
    yaw_deg: float
    n_frames: int
    errors: dict[str, dict[str, np.ndarray]]  # method → column → per-frame error (NaN where not measured)
    uncertainty: dict[str, np.ndarray]  # learned: column → stated 90 % half-width per frame
    baseline_hip_error: np.ndarray
    coverage: dict[str, float]  # method → share of frames with a lumbar value
    warnings: list[str] = field(default_factory=list)
    ms_per_frame: dict[str, float] = field(default_factory=dict)  # "measure", and each method's reading
    rep_peaks: list[tuple[str, float, float, float, float]] = field(default_factory=list)  # learned


def rmse(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e**2))) if e.size else float("nan")


def max_abs(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return float(np.max(np.abs(e))) if e.size else float("nan")


def inside_share(err: np.ndarray, unc: np.ndarray) -> float:
    """Share of frames (with both) whose error lies within the stated 90 % half-width."""
    ok = np.isfinite(err) & np.isfinite(unc)
    return float(np.mean(np.abs(err[ok]) <= unc[ok])) if ok.any() else float("nan")


def read_gt(path: Path) -> dict[str, np.ndarray]:
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding=None)
    return {name: np.asarray(data[name]) for name in data.dtype.names}


def write_frames(series: AngleSeries, path: Path) -> None:
    """The series as a frames.csv (the columns bench/faults.py --frames-dir reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["detected", *ANGLE_COLUMNS, "confidence", *UNCERTAINTY_COLUMNS]
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["frame", "time_s", *cols])
        for i in range(len(series)):
            vals = [getattr(series, c)[i] for c in cols]
            cells = [
                "" if isinstance(v, float | np.floating) and not np.isfinite(v) else f"{float(v):.3f}" for v in vals
            ]
            cells[0] = str(int(series.detected[i]))
            out.writerow([int(series.index[i]), f"{float(series.time_s[i]):.4f}", *cells])


def evaluate_clip(
    video: Path, cache_dir: Path | None, settings: Settings, frames_out: Path | None = None
) -> ClipResult:
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
    measured = Measured(poses, measurements, [], [])
    n = min(len(measurements), len(gt["frame"]))
    errors: dict[str, dict[str, np.ndarray]] = {}
    coverage: dict[str, float] = {}
    ms = {"measure": 1000.0 * spent / max(len(measurements), 1)}
    series_of = {}
    for method in METHODS:
        chosen = dataclasses.replace(settings, reading=dataclasses.replace(settings.reading, method=method))
        t0 = time.perf_counter()
        calibration, series = angles_from(measured, chosen, None)
        ms[method] = 1000.0 * (time.perf_counter() - t0) / max(len(measurements), 1)
        series_of[method] = series
        if frames_out is not None:
            write_frames(series, frames_out / method / clip / "frames.csv")
        errors[method] = {c: getattr(series, c)[:n] - gt[c][:n] for c in SCORED}
        coverage[method] = float(np.isfinite(series.lumbar_flexion_deg[:n]).mean())
    learned = series_of["learned"]
    uncertainty = {
        "hip_flexion_deg": learned.hip_uncertainty_deg[:n],
        "lumbar_flexion_deg": learned.lumbar_uncertainty_deg[:n],
    }
    warnings = [w.code for w in calibration.warnings + assess_view(measurements, poses, settings.quality)]

    # the landmark-only baseline, from the same landmarks and the same standing window
    trunk = np.array([m.trunk_deg for m in measurements]) - calibration.trunk_deg
    thigh = np.array([m.thigh_deg for m in measurements]) - calibration.thigh_deg
    baseline = AngleSeries.empty(learned.index, learned.time_s)
    baseline.hip_flexion_deg = trunk + thigh
    baseline = smooth_series(baseline)

    lumbar = learned.lumbar_flexion_deg[:n]
    reps = []
    for rep in meta.get("reps", []):
        a, b = rep["start_frame"], min(rep["end_frame"], n - 1)
        seg = lumbar[a : b + 1]
        hip_seg = learned.hip_flexion_deg[a : b + 1]
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
        uncertainty=uncertainty,
        baseline_hip_error=baseline.hip_flexion_deg[:n] - gt["hip_flexion_deg"][:n],
        coverage=coverage,
        warnings=warnings,
        ms_per_frame=ms,
        rep_peaks=reps,
    )


# --- report --------------------------------------------------------------------------------------------------

COMPARED = ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg")
STATED = ("hip_flexion_deg", "lumbar_flexion_deg")


def _fmt(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x:.1f}"


def _row(name: str, yaw: str, errors: dict[str, dict[str, np.ndarray]], unc: dict[str, np.ndarray],
         base: np.ndarray, coverage: dict[str, float], ms: dict[str, float], flags: str) -> list[str]:  # fmt: skip
    row = [name, yaw]
    for c in COMPARED:
        row += [f"{_fmt(rmse(errors['hand_made'][c]))} → {_fmt(rmse(errors['learned'][c]))}"]
    row += [_fmt(rmse(errors["learned"]["trunk_inclination_deg"])), _fmt(rmse(base))]
    for c in STATED:
        row += [f"±{_fmt(float(np.nanmean(unc[c])) if np.isfinite(unc[c]).any() else np.nan)}",
                f"{inside_share(errors['learned'][c], unc[c]):.0%}"]  # fmt: skip
    row += [f"{coverage['hand_made']:.0%} → {coverage['learned']:.0%}",
            f"{ms['hand_made']:.1f} / {ms['learned']:.1f}", flags]  # fmt: skip
    return row


def _flags(r: ClipResult) -> str:
    """above 7°: learned hip or lumbar RMSE > 7° on the clip; "uncertainty says so" when each measure above 7° has a
    mean stated half-width of at least 4° on the clip, "SILENT" otherwise."""
    above = [c for c in STATED if rmse(r.errors["learned"][c]) > 7]
    if not above:
        return ""
    silent = [c for c in above if not (np.isfinite(r.uncertainty[c]).any() and np.nanmean(r.uncertainty[c]) >= 4)]
    return "above 7°, " + ("SILENT" if silent else "uncertainty says so")


# the validation scope: cameras turned up to 30° from side-on (the corpus renders up to 35°)
IN_SCOPE_YAW_DEG = 30.0


def _pooled_row(name: str, results: list[ClipResult]) -> list[str]:
    """One row over all frames of ``results`` (RMSE pooled over frames, coverage weighted by frames)."""
    pooled = {m: {c: np.concatenate([r.errors[m][c] for r in results]) for c in SCORED} for m in METHODS}
    unc = {c: np.concatenate([r.uncertainty[c] for r in results]) for c in STATED}
    base = np.concatenate([r.baseline_hip_error for r in results])
    frames = np.array([r.n_frames for r in results], float)
    cover = {m: float(np.average([r.coverage[m] for r in results], weights=frames)) for m in METHODS}
    ms = {k: float(np.mean([r.ms_per_frame[k] for r in results])) for k in METHODS}
    n_above = sum(1 for r in results if _flags(r))
    n_silent = sum(1 for r in results if _flags(r).endswith("SILENT"))
    return _row(name, "", pooled, unc, base, cover, ms, f"{n_above} above 7°, {n_silent} silent")


def _table_rows(results: list[ClipResult]) -> tuple[list[str], list[list[str]]]:
    header = ["clip", "yaw°"]
    header += [f"{SHORT[c]} rmse old → new" for c in COMPARED]
    header += ["trunk rmse", "landmark hip rmse"]
    for c in STATED:
        header += [f"{SHORT[c]} mean ±", f"{SHORT[c]} in 90%"]
    header += ["lumbar coverage", "ms/frame old/new", "flag"]
    rows = [
        _row(
            r.clip,
            f"{r.yaw_deg:+.0f}",
            r.errors,
            r.uncertainty,
            r.baseline_hip_error,
            r.coverage,
            r.ms_per_frame,
            _flags(r),
        )  # fmt: skip
        for r in results
    ]
    rows.append(_pooled_row("overall", results))
    in_scope = [r for r in results if abs(r.yaw_deg) <= IN_SCOPE_YAW_DEG]
    if 0 < len(in_scope) < len(results):
        rows.append(_pooled_row(f"|yaw| ≤ {IN_SCOPE_YAW_DEG:.0f}° ({len(in_scope)})", in_scope))
    return header, rows


def print_report(results: list[ClipResult]) -> None:
    header, rows = _table_rows(results)
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="pelvis/lumbar/hip reading vs ground truth, hand-made (old) → learned (new): RMSE in degrees; stated "
        "90 % half-width and the share of frames it held the truth"
    )
    for h in header:
        table.add_column(h, justify="left" if h in ("clip", "flag") else "right")
    for row in rows:
        table.add_row(*row, end_section=row is rows[len(results) - 1])
    Console(width=240).print(table)
    print("\nper-rep peaks, learned (measured / truth):")
    for r in results:
        text = "  ".join(f"{t[:4]} L{lm:.0f}/{lg:.0f} H{hm:.0f}/{hg:.0f}" for t, lm, lg, hm, hg in r.rep_peaks)
        print(f"  {r.clip}: {text}")


def clips_in(folders: list[Path], manifest: Path | None, split: str | None, names: str) -> list[Path]:
    """The clips with ground truth in the folders, optionally those of one split of a corpus manifest."""
    videos = sorted(p for f in folders for p in f.glob("*.mp4") if p.with_name(f"{p.stem}_gt.csv").exists())
    if split:
        if manifest is None:
            raise SystemExit("--split needs --manifest")
        with open(manifest, newline="") as fh:
            keep = {row["clip"] for row in csv.DictReader(fh) if row.get("split") == split}
        videos = [v for v in videos if v.stem in keep]
    if names:
        wanted = set(names.split(","))
        videos = [v for v in videos if v.stem in wanted]
    return videos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="clip folders in devset format")
    parser.add_argument("--pose-cache", type=Path, default=None, help="read/write MediaPipe results here")
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: all)")
    parser.add_argument("--manifest", type=Path, default=None, help="a corpus manifest (tools/corpus/manifest.csv)")
    parser.add_argument("--split", default=None, help="only the manifest's clips of this split (e.g. val)")
    parser.add_argument("--config", default=None, help="settings file (as analyze --config)")
    parser.add_argument(
        "--frames-out",
        type=Path,
        default=None,
        help="write FRAMES_OUT/<method>/<clip>/frames.csv (for bench/faults.py)",
    )
    args = parser.parse_args(argv)
    videos = clips_in(args.folders, args.manifest, args.split, args.clips)
    if not videos:
        print(f"no clips with ground truth in {', '.join(map(str, args.folders))}", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    results = [evaluate_clip(v, args.pose_cache, settings, args.frames_out) for v in videos]
    print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
