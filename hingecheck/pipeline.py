"""The offline pipeline behind ``hingecheck analyze``: source → pose → kinematics → filter → movement → sinks."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from itertools import chain, islice
from pathlib import Path

import numpy as np

from hingecheck.core import quality
from hingecheck.core.errors import HingecheckError, NoPersonError
from hingecheck.core.filters import smooth_series
from hingecheck.core.kinematics import Calibration, FrameMeasurement, SagittalMeasurer, assess_view, calibrate
from hingecheck.core.kinematics.sagittal import dorsal_unit
from hingecheck.core.kinematics.view import estimate_yaw_deg
from hingecheck.core.movement.exercise import ExerciseChoice, choose_exercise
from hingecheck.core.movement.rom import BackRange, add_range_shares, faults_for_range
from hingecheck.core.settings import PoseConfig, QualityConfig, Settings
from hingecheck.core.types import (
    LEFT_HIP,
    LEFT_SHOULDER,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    AngleSeries,
    PoseFrame,
    Rep,
    VideoFrame,
    VideoInfo,
    Warning_,
)
from hingecheck.io.config import load_settings
from hingecheck.io.pose import ModelInfo, PoseEstimator, configured_num_poses, crop_frame, resolve_model, uncrop_pose
from hingecheck.io.video import VideoReader
from hingecheck.result import AnalysisResult, OutputOptions

ProgressCallback = Callable[[int, float], None]  # (frames done, seconds of video done)

MIN_DETECTION_RATE_OK = 0.5  # below this share of frames with a person, the clip is not analysable
DARK_LUMA = 45.0  # mean frame luma (0–255) below which MediaPipe's mask and landmarks degrade


@dataclass
class AnalyzeOptions:
    """The options of one analysis (those of ``hingecheck analyze``)."""

    model_path: str | None = None
    config_path: str | None = None
    calibration_s: tuple[float, float] | None = None
    write_video: bool = True
    blur_faces: bool = False
    num_poses: int | None = None  # None: from settings
    max_width: int | None = 1280  # larger frames are scaled down: MediaPipe works at 256 px anyway
    exercise: str | None = None  # auto (detected) or one of core.settings.EXERCISES; None: [exercise] name
    back_range: BackRange | None = None  # the person's own range (range test): takeovers judged as a share of it

    @property
    def output_options(self) -> OutputOptions:
        """The switches that decide how the outputs are written."""
        return OutputOptions(write_video=self.write_video, blur_faces=self.blur_faces, max_width=self.max_width)


@dataclass
class Measured:
    """What the per-frame pass keeps: no images, no masks (a long clip must fit in memory)."""

    poses: list[PoseFrame]
    measurements: list[FrameMeasurement]
    luma: list[float]
    decode_errors: list[str]
    # per-frame numbers for the quality checks (core/quality.py), one entry per frame
    hist_diff: list[float] = field(default_factory=list)  # colour change from the previous frame (cuts)
    outline: list[quality.OutlineShape | None] = field(default_factory=list)  # the back's outline vs landmarks
    leg_vis: list[float] = field(default_factory=list)  # how well the better-seen knee and ankle are seen
    area: quality.PictureArea | None = None  # the picture inside black bars (None: not looked for)

    def part(self, start: int, stop: int) -> Measured:
        """The frames start..stop-1 (one shot of an edited clip)."""
        return Measured(
            self.poses[start:stop],
            self.measurements[start:stop],
            self.luma[start:stop],
            self.decode_errors,
            self.hist_diff[start:stop],
            self.outline[start:stop],
            self.leg_vis[start:stop],
            self.area,
        )


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
        """Check this frame for a second person if it is time for the next look."""
        if self.estimator is None or frame.time_s < self._next_s:
            return
        self._next_s = frame.time_s + self.every_s
        self.samples += 1
        self.crowded += self.estimator.process(frame).n_people > 1

    @property
    def crowded_share(self) -> float:
        """Share of the looks that saw more than one person."""
        return self.crowded / self.samples if self.samples else 0.0


def measure_video(
    reader: VideoReader,
    estimator: PoseEstimator,
    measurer: SagittalMeasurer,
    progress: ProgressCallback | None,
    crowd: CrowdSampler | None = None,
    quality_cfg: QualityConfig | None = None,
) -> Measured:
    """Decode the video and measure every frame: pose, angles, outline, brightness, picture checks."""
    cfg = quality_cfg or QualityConfig()
    poses: list[PoseFrame] = []
    measurements: list[FrameMeasurement] = []
    luma: list[float] = []
    hist_diff: list[float] = []
    outline: list[quality.OutlineShape | None] = []
    leg_vis: list[float] = []
    frames = iter(reader)
    head = list(islice(frames, max(cfg.bar_sample_frames, 1)))
    area = picture_area(head, cfg)
    previous_hist: np.ndarray | None = None
    for full in chain(head, frames):
        frame = crop_frame(full, area)  # MediaPipe sees the picture, not the bars
        # every 4th pixel is plenty for a colour histogram (scene cuts) and a brightness check
        hist = quality.colour_histogram(frame.rgb)
        hist_diff.append(quality.histogram_difference(previous_hist, hist))
        previous_hist = hist
        if hist_diff[-1] > cfg.cut_min_diff:  # probably a cut (confirmed later by find_cuts): facing anew
            measurer.new_shot()
        pose = uncrop_pose(estimator.process(frame), area)  # ... and the outputs stay in full-frame pixels
        m = measurer.measure(pose)
        measurements.append(m)
        outline.append(_outline_of(m, pose))
        leg_vis.append(_leg_visibility(pose))
        poses.append(pose.without_mask())
        luma.append(float(frame.rgb[::4, ::4].mean()))
        if crowd is not None:
            crowd.look(frame)
        if progress:
            progress(full.index + 1, full.time_s)
    return Measured(poses, measurements, luma, list(reader.report.errors), hist_diff, outline, leg_vis, area)


def picture_area(frames: list[VideoFrame], cfg: QualityConfig) -> quality.PictureArea:
    """The picture inside black pillar/letter-box bars, judged on the first frames of a clip."""
    if not frames:
        return quality.PictureArea(0, 0, 0, 0, 0, 0)
    profiles = [quality.edge_profiles(f.rgb.mean(axis=2)) for f in frames]
    return quality.find_picture_area([c for c, _ in profiles], [r for _, r in profiles], cfg)


def _outline_of(m: FrameMeasurement, pose: PoseFrame) -> quality.OutlineShape | None:
    """The back's outline against the hip→shoulder landmark line (for the clothing check)."""
    px = pose.landmarks_px
    if px is None or m.dorsal_contour is None or not m.facing:
        return None
    hip = 0.5 * (px[LEFT_HIP] + px[RIGHT_HIP])
    shoulder = 0.5 * (px[LEFT_SHOULDER] + px[RIGHT_SHOULDER])
    axis = shoulder - hip
    length = float(np.linalg.norm(axis))
    if length < 8.0:
        return None
    back = dorsal_unit(axis / length, 1.0 if m.facing == "right" else -1.0)
    return quality.outline_shape(m.dorsal_contour, hip, shoulder, back)


