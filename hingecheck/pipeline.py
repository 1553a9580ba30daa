"""The offline pipeline behind ``hingecheck analyze``: source → pose → kinematics → filter → movement → sinks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hingecheck.core.errors import HingecheckError, NoPersonError
from hingecheck.core.filters import smooth_series
from hingecheck.core.kinematics import FrameMeasurement, SagittalMeasurer, assess_view, calibrate
from hingecheck.core.settings import PoseConfig, Settings
from hingecheck.core.types import AngleSeries, PoseFrame, VideoFrame, VideoInfo, Warning_
from hingecheck.io.config import load_settings
from hingecheck.io.pose import ModelInfo, PoseEstimator, configured_num_poses, resolve_model
from hingecheck.io.video import VideoReader
from hingecheck.result import AnalysisResult, OutputOptions

ProgressCallback = Callable[[int, float], None]  # (frames done, seconds of video done)

MIN_DETECTION_RATE_OK = 0.5  # below this share of frames with a person, the clip is not analysable
DARK_LUMA = 45.0  # mean frame luma (0–255) below which MediaPipe's mask and landmarks degrade


@dataclass
class AnalyzeOptions:
    model_path: str | None = None
    config_path: str | None = None
    calibration_s: tuple[float, float] | None = None
    write_video: bool = True
    blur_faces: bool = False
    num_poses: int | None = None  # None: from settings
    max_width: int | None = 1280  # larger frames are scaled down: MediaPipe works at 256 px anyway

    @property
    def output_options(self) -> OutputOptions:
        return OutputOptions(write_video=self.write_video, blur_faces=self.blur_faces, max_width=self.max_width)


@dataclass
class Measured:
    """What the per-frame pass keeps: no images, no masks (a long clip must fit in memory)."""

    poses: list[PoseFrame]
    measurements: list[FrameMeasurement]
    luma: list[float]
    decode_errors: list[str]


class CrowdSampler:
    """Looks for a second person a few times a second with a two-person detector.

    The main pass tracks one person (``num_poses = 1``: half the cost, and the same pose input as live mode,
    so live and offline agree). A sparse two-person look tells whether someone else was in view; if so the
    clip is analysed again with the lifter chosen among everyone (``LifterTracker``).
    """

    def __init__(self, estimator: PoseEstimator | None, every_s: float) -> None:
        self.estimator = estimator
        self.every_s = every_s
        self._next_s = 0.0
        self.samples = 0
        self.crowded = 0

    def look(self, frame: VideoFrame) -> None:
        if self.estimator is None or frame.time_s < self._next_s:
            return
        self._next_s = frame.time_s + self.every_s
        self.samples += 1
        self.crowded += self.estimator.process(frame).n_people > 1

    @property
    def crowded_share(self) -> float:
        return self.crowded / self.samples if self.samples else 0.0


def measure_video(
    reader: VideoReader,
    estimator: PoseEstimator,
    measurer: SagittalMeasurer,
    progress: ProgressCallback | None,
    crowd: CrowdSampler | None = None,
) -> Measured:
    poses: list[PoseFrame] = []
    measurements: list[FrameMeasurement] = []
    luma: list[float] = []
    for frame in reader:
        pose = estimator.process(frame)
        measurements.append(measurer.measure(pose))
        poses.append(pose.without_mask())
        # every 4th pixel is plenty for a brightness check
        luma.append(float(frame.rgb[::4, ::4].mean()))
        if crowd is not None:
            crowd.look(frame)
        if progress:
            progress(frame.index + 1, frame.time_s)
    return Measured(poses, measurements, luma, list(reader.report.errors))


def _measure_pass(
    video_path: str | Path,
    options: AnalyzeOptions,
    model: ModelInfo,
    pose_settings: PoseConfig,
    num_poses: int,
    progress: ProgressCallback | None,
    crowd_check: bool,
) -> tuple[Measured, SagittalMeasurer, VideoInfo, float]:
    min_conf = pose_settings.min_confidence
    every_s = 1.0 / max(pose_settings.crowd_check_hz, 1e-3)
    with (
        VideoReader(video_path, max_width=options.max_width) as reader,
        PoseEstimator(model, num_poses=num_poses, min_confidence=min_conf) as estimator,
        PoseEstimator(model, num_poses=2, min_confidence=min_conf, output_masks=False)
        if crowd_check
        else nullcontext() as crowd_estimator,
    ):
        measurer = SagittalMeasurer()
        crowd = CrowdSampler(crowd_estimator, every_s) if crowd_check else None
        measured = measure_video(reader, estimator, measurer, progress, crowd)
        info = reader.info
    return measured, measurer, info, crowd.crowded_share if crowd else 0.0


def _finite_or_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 3)


def angles_from(measured: Measured, settings: Settings, window_s: tuple[float, float] | None):
    calibration = calibrate(measured.measurements, window_s=window_s)
    raw = AngleSeries.from_frames([calibration.angles(m) for m in measured.measurements])
    return calibration, smooth_series(raw)


def capture_warnings(measured: Measured, detection_rate: float) -> list[Warning_]:
    warnings: list[Warning_] = []
    for err in measured.decode_errors:
        warnings.append(Warning_("video_damaged", f"The video is damaged: {err}. Analysed what could be decoded."))
    if 0 < detection_rate < 0.95:
        warnings.append(
            Warning_(
                "person_not_always_found",
                f"The person was found in only {detection_rate:.0%} of the frames. Keep the whole body in view, "
                "lit from the front, for the whole set.",
            )
        )
    if measured.luma and float(np.median(measured.luma)) < DARK_LUMA:
        warnings.append(
            Warning_(
                "too_dark",
                "The video is very dark, so the body outline is uncertain. "
                "Turn on more light or face the camera towards a bright area.",
            )
        )
    return warnings


def analyze(
    video_path: str | Path,
    options: AnalyzeOptions | None = None,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
    model: ModelInfo | None = None,
) -> AnalysisResult:
    """Analyse one video. Raises HingecheckError subclasses (with a one-line reason) for unusable input."""
    options = options or AnalyzeOptions()
    settings = settings or load_settings(options.config_path)
    model = model or resolve_model(options.model_path)
    pose_settings = settings.pose
    num_poses = options.num_poses or configured_num_poses(settings)
    t0 = time.perf_counter()
    crowd_check = num_poses == 1 and pose_settings.crowd_check
    measured, measurer, info, crowded_share = _measure_pass(
        video_path, options, model, pose_settings, num_poses, progress, crowd_check
    )
    if crowd_check and crowded_share > pose_settings.crowd_share:
        # someone else is in view: analyse again with every person in view, keeping the lifter
        measured, measurer, info, _ = _measure_pass(video_path, options, model, pose_settings, 2, progress, False)
    t_measure = time.perf_counter() - t0

    result = AnalysisResult(
        video=info,
        status="ok",
        message="",
        poses=measured.poses,
        dorsal_contours=[m.dorsal_contour for m in measured.measurements],
        facing=measurer.facing,
        settings=settings.values,
        settings_hash=settings.hash,
        config_source=settings.source,
        model={"name": model.name, "sha256": model.sha256, "verified": model.verified},
        source_path=str(video_path),
        output_options=options.output_options,
    )
    detection_rate = float(np.mean([p.detected for p in measured.poses])) if measured.poses else 0.0
    calibration, series = angles_from(measured, settings, options.calibration_s)
    result.angles = series
    result.calibration = {
        "automatic": calibration.automatic,
        "found": bool(calibration.found),
        "start_s": _finite_or_none(calibration.start_s),
        "end_s": _finite_or_none(calibration.end_s),
    }
    result.warnings = capture_warnings(measured, detection_rate)
    if detection_rate == 0.0 or detection_rate < MIN_DETECTION_RATE_OK:
        result.status = NoPersonError.status
        result.message = (
            "no person was found in the video"
            if detection_rate == 0.0
            else f"a person was found in only {detection_rate:.0%} of the frames: too little to analyse"
        )
        result.timings_s = {"measure": t_measure, "total": time.perf_counter() - t0}
        return result
    result.warnings += calibration.warnings + assess_view(measured.measurements, measured.poses)

    from hingecheck.core.movement import analyse_reps

    result.reps = analyse_reps(series, settings)
    result.timings_s = {"measure": t_measure, "total": time.perf_counter() - t0}
    return result


def error_result(video_path: str | Path, exc: HingecheckError, options: AnalyzeOptions | None = None) -> AnalysisResult:
    """The result of a video that could not be analysed: its status and one-line reason, nothing else."""
    output_options = (options or AnalyzeOptions()).output_options
    return AnalysisResult(
        video=None, status=exc.status, message=str(exc), source_path=str(video_path), output_options=output_options
    )
