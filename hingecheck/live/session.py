"""``hingecheck live``: webcam (or a clip played at its real pace) with rep-by-rep feedback within a blink.

Threads: capture (camera or PyAV decode, in real time) → one-slot mailbox → processing (pose, kinematics,
one-euro smoothing, the streaming rep tracker, cues, window). The mailbox never queues: a frame that waits
while a newer one arrives is dropped and counted, so the feedback is never late by more than one frame of
work. ``--record`` keeps the processed frames (encoded by a low-priority thread) and writes the same
outputs as ``analyze`` at the end; ``--no-window`` runs headless and writes live_stats.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hingecheck.core.coach import CoachUpdate, LiveCoach, LiveConfig, rep_cue, rep_verdict
from hingecheck.core.errors import HingecheckError
from hingecheck.core.kinematics import FrameMeasurement, SagittalMeasurer
from hingecheck.core.settings import Settings, load_settings
from hingecheck.core.types import Fault, PoseFrame, Rep, VideoFrame
from hingecheck.io.pose import ModelInfo, PoseEstimator, resolve_model
from hingecheck.io.sinks import atomic_open
from hingecheck.live import gui as live_gui  # first: OpenCV's GUI must load before PyAV (see live_gui)
from hingecheck.live.capture import (
    CameraSource,
    CaptureThread,
    FrameSource,
    LatestFrameSlot,
    VideoFileSource,
    open_camera,
)
from hingecheck.live.record import RawRecorder, build_session_result, calibration_info, reindexed
from hingecheck.result import AnalysisResult


@dataclass
class LiveOptions:
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


@dataclass
class LiveStats:
    """Latency accounting of one session (capture → verdict), written to live_stats.json."""

    frames_captured: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    frames_paused: int = 0
    fps: float = 0.0
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    latency_ms_max: float = 0.0
    pose_ms_p50: float = 0.0
    pose_ms_p95: float = 0.0
    rest_ms_p50: float = 0.0  # kinematics + smoothing + tracker per frame
    rest_ms_p95: float = 0.0
    duration_s: float = 0.0
    record_stalls: int = 0
    load_avg_start: list[float] = field(default_factory=list)
    load_avg_end: list[float] = field(default_factory=list)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def dropped_share(self) -> float:
        return self.frames_dropped / self.frames_captured if self.frames_captured else 0.0

    def to_dict(self) -> dict:
        d = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
        d["dropped_share"] = round(self.dropped_share, 4)
        return d


def _percentile_ms(values_s: list[float], q: float) -> float:
    return float(np.percentile(values_s, q) * 1000.0) if values_s else 0.0


def _load_avg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


PHASE_FOR_OVERLAY = {"standing": "stand", "lockout": "stand", "descent": "descent", "return": "return"}


# --- the session ---


@dataclass
class SessionOutcome:
    stats: LiveStats
    reps: list[Rep]
    result: AnalysisResult | None  # with --record
    stats_path: Path | None
    error: str | None = None  # the source failed mid-session (one line)


class LiveSession:
    """One live session: open the source, run the processing loop until the end / q / Ctrl-C, then write outputs."""

    def __init__(
        self,
        options: LiveOptions,
        settings: Settings | None = None,
        model: ModelInfo | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.settings = settings or load_settings(options.config_path)
        self.cfg = self.settings.typed("live", LiveConfig)
        self.model = model or resolve_model(options.model_path)
        self._say = say or (lambda text: print(text, flush=True))
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"hingecheck: {text}", file=sys.stderr, flush=True)

    def open_source(self) -> FrameSource:
        if self.options.source is not None:
            return VideoFileSource(
                self.options.source,
                max_width=self.cfg.max_width,
                realtime=self.options.realtime,
                every_frame=self.options.every_frame,
            )
        return open_camera(self.options.camera, max_width=self.cfg.max_width)

    def run(self) -> SessionOutcome:
        from hingecheck.live.audio import CuePlayer

        options = self.options
        source = self.open_source()  # raises a HingecheckError with one line (no camera, not a video …)
        window: live_gui.LiveWindow | None = None
        if options.window:
            ok, why = live_gui.display_available()
            if ok:
                try:
                    window = live_gui.LiveWindow()
                except Exception as exc:  # cv2.error: highgui without a usable backend
                    why = f"cannot open a window ({str(exc).splitlines()[0][:80] if str(exc) else exc!r})"
            if window is None:
                self.note(f"{why}: running without a window")
        pose_settings = self.settings.section("pose")
        try:  # one person, VIDEO mode: the fastest setting (DESIGN §7); timestamps are the capture times
            estimator = PoseEstimator(
                self.model, num_poses=1, min_confidence=float(pose_settings.get("min_confidence", 0.5))
            )
        except BaseException:
            source.close()
            if window is not None:
                window.close()
            raise
        player = CuePlayer(quiet=options.quiet, note=self.note)
        recorder: RawRecorder | None = None
        if options.record_dir is not None and options.write_video:
            options.record_dir.mkdir(parents=True, exist_ok=True)
            recorder = RawRecorder(
                options.record_dir / ".session.partial.mp4",
                source.info.width,
                source.info.height,
                source.info.fps,
                self.cfg.record_queue_frames,
            )
        try:
            return self._loop(source, estimator, player, recorder, window)
        finally:
            estimator.close()
            player.close()
            if window is not None:
                window.close()

    def _loop(
        self,
        source: FrameSource,
        estimator: PoseEstimator,
        player,
        recorder: RawRecorder | None,
        window: live_gui.LiveWindow | None,
    ) -> SessionOutcome:
        options = self.options
        stats = LiveStats(source=source.info.path, load_avg_start=_load_avg())
        slot = LatestFrameSlot()
        capture = CaptureThread(source, slot)
        measurer = SagittalMeasurer()
        coach = LiveCoach(self.settings, self.cfg)
        if not coach.tracker_available:
            self.note("rep tracking is not available in this build (movement.RepTracker missing)")
        poses: list[PoseFrame] = []
        measurements: list[FrameMeasurement] = []
        luma: list[float] = []
        latencies_s: list[float] = []
        pose_s: list[float] = []
        rest_s: list[float] = []
        hud: dict = {"reps": 0, "guidance": "", "verdict": "", "cue": "", "paused": False, "perf": ""}
        paused = False
        draw = window is not None or options.draw_headless
        last_shown: tuple[np.ndarray, PoseFrame, np.ndarray | None, CoachUpdate] | None = None
        was_calibrated = False
        announced_faults: set[tuple[int, str]] = set()
        t_start = time.perf_counter()
        t_first: float | None = None
        t_last = t_start

        def give_cues(update: CoachUpdate) -> None:
            nonlocal was_calibrated
            if update.state == "tracking" and not was_calibrated:
                was_calibrated = True
                c = coach.calibration
                self._say(f"calibrated on the stand at {c.start_s:.1f}–{c.end_s:.1f} s: start your reps")
                player.beep(self.cfg.tone_hz_good, self.cfg.tone_s, beeps=2)
                player.say("Calibrated. Start your reps.")
            for rep_index, fault in update.early_faults:  # a fault seen mid-rep: cue it now, not at the rep's end
                key = (rep_index, fault.code)
                if key not in announced_faults:
                    announced_faults.add(key)
                    self._flag_fault(fault, hud, player)
            for rep in update.reps_done:
                self._finish_rep(rep, hud, player, announced_faults)
            hud["reps"] = sum(1 for r in coach.reps if not r.partial)

        capture.start()
        try:
            while True:
                if options.max_seconds is not None and time.perf_counter() - t_start > options.max_seconds:
                    break
                frame = slot.take(timeout_s=0.05)
                if frame is None:
                    if capture.exception is not None or slot.finished:
                        break
                    if window is not None:
                        if last_shown is not None and paused:
                            hud["paused"] = True
                            window.show(live_gui.draw_live_frame(*last_shown, hud))
                        key = window.poll()
                        if key in live_gui.QUIT_KEYS or window.closed():
                            break
                        if key in live_gui.PAUSE_KEYS:
                            paused = self._toggle_pause(paused, capture, hud)
                    continue
                if paused:  # a camera keeps delivering while paused: show it, analyse nothing
                    stats.frames_paused += 1
                    if window is not None and last_shown is not None:
                        window.show(live_gui.draw_live_frame(frame.rgb, *last_shown[1:], hud))
                        key = window.poll()
                        if key in live_gui.QUIT_KEYS:
                            break
                        if key in live_gui.PAUSE_KEYS:
                            paused = self._toggle_pause(paused, capture, hud)
                    continue
                k = len(poses)
                t0 = time.perf_counter()
                pose = estimator.process(VideoFrame(k, frame.time_s, frame.rgb))
                t1 = time.perf_counter()
                m = measurer.measure(pose)
                update = coach.step(pose, m)
                t_done = time.perf_counter()
                latencies_s.append(t_done - frame.captured_at)
                pose_s.append(t1 - t0)
                rest_s.append(t_done - t1)
                t_first = frame.captured_at if t_first is None else t_first
                t_last = t_done
                give_cues(update)
                poses.append(reindexed(pose, k))
                measurements.append(m)
                luma.append(float(frame.rgb[::8, ::8].mean()))  # brightness check, as analyze does
                if recorder is not None:
                    recorder.put(frame.rgb, frame.time_s)
                hud["guidance"] = update.guidance
                hud["phase"] = PHASE_FOR_OVERLAY.get(update.phase or "standing", "stand")
                hud["rep"] = None if hud["phase"] == "stand" else len(coach.reps) + 1
                if draw:
                    n = len(latencies_s)
                    hud["perf"] = (
                        f"{n / max(t_done - (t_first or t_done), 1e-6):.0f} fps  {latencies_s[-1] * 1e3:.0f} ms"
                    )
                    shown = live_gui.draw_live_frame(frame.rgb, pose, m.dorsal_contour, update, hud)
                    last_shown = (frame.rgb, pose, m.dorsal_contour, update)
                    if window is not None:
                        window.show(shown)
                        key = window.poll()
                        if key in live_gui.QUIT_KEYS or window.closed():
                            break
                        if key in live_gui.RECALIBRATE_KEYS:
                            for rep in coach.recalibrate():
                                self._finish_rep(rep, hud, player, announced_faults)
                            was_calibrated = False
                            self._say("recalibrating: stand still, side-on")
                        if key in live_gui.PAUSE_KEYS:
                            paused = self._toggle_pause(paused, capture, hud)
        except KeyboardInterrupt:
            self._say("stopped")
        finally:
            capture.stop()
        error = source.error
        if capture.exception is not None:
            exc = capture.exception
            error = f"capture failed: {str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}"
        if error:
            self.note(error)
        for rep in coach.finish(measurements):
            self._finish_rep(rep, hud, player, announced_faults)
        if recorder is not None:
            recorder.close()
            stats.record_stalls = recorder.stalls

        stats.frames_captured = slot.frames_put
        stats.frames_processed = len(poses)
        stats.frames_dropped = slot.frames_dropped
        stats.duration_s = t_last - t_start
        span = t_last - (t_first if t_first is not None else t_start)
        stats.fps = (len(poses) - 1) / span if len(poses) > 1 and span > 0 else 0.0
        stats.latency_ms_p50 = _percentile_ms(latencies_s, 50)
        stats.latency_ms_p95 = _percentile_ms(latencies_s, 95)
        stats.latency_ms_max = _percentile_ms(latencies_s, 100)
        stats.pose_ms_p50, stats.pose_ms_p95 = _percentile_ms(pose_s, 50), _percentile_ms(pose_s, 95)
        stats.rest_ms_p50, stats.rest_ms_p95 = _percentile_ms(rest_s, 50), _percentile_ms(rest_s, 95)
        stats.load_avg_end = _load_avg()
        stats.notes = list(self.notes)

        result = None
        if options.record_dir is not None:
            result = self._write_record(source, coach, measurer, poses, measurements, luma, recorder, stats, error)
        stats_dir = options.stats_dir or options.record_dir  # --stats-dir wins; else beside the recording
        stats_path = None
        if stats_dir is not None:
            stats_path = Path(stats_dir) / "live_stats.json"
            with atomic_open(stats_path) as fh:
                json.dump(stats.to_dict(), fh, indent=2)
                fh.write("\n")
        return SessionOutcome(stats, list(coach.reps), result, stats_path, error)

    def _toggle_pause(self, paused: bool, capture: CaptureThread, hud: dict) -> bool:
        paused = not paused
        hud["paused"] = paused
        if paused:
            capture.pause_event.set()
            self._say("paused: press space to go on")
        else:
            capture.pause_event.clear()
            self._say("going on")
        return paused

    def _flag_fault(self, fault: Fault, hud: dict, player) -> None:
        hud["verdict"], hud["verdict_fault"], hud["cue"] = fault.message, True, fault.cue
        player.beep(self.cfg.tone_hz_fault, self.cfg.tone_s, beeps=2)
        player.say(fault.cue)

    def _finish_rep(self, rep: Rep, hud: dict, player, announced: set[tuple[int, str]]) -> None:
        verdict = rep_verdict(rep) + (" (cut off)" if rep.partial else "")
        self._say(verdict)
        hud["verdict"], hud["verdict_fault"], hud["cue"] = verdict, bool(rep.faults), rep_cue(rep)
        fresh = [f for f in rep.faults if (rep.index, f.code) not in announced]
        if rep.faults and not fresh:
            return  # already cued while the rep was going
        if rep.faults:
            player.beep(self.cfg.tone_hz_fault, self.cfg.tone_s, beeps=2)
            player.say(fresh[0].cue)
        elif not rep.partial:
            player.beep(self.cfg.tone_hz_good, self.cfg.tone_s)

    def _write_record(
        self,
        source: FrameSource,
        coach: LiveCoach,
        measurer: SagittalMeasurer,
        poses: list[PoseFrame],
        measurements: list[FrameMeasurement],
        luma: list[float],
        recorder: RawRecorder | None,
        stats: LiveStats,
        error: str | None,
    ) -> AnalysisResult:
        from hingecheck.pipeline import AnalyzeOptions
        from hingecheck.report.outputs import write_outputs

        out_dir = Path(self.options.record_dir)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        n = min(len(poses), len(measurements), len(coach.angles), len(luma))  # Ctrl-C can land mid-frame
        poses, measurements, luma = poses[:n], measurements[:n], luma[:n]
        duration = poses[-1].time_s if poses else 0.0
        info = replace(source.info, n_frames_hint=len(poses), duration_s=max(source.info.duration_s, duration))
        automatic = bool(coach.calibrations) and coach.calibrations[-1].automatic
        result = build_session_result(
            info=info,
            poses=poses,
            measurements=measurements,
            angles=coach.angles[:n],
            reps=list(coach.reps),
            luma=luma,
            facing=measurer.facing,
            calibration=calibration_info(coach.calibrations, automatic),
            calibration_warnings=coach.calibrations[-1].warnings if coach.calibrations else [],
            settings=self.settings,
            model=self.model,
            timings_s={"session": stats.duration_s},
            decode_errors=[error] if error else [],
        )
        if not poses:
            result.status, result.message = "no_frames", "the session ended before any frame was processed"
        recording: Path | None = None
        if recorder is not None and recorder.error is None and recorder.frames_written == len(poses) and poses:
            recording = out_dir / "session.mp4"
            os.replace(recorder.path, recording)
        elif recorder is not None:
            if recorder.error is not None:
                self.note(f"the session recording failed ({recorder.error}); no annotated video")
            elif poses:
                self.note("the session recording does not match the processed frames; no annotated video")
            recorder.path.unlink(missing_ok=True)
        options = AnalyzeOptions(
            config_path=self.options.config_path,
            write_video=recording is not None,
            blur_faces=self.options.blur_faces,
            max_width=None,  # the recording already has the processed size
        )
        if recording is not None and not self.options.blur_faces:
            result.outputs["session_video"] = recording.name
        write_outputs(result, recording or Path("-"), out_dir, options.output_options)
        if recording is not None and self.options.blur_faces:
            recording.unlink(missing_ok=True)  # raw faces must not stay behind when blurring was asked for
        result.timings_s["record_outputs"] = time.perf_counter() - t0
        return result


__all__ = [
    "CameraSource",
    "HingecheckError",
    "LiveOptions",
    "LiveSession",
    "LiveStats",
    "SessionOutcome",
]
