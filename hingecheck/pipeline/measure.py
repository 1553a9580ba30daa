"""The offline pipeline behind ``hingecheck analyze``: source → pose → kinematics → filter → movement → sinks."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

import numpy as np

from hingecheck.core import picture, quality
from hingecheck.core.filters import smooth_series
from hingecheck.core.kinematics import Calibration, FrameMeasurement, SagittalMeasurer, calibrate
from hingecheck.core.kinematics.calibration import true_runs
from hingecheck.core.kinematics.lumbopelvic import LearnedReader
from hingecheck.core.kinematics.sagittal import dorsal_unit
from hingecheck.core.movement.rom import BackRange
from hingecheck.core.settings import PoseConfig, QualityConfig, Settings
from hingecheck.core.types import (
    LEFT_HIP,
    LEFT_SHOULDER,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    AngleSeries,
    PoseFrame,
    VideoFrame,
    VideoInfo,
    Warning_,
)
from hingecheck.io.lumbopelvic_model import load_model
from hingecheck.io.pose import ModelInfo, PoseEstimator, crop_frame, uncrop_pose
from hingecheck.io.video import VideoReader
from hingecheck.result import OutputOptions

ProgressCallback = Callable[[int, float], None]  # (frames done, seconds of video done)

MIN_DETECTION_RATE_OK = 0.5  # below this share of frames with a person, the clip is not analysable ...
# ... unless the person was found throughout a stretch this long: an edited clip (a coaching channel's) can hold
# its lift in 9 s of 26, between title cards and logos
MIN_FOUND_STRETCH_S = 3.0

log = logging.getLogger(__name__)


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
    area: picture.PictureArea | None = None  # the picture inside black bars (None: not looked for)
    zoom: picture.PictureArea | None = None  # the crop around a small person MediaPipe was given (None: the picture)

    @property
    def detection_rate(self) -> float:
        """Share of the frames with the person found (0 for no frames)."""
        return float(np.mean([p.detected for p in self.poses])) if self.poses else 0.0

    def person_boxes(self) -> np.ndarray:
        """The person's landmark box (x0, y0, x1, y1; full-frame pixels) on each frame they were found."""
        boxes = [
            (*p.landmarks_px.min(axis=0), *p.landmarks_px.max(axis=0))
            for p in self.poses
            if p.detected and p.landmarks_px is not None
        ]
        return np.array(boxes, float).reshape(-1, 4)

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
            self.zoom,
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
    zoom: picture.PictureArea | None = None,
) -> Measured:
    """Decode the video and measure every frame: pose, angles, outline, brightness, picture checks. MediaPipe is
    given the picture inside any black bars, or ``zoom`` (a crop around a small person) when given."""
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
    seen = zoom or area
    previous_hist: np.ndarray | None = None
    for full in chain(head, frames):
        frame = crop_frame(full, seen)  # MediaPipe sees the picture, not the bars
        # every 4th pixel is plenty for a colour histogram (scene cuts) and a brightness check
        hist = picture.colour_histogram(frame.rgb)
        hist_diff.append(picture.histogram_difference(previous_hist, hist))
        previous_hist = hist
        if hist_diff[-1] > cfg.cut_min_diff:  # probably a cut (confirmed later by find_cuts): facing anew
            measurer.new_shot()
        found = estimator.process(frame)
        pose = uncrop_pose(found, seen)  # ... and the outputs stay in full-frame pixels
        m = measurer.measure(pose)
        measurements.append(m)
        outline.append(_outline_of(m, pose))
        leg_vis.append(_leg_visibility(pose))
        poses.append(pose.without_mask())
        luma.append(picture.scene_luma(frame.rgb, found.mask))
        if crowd is not None:
            crowd.look(frame)
        if progress:
            progress(full.index + 1, full.time_s)
    return Measured(poses, measurements, luma, list(reader.report.errors), hist_diff, outline, leg_vis, area, zoom)


def picture_area(frames: list[VideoFrame], cfg: QualityConfig) -> picture.PictureArea:
    """The picture inside black pillar/letter-box bars, judged on the first frames of a clip."""
    if not frames:
        return picture.PictureArea(0, 0, 0, 0, 0, 0)
    profiles = [picture.edge_profiles(f.rgb.mean(axis=2)) for f in frames]
    return picture.find_picture_area([c for c, _ in profiles], [r for _, r in profiles], cfg)


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
    with_crop: bool = True,
    zoom: picture.PictureArea | None = None,
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
        measurer = SagittalMeasurer(with_crop=with_crop)  # the crop is the learned reading's CNN input
        crowd = CrowdSampler(crowd_estimator, every_s) if crowd_check else None
        measured = measure_video(reader, estimator, measurer, progress, crowd, quality_cfg, zoom)
        info = reader.info
    return measured, measurer, info, crowd.crowded_share if crowd else 0.0