def _leg_visibility(pose: PoseFrame) -> float:
    if not pose.detected or pose.landmarks_px is None:
        return float("nan")
    px = pose.landmarks_px
    inside = (px[:, 0] >= 0) & (px[:, 0] < pose.width) & (px[:, 1] >= 0) & (px[:, 1] < pose.height)
    cover = (quality.shank_cover(pose.mask, px[25], px[27]), quality.shank_cover(pose.mask, px[26], px[28]))
    return quality.leg_visibility(pose.visibility, inside, cover)


def _measure_pass(
    video_path: str | Path,
    options: AnalyzeOptions,
    model: ModelInfo,
    pose_settings: PoseConfig,
    num_poses: int,
    progress: ProgressCallback | None,
    crowd_check: bool,
    quality_cfg: QualityConfig | None = None,
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
        measured = measure_video(reader, estimator, measurer, progress, crowd, quality_cfg)
        info = reader.info
    return measured, measurer, info, crowd.crowded_share if crowd else 0.0


def _finite_or_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 3)


def angles_from(measured: Measured, settings: Settings, window_s: tuple[float, float] | None):
    """Calibrate on the standing frames and return the calibration and the smoothed angle series."""
    calibration = calibrate(measured.measurements, window_s=window_s)
    raw = AngleSeries.from_frames([calibration.angles(m) for m in measured.measurements])
    return calibration, smooth_series(raw)


