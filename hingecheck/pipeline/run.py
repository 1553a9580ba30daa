"""``analyze``: one video through every stage, into an ``AnalysisResult``."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from hingecheck.core import picture
from hingecheck.core.errors import HingecheckError, NoPersonError
from hingecheck.core.kinematics import SagittalMeasurer, assess_view
from hingecheck.core.movement.rom import add_range_shares, faults_for_range
from hingecheck.core.settings import Settings
from hingecheck.core.types import VideoInfo
from hingecheck.io.config import load_settings
from hingecheck.io.lumbopelvic_model import load_model
from hingecheck.io.pose import ModelInfo, configured_num_poses, resolve_model
from hingecheck.pipeline.measure import (
    AnalyzeOptions,
    Measured,
    ProgressCallback,
    _measure_pass,
    capture_warnings,
    finite_or_none,
    search_person,
    too_little_person,
)
from hingecheck.pipeline.shots import analyse_shots, apply_quality, join_series
from hingecheck.result import AnalysisResult

log = logging.getLogger(__name__)


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
    if options.back_range is not None:  # the person's own range replaces the population tolerances
        settings = dataclasses.replace(settings, faults=faults_for_range(settings.faults, options.back_range))
    model = model or resolve_model(options.model_path)
    learned = settings.reading.method == "learned"
    if learned:
        load_model()  # a missing or stale lumbopelvic model fails before the long pose pass, not after it
    pose_settings = settings.pose
    num_poses = options.num_poses or configured_num_poses(settings)
    t0 = time.perf_counter()
    crowd_check = num_poses == 1 and pose_settings.crowd_check

    def measure_pass(
        people: int, look_for_crowd: bool = False, zoom: picture.PictureArea | None = None
    ) -> tuple[Measured, SagittalMeasurer, VideoInfo, float]:
        """One pose pass over the video (each pass below differs only in these)."""
        return _measure_pass(
            video_path, options, model, pose_settings, people, progress, look_for_crowd, settings.quality, learned, zoom
        )

    measured, measurer, info, crowded_share = measure_pass(num_poses, crowd_check)
    if crowd_check and crowded_share > pose_settings.crowd_share:
        # someone else is in view: analyse again with every person in view, keeping the lifter
        num_poses = 2
        measured, measurer, info, _ = measure_pass(num_poses)
    zoom = None
    if measured.area is not None:
        boxes = measured.person_boxes()
        if len(boxes) < settings.quality.zoom_search_min_found and measured.poses:
            # nobody (or a glimpse) in the whole picture: look for a small person in its tiles
            boxes = search_person(
                video_path, options, model, measured.area, len(measured.poses), pose_settings, settings.quality
            )
        zoom = picture.person_area(boxes, measured.area, measured.detection_rate, settings.quality)
    if zoom is not None:
        # a small person, often missed: MediaPipe looks again in a crop around them; the pass that finds them on
        # more frames is kept
        again, again_measurer, again_info, _ = measure_pass(num_poses, zoom=zoom)
        log.info(
            "small person found on %.0f %% of frames; in a crop around them %.0f %%",
            100 * measured.detection_rate,
            100 * again.detection_rate,
        )
        if again.detection_rate > measured.detection_rate:
            measured, measurer, info = again, again_measurer, again_info
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
    detection_rate = measured.detection_rate
    # each shot its own standing reference; the exercise sets the squat rule
    wanted = options.exercise or settings.exercise.name
    shots, exercise = analyse_shots(measured, settings, options.calibration_s, wanted)
    result.exercise = exercise.to_dict()
    calibration, series = shots[0].calibration, join_series([s.series for s in shots])
    result.angles = series
    result.calibration = {
        "automatic": calibration.automatic,
        "found": bool(calibration.found),
        "start_s": finite_or_none(calibration.start_s),
        "end_s": finite_or_none(calibration.end_s),
        "source": calibration.source,  # stand / lockouts / window / none
        "n_lockouts": calibration.n_lockouts,
    }
    result.warnings = capture_warnings(measured, detection_rate)
    too_little = too_little_person(measured.poses)
    if too_little is not None:
        result.status = NoPersonError.status
        result.message = too_little
        result.timings_s = {"measure": t_measure, "total": time.perf_counter() - t0}
        return result
    result.warnings += calibration.warnings + assess_view(measured.measurements, measured.poses, settings.quality)
    apply_quality(result, measured, shots, settings, own_range=options.back_range is not None)
    add_range_shares(result.reps, options.back_range)
    result.back_range = options.back_range.to_dict() if options.back_range is not None else None
    result.timings_s = {"measure": t_measure, "total": time.perf_counter() - t0}
    return result


def error_result(video_path: str | Path, exc: HingecheckError, options: AnalyzeOptions | None = None) -> AnalysisResult:
    """The result of a video that could not be analysed: its status and one-line reason, nothing else."""
    output_options = (options or AnalyzeOptions()).output_options
    return AnalysisResult(
        video=None, status=exc.status, message=str(exc), source_path=str(video_path), output_options=output_options
    )