def search_person(
    video_path: str | Path,
    options: AnalyzeOptions,
    model: ModelInfo,
    area: picture.PictureArea,
    n_frames: int,
    pose_settings: PoseConfig,
    cfg: QualityConfig,
) -> np.ndarray:
    """Landmark boxes (x0, y0, x1, y1; full-frame pixels) of a person found in tiles of the picture (``area``) on
    ``zoom_search_frames`` frames spread over the clip: where to look again when the whole picture showed nobody
    (a lifter filmed from across the room is too small for MediaPipe's 224 px look at the whole picture). Empty when
    they were found on fewer than ``zoom_search_min_found`` frames."""
    wanted = {int(round(i)) for i in np.linspace(0, n_frames - 1, max(cfg.zoom_search_frames, 1))}
    with VideoReader(video_path, max_width=options.max_width) as reader:
        frames = [f for k, f in enumerate(reader) if k in wanted]
    boxes: dict[int, tuple[float, float, float, float]] = {}
    for tile in picture.picture_tiles(area):
        with PoseEstimator(model, num_poses=1, min_confidence=pose_settings.min_confidence, output_masks=False) as est:
            for frame in frames:
                found = uncrop_pose(est.process(crop_frame(frame, tile)), tile)
                if found.detected and found.landmarks_px is not None and frame.index not in boxes:
                    px = found.landmarks_px
                    boxes[frame.index] = (*px.min(axis=0), *px.max(axis=0))
    log.info("person search in tiles: found on %d of %d sampled frames", len(boxes), len(frames))
    if len(boxes) < cfg.zoom_search_min_found:
        return np.zeros((0, 4))
    return np.array(list(boxes.values()), float)


def finite_or_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 3)


def angles_from(
    measured: Measured, settings: Settings, window_s: tuple[float, float] | None
) -> tuple[Calibration, AngleSeries]:
    """Calibrate on the standing frames and return the calibration and the smoothed angle series (pelvis, lumbar
    and hip read by the learned model unless [reading] method says hand_made; uncertain lumbar left empty)."""
    calibration = calibrate(measured.measurements, window_s=window_s)
    frames = [calibration.angles(m) for m in measured.measurements]
    reader = learned_reader(settings, measured.measurements, calibration)
    if reader is not None:
        frames = reader.read(measured.measurements, frames)
    series = smooth_series(AngleSeries.from_frames(frames))
    return calibration, reader.withhold(series) if reader is not None else series


def learned_reader(
    settings: Settings, measurements: list[FrameMeasurement], calibration: Calibration
) -> LearnedReader | None:
    """The learned reading for this calibration (None: [reading] method = hand_made, or no reference)."""
    if settings.reading.method != "learned" or not calibration.found:
        return None
    return LearnedReader.for_reference(load_model(), measurements, calibration.reference_positions, settings.reading)


def too_little_person(poses: Sequence[PoseFrame], source: str = "video") -> str | None:
    """Why ``poses`` hold too little of a person to analyse (None: enough): nobody at all, or a person on fewer
    than MIN_DETECTION_RATE_OK of the frames with no stretch of MIN_FOUND_STRETCH_S found throughout."""
    detected = np.array([p.detected for p in poses], bool)
    if not detected.any():
        return f"no person was found in the {source}"
    rate = float(detected.mean())
    if rate >= MIN_DETECTION_RATE_OK:
        return None
    t = np.array([p.time_s for p in poses], float)
    longest_s = max(t[b] - t[a] for a, b in true_runs(detected))
    if longest_s >= MIN_FOUND_STRETCH_S:
        return None
    return (
        f"a person was found in only {rate:.0%} of the frames, at most {longest_s:.1f} s at a time: too little to "
        "analyse"
    )


def capture_warnings(measured: Measured, detection_rate: float) -> list[Warning_]:
    """Warnings about the capture itself: damaged video, person often missing, darkness."""
    warnings: list[Warning_] = []
    for err in measured.decode_errors:
        warnings.append(Warning_("video_damaged", f"The video is damaged: {err}. Analysed what could be decoded."))
    boxes = measured.person_boxes() if measured.zoom is not None else None  # boxes only for a zoomed clip
    if boxes is not None and len(boxes) and measured.area is not None:
        _, top, _, bottom = picture.person_box(boxes)
        share = (bottom - top) / max(measured.area.y1 - measured.area.y0, 1)
        warnings.append(
            Warning_(
                "person_small",
                f"You fill only about {share:.0%} of the picture's height, so the pose was looked for in a crop around "
                "you, where it was found on more frames. Film closer: fill at least half of the picture's height.",
            )
        )
    if 0 < detection_rate < 0.95:
        warnings.append(
            Warning_(
                "person_not_always_found",
                f"The person was found in only {detection_rate:.0%} of the frames. Keep the whole body in view, "
                "lit from the front, for the whole set.",
            )
        )
    if measured.luma and float(np.median(measured.luma)) < picture.DARK_LUMA:
        warnings.append(
            Warning_(
                "too_dark",
                "The video is very dark, so the body outline is uncertain. "
                "Turn on more light or face the camera towards a bright area.",
            )
        )
    return warnings