def capture_warnings(measured: Measured, detection_rate: float) -> list[Warning_]:
    """Warnings about the capture itself: damaged video, person often missing, darkness."""
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
    if options.back_range is not None:  # the person's own range replaces the population tolerances
        settings = dataclasses.replace(settings, faults=faults_for_range(settings.faults, options.back_range))
    model = model or resolve_model(options.model_path)
    pose_settings = settings.pose
    num_poses = options.num_poses or configured_num_poses(settings)
    t0 = time.perf_counter()
    crowd_check = num_poses == 1 and pose_settings.crowd_check
    measured, measurer, info, crowded_share = _measure_pass(
        video_path, options, model, pose_settings, num_poses, progress, crowd_check, settings.quality
    )
    if crowd_check and crowded_share > pose_settings.crowd_share:
        # someone else is in view: analyse again with every person in view, keeping the lifter
        measured, measurer, info, _ = _measure_pass(
            video_path, options, model, pose_settings, 2, progress, False, settings.quality
        )
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
    # each shot its own standing reference; the exercise sets the squat rule
    wanted = options.exercise or settings.exercise.name
    shots, exercise = analyse_shots(measured, settings, options.calibration_s, wanted)
    result.exercise = exercise.to_dict()
    calibration, series = shots[0].calibration, join_series([s.series for s in shots])
    result.angles = series
    result.calibration = {
        "automatic": calibration.automatic,
        "found": bool(calibration.found),
        "start_s": _finite_or_none(calibration.start_s),
        "end_s": _finite_or_none(calibration.end_s),
        "source": calibration.source,  # stand / lockouts / window / none
        "n_lockouts": calibration.n_lockouts,
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
    apply_quality(result, measured, shots, settings)
    add_range_shares(result.reps, options.back_range)
    result.back_range = options.back_range.to_dict() if options.back_range is not None else None
    result.timings_s = {"measure": t_measure, "total": time.perf_counter() - t0}
    return result


@dataclass
class Shot:
    """One shot of a clip (the whole clip when it has no cut): its frames, standing reference, angles and reps."""

    start: int  # position of its first frame in the clip's frame lists
    stop: int  # exclusive
    calibration: Calibration
    series: AngleSeries
    reps: list[Rep]
    back_measure: str = "lumbar"  # what the takeover was judged on: lumbar, or spine where the outline is clothing
    quality: quality.ShotQuality | None = None


def shot_outline(part: Measured, cfg: QualityConfig) -> quality.OutlineVerdict | None:
    """The shot's back outline judged on its standing frames (None when the pass kept no outline numbers)."""
    if len(part.outline) != len(part.measurements):
        return None
    trunk = [m.trunk_deg for m in part.measurements]
    thoracic = [m.thorax_deg - m.lumbar_deg if m.split_ok else float("nan") for m in part.measurements]
    return quality.assess_outline(part.outline, trunk, cfg, thoracic)


def analyse_shots(
    measured: Measured, settings: Settings, window_s: tuple[float, float] | None = None, exercise: str = "auto"
) -> tuple[list[Shot], ExerciseChoice]:
    """Calibrate and track reps per shot: a cut changes camera and framing, so each shot has its own standing
    reference and reps never span a cut. An uncut clip is one shot (exactly the unsplit analysis).

    The reps are found with the generic profile first; the exercise (given, or detected from them) then sets
    the squat rule, and the reps are tracked again with its profile when it differs.
    """
    from hingecheck.core.movement import analyse_reps

    n = len(measured.measurements)
    cuts: list[int] = []
    if len(measured.hist_diff) == n and n:
        times = [m.time_s for m in measured.measurements]
        cuts = quality.find_cuts(measured.hist_diff, times, settings.quality)
    shots = []
    for start, stop in quality.shots_from_cuts(n, cuts) or [(0, n)]:
        part = measured if (start, stop) == (0, n) else measured.part(start, stop)
        window = window_s
        if window_s is not None and part.measurements:
            t0, t1 = part.measurements[0].time_s, part.measurements[-1].time_s
            window = window_s if t0 <= window_s[0] <= t1 else None
        calibration, series = angles_from(part, settings, window)
        # where clothing shapes the outline, the takeover is judged on the whole back instead of its lumbar window
        outline = shot_outline(part, settings.quality)
        back = "spine" if outline is not None and outline.hidden else "lumbar"
        reps = analyse_reps(series, settings, start_at_bottom=calibration.source == "lockouts", back_measure=back)
        shots.append(Shot(start, stop, calibration, series, reps, back_measure=back))
    choice = choose_exercise(
        exercise,
        [r for s in shots for r in s.reps],
        join_series([s.series for s in shots]),
        measured.poses,
        False,  # a lift starts at the bottom when its first rep does (a reference from lockouts alone does not say so)
        settings.exercise,
    )
    if choice.name != "hinge":
        for shot in shots:
            bottom = shot.calibration.source == "lockouts"
            shot.reps = analyse_reps(
                shot.series, settings, start_at_bottom=bottom, exercise=choice.name, back_measure=shot.back_measure
            )
    return shots, choice


def join_series(parts: list[AngleSeries]) -> AngleSeries:
    """The shots' angle series end to end (one entry per frame of the clip)."""
    if len(parts) == 1:
        return parts[0]
    names = [f.name for f in fields(AngleSeries)]
    return AngleSeries(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})


