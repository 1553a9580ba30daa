"""``live --record``: keep the processed frames and turn the session into the same outputs as ``analyze``.

The processing thread only hands frames over; a low-priority writer thread encodes them (H.264) so encoding
never competes with pose inference for the frame budget. At the end of the session the recording is the
"source" that ``report.outputs.write_outputs`` decodes for annotated.mp4, so annotated.mp4, frames.csv and the
reps all refer to exactly the processed frames.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from hingecheck.core.coach import LiveCoach
from hingecheck.core.kinematics import Calibration, FrameMeasurement, assess_view
from hingecheck.core.settings import Settings
from hingecheck.core.types import AngleSeries, FrameAngles, PoseFrame, Rep, VideoInfo, Warning_
from hingecheck.io.pose import ModelInfo
from hingecheck.io.video import VideoWriter
from hingecheck.pipeline import AnalyzeOptions, Measured, capture_warnings, too_little_person
from hingecheck.report.outputs import write_outputs
from hingecheck.result import AnalysisResult

_STOP = object()


class RawRecorder:
    """Encode processed frames in a background thread; ``put`` blocks only if the encoder falls far behind."""

    def __init__(self, path: Path, width: int, height: int, fps: float, max_queued: int = 90) -> None:
        self.path = path
        # near-lossless (it is re-analysed later) with the cheapest preset: it shares the cores with the coach
        self._writer = VideoWriter(path, width, height, fps, crf=18, preset="ultrafast")
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, max_queued))
        self.frames_written = 0
        self.stalls = 0  # times the processing thread had to wait for the encoder
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hingecheck-record", daemon=True)
        self._thread.start()

    def put(self, rgb: np.ndarray, time_s: float) -> None:
        """Queue a processed frame for encoding (blocks only when the encoder is far behind)."""
        try:
            self._queue.put_nowait((rgb, time_s))
        except queue.Full:
            self.stalls += 1
            self._queue.put((rgb, time_s))

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):  # Linux: per-thread niceness; elsewhere not needed
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            if self.error is not None:
                continue  # keep draining so the processing thread never blocks on a dead writer
            rgb, time_s = cast(tuple[np.ndarray, float], item)
            try:
                self._writer.write(rgb, time_s)
                self.frames_written += 1
            except Exception as exc:
                self.error = exc

    def close(self) -> None:
        """Encode what is queued and close the file; an encoding error is kept in ``error``."""
        self._queue.put(_STOP)
        self._thread.join()
        try:
            self._writer.close()
        except Exception as exc:
            self.error = self.error or exc


def reindexed(pose: PoseFrame, index: int) -> PoseFrame:
    """The pose, without its mask, numbered as the ``index``-th processed frame (the recording's frame index)."""
    p = pose.without_mask()
    p.index = index
    return p


def build_session_result(
    *,
    info: VideoInfo,
    poses: list[PoseFrame],
    measurements: list[FrameMeasurement],
    angles: list[FrameAngles | None],
    reps: list[Rep],
    luma: list[float],
    facing: str | None,
    calibration: dict[str, Any],
    calibration_warnings: list[Warning_],
    settings: Settings,
    model: ModelInfo,
    timings_s: dict[str, float],
    decode_errors: list[str],
) -> AnalysisResult:
    """An AnalysisResult for the processed frames, with the same status rules as ``pipeline.analyze``."""
    frames = [
        a if a is not None else FrameAngles(p.index, p.time_s, p.detected) for a, p in zip(angles, poses, strict=True)
    ]
    # the movement stage needs no person for undetected frames; keep 'detected' from the pose, not the angles
    for a, p in zip(frames, poses, strict=True):
        a.detected = bool(p.detected)
    series = AngleSeries.from_frames(frames)
    result = AnalysisResult(
        video=info,
        status="ok",
        message="",
        angles=series,
        poses=poses,
        dorsal_contours=[m.dorsal_contour for m in measurements],
        reps=reps,
        facing=facing,
        calibration=calibration,
        settings=settings.values,
        settings_hash=settings.hash,
        config_source=settings.source,
        model={"name": model.name, "sha256": model.sha256, "verified": model.verified},
        timings_s=timings_s,
    )
    measured = Measured(poses, measurements, luma, decode_errors)
    detection_rate = result.detection_rate
    result.warnings = capture_warnings(measured, detection_rate)
    too_little = too_little_person(poses, "session")
    if too_little is not None:
        result.status = "no_person"
        result.message = too_little
        result.reps = []
        return result
    result.warnings += calibration_warnings + assess_view(measurements, poses, settings.quality)
    return result


def _finite_or_none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 3)


