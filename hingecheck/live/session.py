"""``hingecheck live``: webcam (or a clip played at its real pace) with rep-by-rep feedback within a blink.

Threads: capture (camera or PyAV decode, in real time) → one-slot mailbox → processing (pose, kinematics,
one-euro smoothing, the streaming rep tracker, cues, window). The mailbox never queues: a frame that waits
while a newer one arrives is dropped and counted, so the feedback is never late by more than one frame of
work. ``--record`` keeps the processed frames (encoded by a low-priority thread) and writes the same
outputs as ``analyze`` at the end; ``--no-window`` runs headless and writes live_stats.json.

The session's parts: ``live.feedback`` (HUD state, cues, status lines), ``live.stats`` (latency bookkeeping),
``live.gui`` (window, keys, drawing), ``live.record`` (recording and outputs). Status lines go to the ``say``
callback and notes to ``note`` (the CLI prints them); without callbacks they are logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hingecheck.core import picture
from hingecheck.core.coach import CoachUpdate, LiveCoach
from hingecheck.core.errors import HingecheckError
from hingecheck.core.kinematics import FrameMeasurement, SagittalMeasurer
from hingecheck.core.settings import Settings
from hingecheck.core.types import PoseFrame, Rep, VideoFrame
from hingecheck.io.config import load_settings
from hingecheck.io.lumbopelvic_model import load_model
from hingecheck.io.pose import ModelInfo, PoseEstimator, resolve_model
from hingecheck.io.sinks import atomic_open, writable_dir
from hingecheck.live import gui as live_gui  # first: OpenCV's GUI must load before PyAV (see live_gui)
from hingecheck.live.audio import CuePlayer
from hingecheck.live.capture import (
    CameraSource,
    CapturedFrame,
    CaptureThread,
    FrameSource,
    LatestFrameSlot,
    VideoFileSource,
    open_camera,
)
from hingecheck.live.feedback import PHASE_FOR_OVERLAY, SessionFeedback
from hingecheck.live.record import RawRecorder, reindexed, write_session_record
from hingecheck.live.stats import LatencyBook, LiveStats, load_avg
from hingecheck.render.overlay import OverlayConfig
from hingecheck.result import AnalysisResult

log = logging.getLogger(__name__)


@dataclass
class LiveOptions:
    """The switches of ``hingecheck live``."""

    camera: int = 0
    source: str | None = None  # a video file played at its real pace instead of a camera
    window: bool = True
    record_dir: Path | None = None
    stats_dir: Path | None = None
    quiet: bool = False
    model_path: str | None = None
    config_path: str | None = None
    write_video: bool = True
    blur_faces: bool = False
    realtime: bool = True  # False: release a --source clip as fast as it decodes (still dropping stale frames)
    every_frame: bool = False  # release a --source clip frame by frame as the coach takes them: nothing dropped
    max_seconds: float | None = None  # end the session after this long (servers, smoke tests)
    draw_headless: bool = False  # draw the overlay even without a window (benchmarking the window's cost)
    exercise: str | None = None  # None: [exercise] name in the settings


@dataclass
class SessionOutcome:
    """What a finished session leaves: its stats, reps, the recorded result (``--record``) and any error."""

    stats: LiveStats
    reps: list[Rep]
    result: AnalysisResult | None  # with --record
    stats_path: Path | None
    error: str | None = None  # the source failed mid-session (one line)


ShownFrame = tuple[np.ndarray, PoseFrame, np.ndarray | None, CoachUpdate]  # what draw_live_frame last drew


class LiveSession:
    """One live session: open the source, run the processing loop until the end / q / Ctrl-C, then write outputs."""

    def __init__(
        self,
        options: LiveOptions,
        settings: Settings | None = None,
        model: ModelInfo | None = None,
        say: Callable[[str], None] | None = None,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.settings = settings or load_settings(options.config_path)
        self.cfg = self.settings.live
        self.model = model or resolve_model(options.model_path)
        self._say = say or log.info
        self._note = note or log.warning
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        """A one-line note about the session (no window, no sound, a failed recording …): kept and reported."""
        self.notes.append(text)
        self._note(text)

    def open_source(self) -> FrameSource:
        """The frame source: the ``--source`` clip, else the camera."""
        if self.options.source is not None:
            return VideoFileSource(
                self.options.source,
                max_width=self.cfg.max_width,
                realtime=self.options.realtime,
                every_frame=self.options.every_frame,
            )
        return open_camera(self.options.camera, max_width=self.cfg.max_width)

    def _open_window(self) -> live_gui.LiveWindow | None:
        if not self.options.window:
            return None
        ok, why = live_gui.display_available()
        if ok:
            try:
                return live_gui.LiveWindow()
            except Exception as exc:  # cv2.error: highgui without a usable backend
                why = f"cannot open a window ({str(exc).splitlines()[0][:80] if str(exc) else exc!r})"
        self.note(f"{why}: running without a window")
        return None

    def run(self) -> SessionOutcome:
        """Run the session to its end and write its outputs; a source that cannot open raises HingecheckError."""
        options = self.options
        for folder in (options.record_dir, options.stats_dir):  # before the session: its outputs must have a home
            if folder is not None:
                writable_dir(folder, "session folder")
        source = self.open_source()  # raises a HingecheckError with one line (no camera, not a video …)
        window = self._open_window()
        try:  # one person, VIDEO mode: the fastest setting (DESIGN §7); timestamps are the capture times
            estimator = PoseEstimator(self.model, num_poses=1, min_confidence=self.settings.pose.min_confidence)
        except BaseException:
            source.close()
            if window is not None:
                window.close()
            raise
        player = CuePlayer(quiet=options.quiet, note=self.note)
        recorder: RawRecorder | None = None
        if options.record_dir is not None and options.write_video:
            recorder = RawRecorder(
                options.record_dir / ".session.partial.mp4",
                source.info.width,
                source.info.height,
                source.info.fps,
                self.cfg.record_queue_frames,
            )
        try:
            loop = _SessionLoop(self, source, estimator, SessionFeedback(self.cfg, player, self._say), window)
            loop.recorder = recorder
            loop.run()
            return self._close(loop)
        finally:
            estimator.close()
            player.close()
            if window is not None:
                window.close()

    def _close(self, loop: _SessionLoop) -> SessionOutcome:
        """After the loop: close the last rep, the recording, the stats and the outputs."""
        error = loop.source.error
        if loop.capture.exception is not None:
            exc = loop.capture.exception
            error = f"capture failed: {str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}"
        if error:
            self.note(error)
        for rep in loop.coach.finish(loop.measurements):
            loop.feedback.finish_rep(rep)
        stats = loop.stats
        if loop.recorder is not None:
            loop.recorder.close()
            stats.record_stalls = loop.recorder.stalls
        stats.frames_captured = loop.slot.frames_put
        stats.frames_processed = len(loop.poses)
        stats.frames_dropped = loop.slot.frames_dropped
        loop.latency.fill(stats, len(loop.poses))
        stats.notes = list(self.notes)

        result = None
        if self.options.record_dir is not None:
            result = write_session_record(
                Path(self.options.record_dir),
                info=loop.source.info,
                coach=loop.coach,
                facing=loop.measurer.facing,
                poses=loop.poses,
                measurements=loop.measurements,
                luma=loop.luma,
                recorder=loop.recorder,
                session_s=stats.duration_s,
                error=error,
                settings=self.settings,
                model=self.model,
                config_path=self.options.config_path,
                blur_faces=self.options.blur_faces,
                note=self.note,
            )
        stats_dir = self.options.stats_dir or self.options.record_dir  # --stats-dir wins; else beside the recording
        stats_path = None
        if stats_dir is not None:
            stats_path = Path(stats_dir) / "live_stats.json"
            with atomic_open(stats_path) as fh:
                json.dump(stats.to_dict(), fh, indent=2)
                fh.write("\n")
        return SessionOutcome(stats, list(loop.coach.reps), result, stats_path, error)


class _SessionLoop:
    """The processing loop of one session and what it accumulates (poses, measurements, timings)."""

    def __init__(
        self,
        session: LiveSession,
        source: FrameSource,
        estimator: PoseEstimator,
        feedback: SessionFeedback,
        window: live_gui.LiveWindow | None,
    ) -> None:
        self.options = session.options
        self.source = source
        self.estimator = estimator
        self.feedback = feedback
        self.window = window
        self.recorder: RawRecorder | None = None
        self.stats = LiveStats(source=source.info.path, load_avg_start=load_avg())
        self.slot = LatestFrameSlot()
        self.capture = CaptureThread(source, self.slot)
        learned = session.settings.reading.method == "learned"
        self.measurer = SagittalMeasurer(with_crop=learned)  # the crop is the learned reading's CNN input
        self.coach = LiveCoach(
            session.settings, session.cfg, session.options.exercise, load_model() if learned else None
        )
        self.poses: list[PoseFrame] = []
        self.measurements: list[FrameMeasurement] = []
        self.luma: list[float] = []
        self.latency = LatencyBook()
        self.paused = False
        self.draw = window is not None or self.options.draw_headless
        self.last_shown: ShownFrame | None = None
        self.overlay = OverlayConfig.from_faults(session.settings.faults)  # the gauge reads the fault rule's limits

    def run(self) -> None:
        """Take frames until the source ends, the user quits, the time is up or Ctrl-C."""
        self.capture.start()
        try:
            while not self._step():
                pass
        except KeyboardInterrupt:
            self.feedback.say("stopped")
        finally:
            self.capture.stop()

    def _step(self) -> bool:
        """Handle what the mailbox holds (a frame or nothing yet); True when the session should end."""
        max_s = self.options.max_seconds
        if max_s is not None and self.latency.elapsed_s() > max_s:
            return True
        frame = self.slot.take(timeout_s=0.05)
        if frame is None:
            if self.capture.exception is not None or self.slot.finished:
                return True
            return self._idle()
        if self.paused:
            return self._paused_frame(frame)
        return self._process(frame)

    def _idle(self) -> bool:
        """No new frame: keep the window alive (redrawing the paused frame) and read the keys."""
        if self.window is None:
            return False
        if self.last_shown is not None and self.paused:
            self.feedback.hud["paused"] = True
            self.window.show(live_gui.draw_live_frame(*self.last_shown, self.feedback.hud, self.overlay))
        return self._keys(recalibrate=False, check_closed=True)

    def _paused_frame(self, frame: CapturedFrame) -> bool:
        """A camera keeps delivering while paused: show it, analyse nothing."""
        self.stats.frames_paused += 1
        if self.window is None or self.last_shown is None:
            return False
        self.window.show(live_gui.draw_live_frame(frame.rgb, *self.last_shown[1:], self.feedback.hud, self.overlay))
        return self._keys(recalibrate=False, check_closed=False)

    def _process(self, frame: CapturedFrame) -> bool:
        """Pose, measurement and coaching for one frame; cue, record and draw it."""
        k = len(self.poses)
        t0 = time.perf_counter()
        pose = self.estimator.process(VideoFrame(k, frame.time_s, frame.rgb))
        t1 = time.perf_counter()
        m = self.measurer.measure(pose)
        update = self.coach.step(pose, m)
        self.latency.frame_done(frame.captured_at, t0, t1, time.perf_counter())
        self.feedback.on_update(update, self.coach)
        self.poses.append(reindexed(pose, k))
        self.measurements.append(m)
        self.luma.append(picture.scene_luma(frame.rgb, pose.mask, step=8))  # brightness check, as analyze does
        if self.recorder is not None:
            self.recorder.put(frame.rgb, frame.time_s)
        if not self.draw:
            return False
        self.feedback.hud["perf"] = self.latency.perf_text()
        shown = live_gui.draw_live_frame(frame.rgb, pose, m.dorsal_contour, update, self.feedback.hud, self.overlay)
        self.last_shown = (frame.rgb, pose, m.dorsal_contour, update)
        if self.window is None:
            return False
        self.window.show(shown)
        return self._keys(recalibrate=True, check_closed=True)

    def _keys(self, *, recalibrate: bool, check_closed: bool) -> bool:
        """Read one key press: q quits (True), c recalibrates, space pauses or goes on."""
        assert self.window is not None
        key = self.window.poll()
        if key in live_gui.QUIT_KEYS or (check_closed and self.window.closed()):
            return True
        if recalibrate and key in live_gui.RECALIBRATE_KEYS:
            self.feedback.recalibrating(self.coach.recalibrate())
        if key in live_gui.PAUSE_KEYS:
            self._toggle_pause()
        return False

    def _toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.capture.pause_event.set()
        else:
            self.capture.pause_event.clear()
        self.feedback.paused(self.paused)


__all__ = [
    "PHASE_FOR_OVERLAY",
    "CameraSource",
    "HingecheckError",
    "LiveOptions",
    "LiveSession",
    "LiveStats",
    "SessionOutcome",
]