def leaned_reference(shot: Shot, cfg: QualityConfig) -> None:
    """A lockout reference that leans back is no zero for the low back: withhold its verdicts and say why."""
    cal = shot.calibration
    assert shot.quality is not None
    if cal.source != "lockouts" or not cal.trunk_deg < -cfg.lockout_reference_lean_max_deg:
        return
    lean = -cal.trunk_deg
    shot.quality.support.withhold_codes(
        quality.LUMBAR_CODES,
        f"the tops of the reps lean back {lean:.0f}° past upright (no still stand to compare with)",
    )
    shot.quality.warnings.append(
        Warning_(
            "reference_leans_back",
            f"There is no still stand before the first rep, and at the top of each rep you lean back about {lean:.0f}° "
            "past upright (or the camera is tilted), so the low back has no true standing zero: whether it rounded "
            "or led the way up is left out. Stand still and upright, side-on, for 2 s before the first pull.",
        )
    )


def apply_quality(result: AnalysisResult, measured: Measured, shots: list[Shot], settings: Settings) -> None:
    """Per shot: judge what it shows (view, clothing, legs), withhold the verdicts it cannot support, then
    gather the reps (renumbered across shots), warnings and what was withheld into ``result``."""
    cfg = settings.quality
    n = len(measured.measurements)
    reps: list[Rep] = []
    withheld = quality.VerdictSupport()
    for k, shot in enumerate(shots):
        part = measured.part(shot.start, shot.stop)
        outline = shot_outline(part, cfg)
        legs = float("nan")
        if len(part.leg_vis) == len(part.measurements):
            legs = quality.assess_legs(part.leg_vis, shot.reps, [m.index for m in part.measurements], cfg)
        shot.quality = quality.decide(
            estimate_yaw_deg(part.measurements), outline, legs, cfg, settings.faults.lockout_lean_back_deg
        )
        leaned_reference(shot, cfg)
        shot.quality.support.withhold(shot.reps)
        withheld.merge(shot.quality.support, prefix=f"shot {k + 1}: " if len(shots) > 1 else "")
        for w in shot.quality.warnings:
            if w.code not in {x.code for x in result.warnings}:
                result.warnings.append(w)
        if k > 0:  # a later shot's own standing-reference warnings
            result.warnings += [w for w in shot.calibration.warnings if w.code not in {x.code for x in result.warnings}]
        reps += shot.reps
    for i, rep in enumerate(reps, start=1):
        rep.index = i
    result.reps = reps
    result.verdicts_withheld = dict(withheld.withheld)
    if len(shots) > 1:
        cuts = len(shots) - 1
        result.warnings.append(
            Warning_(
                "edited_clip",
                f"This video has {cuts} cut{'s' if cuts > 1 else ''}; each shot was analysed on its own "
                "(its own standing reference; no rep spans a cut).",
            )
        )
    turned = any("side-on" in withheld.withheld.get(c, "") for c in quality.LUMBAR_CODES)
    if turned and any(w.code == "not_side_on" for w in result.warnings):
        result.warnings = [
            Warning_(w.code, w.message + " Low-back verdicts were left out.") if w.code == "not_side_on" else w
            for w in result.warnings
        ]
    result.shots = [
        {
            "index": k + 1,
            "start_s": _finite_or_none(measured.measurements[s.start].time_s) if n else None,
            "end_s": _finite_or_none(measured.measurements[s.stop - 1].time_s) if n else None,
            "facing": _facing_of(measured.measurements[s.start : s.stop]),
            "calibration_found": bool(s.calibration.found),
            "reps": len(s.reps),
            **(s.quality.to_dict() if s.quality else {}),
        }
        for k, s in enumerate(shots)
    ]
    if measured.area is not None and measured.area.cropped:
        result.picture_area = measured.area.to_dict()


def _facing_of(measurements: list[FrameMeasurement]) -> str | None:
    """The facing most frames of a shot were measured with."""
    votes = [m.facing for m in measurements if m.detected and m.facing]
    return max(set(votes), key=votes.count) if votes else None


def error_result(video_path: str | Path, exc: HingecheckError, options: AnalyzeOptions | None = None) -> AnalysisResult:
    """The result of a video that could not be analysed: its status and one-line reason, nothing else."""
    output_options = (options or AnalyzeOptions()).output_options
    return AnalysisResult(
        video=None, status=exc.status, message=str(exc), source_path=str(video_path), output_options=output_options
    )