def calibration_info(calibrations: list[Calibration], automatic_fallback: bool) -> dict[str, Any]:
    """summary.json's ``calibration`` block for a session: the last standing baseline and how many there were."""
    if not calibrations:
        return {"automatic": True, "found": False, "start_s": None, "end_s": None, "live": True}
    c = calibrations[-1]
    return {
        "automatic": bool(automatic_fallback),
        "found": bool(c.found),
        "start_s": _finite_or_none(c.start_s),
        "end_s": _finite_or_none(c.end_s),
        "live": True,
        "n_calibrations": len(calibrations),
    }


def write_session_record(
    out_dir: Path,
    *,
    info: VideoInfo,
    coach: LiveCoach,
    facing: str | None,
    poses: list[PoseFrame],
    measurements: list[FrameMeasurement],
    luma: list[float],
    recorder: RawRecorder | None,
    session_s: float,
    error: str | None,
    settings: Settings,
    model: ModelInfo,
    config_path: str | None,
    blur_faces: bool,
    note: Callable[[str], None],
) -> AnalysisResult:
    """Turn a finished session into the outputs of ``analyze`` in ``out_dir`` (``live --record``).

    The recording of the processed frames, when it is complete, becomes the source of annotated.mp4; otherwise
    the other outputs are written without a video and ``note`` says why.
    """
    t0 = time.perf_counter()
    n = min(len(poses), len(measurements), len(coach.angles), len(luma))  # Ctrl-C can land mid-frame
    poses, measurements, luma = poses[:n], measurements[:n], luma[:n]
    duration = poses[-1].time_s if poses else 0.0
    info = replace(info, n_frames_hint=len(poses), duration_s=max(info.duration_s, duration))
    automatic = bool(coach.calibrations) and coach.calibrations[-1].automatic
    result = build_session_result(
        info=info,
        poses=poses,
        measurements=measurements,
        angles=coach.angles[:n],
        reps=list(coach.reps),
        luma=luma,
        facing=facing,
        calibration=calibration_info(coach.calibrations, automatic),
        calibration_warnings=coach.calibrations[-1].warnings if coach.calibrations else [],
        settings=settings,
        model=model,
        timings_s={"session": session_s},
        decode_errors=[error] if error else [],
    )
    result.verdicts_withheld = dict(coach.verdicts_withheld)  # cues the coach held back (camera not side-on)
    if not poses:
        result.status, result.message = "no_frames", "the session ended before any frame was processed"
    recording = _keep_recording(recorder, out_dir, len(poses), note)
    options = AnalyzeOptions(
        config_path=config_path,
        write_video=recording is not None,
        blur_faces=blur_faces,
        max_width=None,  # the recording already has the processed size
    )
    if recording is not None and not blur_faces:
        result.outputs["session_video"] = recording.name
    write_outputs(result, recording or Path("-"), out_dir, options.output_options)
    if recording is not None and blur_faces:
        recording.unlink(missing_ok=True)  # raw faces must not stay behind when blurring was asked for
    result.timings_s["record_outputs"] = time.perf_counter() - t0
    return result


def _keep_recording(
    recorder: RawRecorder | None, out_dir: Path, n_frames: int, note: Callable[[str], None]
) -> Path | None:
    """The finished recording as out_dir/session.mp4 when it holds exactly the processed frames, else None (the
    partial file is removed and ``note`` says why)."""
    if recorder is None:
        return None
    if recorder.error is None and recorder.frames_written == n_frames and n_frames:
        recording = out_dir / "session.mp4"
        os.replace(recorder.path, recording)
        return recording
    if recorder.error is not None:
        note(f"the session recording failed ({recorder.error}); no annotated video")
    elif n_frames:
        note("the session recording does not match the processed frames; no annotated video")
    recorder.path.unlink(missing_ok=True)
    return None
