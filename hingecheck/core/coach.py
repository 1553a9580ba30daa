"""The live coaching core: calibration with a framing check, smoothing, the streaming rep tracker, verdicts.

No I/O and no threads: ``LiveCoach.step(pose, measurement)`` is called once per processed frame and returns
what to show and say. It streams through the SAME rep/fault logic as ``analyze`` (``movement.RepTracker``), so
live and offline find the same reps for the same frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hingecheck.core.filters import LiveAngleSmoother, OneEuroParams
from hingecheck.core.framing import FramingCheck, StillnessDetector, check_framing
from hingecheck.core.kinematics import Calibration, FrameMeasurement, calibrate
from hingecheck.core.kinematics.calibration import (
    STAND_BEFORE_BEND_DEG,
    lockout_frames,
    standing_frames,
    true_runs,
)
from hingecheck.core.kinematics.lumbopelvic import LearnedReader, LumbopelvicModel
from hingecheck.core.movement import RepTracker
from hingecheck.core.quality import LUMBAR_CODES, VerdictSupport, small_back_reason
from hingecheck.core.settings import LiveConfig, Settings
from hingecheck.core.types import (
    Fault,
    FrameAngles,
    PoseFrame,
    Rep,
)


def make_live_smoother(cfg: LiveConfig) -> LiveAngleSmoother:
    """filters.LiveAngleSmoother (one-euro on every angle) with the parameters of [live].

    They are tuned so the streaming tracker places rep boundaries within 2 frames of analyze's zero-phase
    smoothing on the devset (the filter's own defaults lag 3-4 frames at motion onsets).
    """
    return LiveAngleSmoother(OneEuroParams.from_live(cfg))


def smooth_frame(smoother: LiveAngleSmoother, angles: FrameAngles) -> FrameAngles:
    """One frame's angles through the live smoother."""
    return smoother.filter(angles)


def make_rep_tracker(settings: Settings, calibration: Calibration | None = None, exercise: str = "auto") -> RepTracker:
    """movement.RepTracker built from the settings as analyse_reps builds it, for this calibration.

    A calibration on a lockout means the lift starts at the bottom (pull first). Live mode cannot wait for the
    whole set to detect the exercise: "auto" takes a deadlift after a lockout calibration and the generic hinge
    after a stand (pass the exercise for a kettlebell deadlift's knee rule).
    """
    bottom = calibration is not None and calibration.source == "lockouts"
    if exercise == "auto":
        exercise = "deadlift" if bottom else "hinge"
    reference = calibration.trunk_deg if calibration is not None and calibration.found else None
    return RepTracker.from_settings(
        settings, start_at_bottom=True if bottom else None, exercise=exercise, reference_trunk_deg=reference
    )


@dataclass
class TrackerOutput:
    """What the tracker said about one frame."""

    reps_done: list[Rep] = field(default_factory=list)  # reps that just finished (with their faults)
    faults: list[tuple[int, Fault]] = field(default_factory=list)  # (rep index, fault) flagged mid-rep: early cues
    phase: str | None = None


def read_events(events: Iterable[Any]) -> TrackerOutput:
    """Sort movement's events (RepStarted, RepBottom, FaultFound, RepCompleted) into what live acts on."""
    out = TrackerOutput()
    for ev in events or []:
        rep = getattr(ev, "rep", None)
        fault = getattr(ev, "fault", None)
        if isinstance(rep, Rep):  # RepCompleted
            out.reps_done.append(rep)
        elif isinstance(fault, Fault):  # FaultFound
            out.faults.append((int(getattr(ev, "rep_index", 0)), fault))
        phase = getattr(ev, "phase", None)
        if isinstance(phase, str):
            out.phase = phase
    return out


# --- the coach ---


@dataclass
class CoachUpdate:
    """The result of one frame: what the HUD shows and which cues to give now."""

    angles: FrameAngles | None
    state: str  # "calibrating" | "tracking"
    guidance: str  # calibration instruction, empty while tracking
    calibration_progress: float  # 0..1
    framing: FramingCheck
    reps_done: list[Rep] = field(default_factory=list)
    early_faults: list[tuple[int, Fault]] = field(default_factory=list)  # (session rep index, fault)
    phase: str | None = None


def rep_verdict(rep: Rep) -> str:
    """One line per rep for the screen and the terminal."""
    hip = rep.peak_hip_flexion_deg
    lum = rep.peak_lumbar_flexion_deg
    numbers = []
    if hip is not None and np.isfinite(hip):
        numbers.append(f"hip {hip:.0f}°")
    if lum is not None and np.isfinite(lum):
        numbers.append(f"low back {lum:.0f}°")
    what = "; ".join(f.message for f in rep.faults) if rep.faults else "good hinge"
    return f"rep {rep.index}: {what}" + (f" ({', '.join(numbers)})" if numbers else "")


def rep_cue(rep: Rep) -> str:
    """The spoken cue after a rep: its first fault's cue, else praise."""
    return rep.faults[0].cue if rep.faults else "Good rep."


class LiveCoach:
    """Per-frame coaching state: calibrating until a still, well-framed stand is seen, then tracking reps.

    Frames seen before the calibration are kept (measurements only) and replayed through the smoother and
    the tracker once the baseline is known, so the tracker sees every processed frame from the start,
    exactly as ``analyze`` streams its whole clip. When an arm hid the standing outline, the calibration
    fixes its arm-free pelvis zero early in the first hinge (``Calibration.observe``); the frames since the
    calibration are then replayed once more with it, so every frame is read with the same zeros as offline.
    """

    def __init__(
        self,
        settings: Settings,
        cfg: LiveConfig | None = None,
        exercise: str | None = None,
        model: LumbopelvicModel | None = None,
    ) -> None:
        self.settings = settings
        # the learned pelvis/lumbar reading (None: the hand-made one), with each calibration's standing features
        self.model = model
        self._reader: LearnedReader | None = None
        self.cfg = cfg or settings.live
        self.exercise = exercise or settings.exercise.name  # auto or one of core.settings.EXERCISES
        self.angles: list[FrameAngles | None] = []  # one per processed frame (None until calibrated)
        self.reps: list[Rep] = []
        self.calibrations: list[Calibration] = []
        self._stillness = StillnessDetector(self.cfg)
        self._reset_tracking()
        self.state = "calibrating"
        # the view check of the frames since the last rep ended: lumbar cues need a side-on camera
        self._view_frames = 0
        self._turned_frames = 0
        self._trunk_px: list[float] = []  # and a back large enough in the picture to read the low back
        self.verdicts_withheld: dict[str, str] = {}  # what the session could not judge, as analyze reports it

    # -- state --

    def _reset_tracking(self) -> None:
        self._smoother = make_live_smoother(self.cfg)
        self._tracker = make_rep_tracker(self.settings, None, self.exercise)
        self._pending: list[FrameMeasurement] = []  # measurements since the (re)calibration began
        self._tracked: list[FrameMeasurement] = []  # measurements tracked while the calibration can still change
        self._rep_offset = len(self.reps)
        self._stillness.reset()

    @property
    def calibration(self) -> Calibration | None:
        """The current standing baseline (None while calibrating the first time)."""
        return self.calibrations[-1] if self.calibrations else None

    def recalibrate(self) -> list[Rep]:
        """Start over with a new standing baseline; a rep in progress is closed first and returned."""
        done = self._finish_tracker()
        self._reset_tracking()
        self.state = "calibrating"
        return done

    # -- per frame --

    def step(self, pose: PoseFrame, m: FrameMeasurement) -> CoachUpdate:
        """Take one processed frame (in order) and say what to show and cue now."""
        assert pose.index == len(self.angles), "frames must arrive in order, indexed 0, 1, 2, …"
        framing = check_framing(pose, self.cfg)
        self.angles.append(None)
        if self.state == "tracking":
            return self._track(m, framing)
        self._pending.append(m)
        self._trim_pending()
        position = len(self._pending) - 1
        was_still = self._stillness.start is not None
        still_before = self._stillness.duration_s
        start_before = self._stillness.start
        self._stillness.update(position, pose, m, framing)
        window: tuple[float, float] | None = None
        if self._stillness.duration_s >= self.cfg.calibration_s:
            window = (self._stillness.start_time_s, self._stillness.last_time_s)
        elif was_still and self._stillness.start != start_before and still_before >= self.cfg.calibration_min_s:
            # the person started moving before the full time: a shorter still stand is still a baseline
            assert start_before is not None  # was_still
            window = (self._pending[start_before].time_s, self._pending[start_before].time_s + still_before)
        if window is not None:
            return self._calibrate_and_replay(window, framing)
        lockout = self._first_lockout()
        if lockout is not None:  # no stand before the lift: it started at the bottom (a deadlift from the floor)
            return self._calibrate_and_replay(lockout, framing, source="lockouts")
        progress = min(self._stillness.duration_s / self.cfg.calibration_s, 1.0)
        guidance = framing.problem or (
            "stand still, side-on" if self._stillness.duration_s < 0.2 else "hold still… calibrating"
        )
        return CoachUpdate(None, self.state, guidance, progress, framing)

    def _trim_pending(self) -> None:
        """Bound the replay buffer (a camera may wait minutes for the user): keep the last few seconds."""
        if len(self._pending) < 2:
            return
        span = self._pending[-1].time_s - self._pending[0].time_s
        if span > self.cfg.calibration_buffer_s:
            cut = max(1, len(self._pending) // 4)
            del self._pending[:cut]
            if self._stillness.start is not None:
                if self._stillness.start < cut:
                    self._stillness.reset()
                else:
                    self._stillness.start -= cut

    def _standing_window(self, still_s: tuple[float, float]) -> tuple[float, float]:
        """Analyze's choice of standing frames (the first quiet, upright stretch) within the still stretch seen
        live: the still-detector's stretch runs a few frames into the first motion, analyze's stops short of it,
        and calibrating on the same frames keeps live and offline angles equal."""
        candidates = [m for m in self._pending if m.time_s >= still_s[0]]
        chosen, _ = standing_frames(candidates, self.cfg.calibration_min_s)
        times = [m.time_s for m, keep in zip(candidates, chosen, strict=True) if keep]
        return (times[0], times[-1]) if times else still_s

    def _first_lockout(self) -> tuple[float, float] | None:
        """The first lockout (top of a rep) among the buffered frames, once it has ended, when the frames before
        it were bent over: the lift started at the bottom, and its top is the standing reference (as analyze
        takes it from the lockouts when no stand comes first)."""
        if len(self._pending) < 3:
            return None
        sel, _ = lockout_frames(self._pending)
        runs = true_runs(sel)
        if not runs or runs[0][1] == len(self._pending) - 1:  # none, or the first one is still going on
            return None
        first, end = runs[0]
        trunk = np.array([m.trunk_deg for m in self._pending[:first]], float)
        top = float(np.nanmedian([m.trunk_deg for m in self._pending[first : end + 1]]))
        if not (np.isfinite(trunk).any() and np.nanmax(trunk) >= top + STAND_BEFORE_BEND_DEG):
            return None
        return self._pending[first].time_s, self._pending[end].time_s

    def _calibrate_and_replay(
        self, still_s: tuple[float, float], framing: FramingCheck, source: str = "stand"
    ) -> CoachUpdate:
        window = still_s if source == "lockouts" else self._standing_window(still_s)
        calibration = calibrate(self._pending, window_s=window)
        if not calibration.found:
            self._stillness.reset()
            return CoachUpdate(None, self.state, "stand still, side-on", 0.0, framing)
        if source == "lockouts":
            calibration.source, calibration.n_lockouts = "lockouts", 1
        self._adopt_calibration(calibration, self._pending)
        pending, self._pending = self._pending, []
        update = None
        reps: list[Rep] = []
        faults: list[tuple[int, Fault]] = []
        for m in pending:
            update = self._track(m, framing)
            reps += update.reps_done
            faults += update.early_faults
        assert update is not None
        update.reps_done, update.early_faults = reps, faults
        return update

    def _adopt_calibration(self, calibration: Calibration, measured: list[FrameMeasurement]) -> None:
        """Track with this calibration (``measured``: the frames it was calibrated on)."""
        self.calibrations.append(calibration)
        self._tracker = make_rep_tracker(self.settings, calibration, self.exercise)
        self.state = "tracking"
        if self.model is not None:
            self._reader = LearnedReader.for_reference(
                self.model, measured, calibration.reference_positions, self.settings.reading
            )

    def _track(self, m: FrameMeasurement, framing: FramingCheck) -> CoachUpdate:
        calibration = self.calibrations[-1]
        if calibration.observe(m):
            return self._replay_with_settled_calibration(m, framing)
        if not calibration.settled:
            self._tracked.append(m)
        return self._track_frame(calibration, m, framing)

    def _replay_with_settled_calibration(self, m: FrameMeasurement, framing: FramingCheck) -> CoachUpdate:
        """The calibration just settled at frame ``m``: read every frame since it again, from a fresh smoother
        and tracker, as analyze reads them. Only this frame's cues and reps not announced before are returned:
        the zero settles early in the first hinge, before a fault can be judged, so nothing is lost."""
        calibration = self.calibrations[-1]
        history, self._tracked = [*self._tracked, m], []
        announced = len(self.reps) - self._rep_offset
        del self.reps[self._rep_offset :]
        self._smoother = make_live_smoother(self.cfg)
        self._tracker = make_rep_tracker(self.settings, calibration, self.exercise)
        if self._reader is not None:
            self._reader.reset()
        reps: list[Rep] = []
        for frame in history[:-1]:
            reps += self._track_frame(calibration, frame, framing).reps_done
        update = self._track_frame(calibration, m, framing)
        update.reps_done = [r for r in reps + update.reps_done if r.index - self._rep_offset > announced]
        return update

    def view_support(self) -> VerdictSupport:
        """What the current rep can be judged on: with the camera turned from side-on (the framing check fails
        on most frames since the last rep), or a reference taken at a lockout after a bent start, the low-back
        verdicts are withheld, as analyze withholds them; so they are when the back is too small in the picture."""
        support = VerdictSupport(lockout_lean_min_deg=self.settings.faults.lockout_lean_back_deg)
        if self._view_frames and self._turned_frames > 0.5 * self._view_frames:
            support.withhold_codes(LUMBAR_CODES, "camera not side-on")
        too_small = (
            small_back_reason(float(np.median(self._trunk_px)), self.settings.quality) if self._trunk_px else None
        )
        if too_small is not None:  # as analyze withholds them (person_too_small)
            support.withhold_codes(LUMBAR_CODES, too_small)
        calibration = self.calibration
        if calibration is not None and calibration.source == "lockouts":
            # live calibrates on a lockout only after a bent start: a loaded lockout is no standing zero for the
            # low back, so its verdicts are withheld as analyze withholds them (no_standing_reference)
            support.withhold_codes(LUMBAR_CODES, "the lift starts at the bottom with no still stand before it")
        return support

    def _track_frame(self, calibration: Calibration, m: FrameMeasurement, framing: FramingCheck) -> CoachUpdate:
        relative = calibration.angles(m)
        if self._reader is not None:
            relative = self._reader.read_frame(m, relative)
        angles = smooth_frame(self._smoother, relative)
        if self._reader is not None:
            angles = self._reader.withhold_frame(angles)
        self.angles[m.index] = angles
        self._view_frames += 1
        self._turned_frames += not framing.side_on
        if m.detected and np.isfinite(m.trunk_length_px):
            self._trunk_px.append(m.trunk_length_px)
        out = read_events(self._tracker.update(angles))
        out.phase = self._tracker.phase
        early: list[tuple[int, Fault]] = []
        if out.faults or out.reps_done:  # what the rep can be judged on: read only where a fault or a rep needs it
            support = self.view_support()
            early = [(self._rep_offset + i, f) for i, f in out.faults if support.keeps(f.code, f.details)]
            if out.reps_done:
                support.withhold(out.reps_done)
                for code, reason in support.withheld.items():
                    self.verdicts_withheld.setdefault(code, reason)
                self._view_frames = self._turned_frames = 0
                self._trunk_px = []
        reps = self._adopt(out.reps_done)
        return CoachUpdate(angles, "tracking", "", 1.0, framing, reps, early, out.phase)

    def _adopt(self, reps: list[Rep]) -> list[Rep]:
        """Number reps across recalibrations (each tracker counts from 1)."""
        adopted = []
        for rep in reps:
            rep = dataclasses.replace(rep, index=self._rep_offset + rep.index)
            self.reps.append(rep)
            adopted.append(rep)
        return adopted

    def _finish_tracker(self) -> list[Rep]:
        if self.state != "tracking":
            return []
        return self._adopt(read_events(self._tracker.finish()).reps_done)

    # -- end of session --

    def finish(self, all_measurements: list[FrameMeasurement] | None = None) -> list[Rep]:
        """Close the session: a rep cut off by the end is returned as partial (as analyze does).

        When no still stand was ever seen, fall back to analyze's automatic baseline over everything measured,
        so a recording is still analysed (and says so in its calibration info).
        """
        if self.state == "calibrating" and all_measurements:
            pending = [m for m in all_measurements if self.angles[m.index] is None]
            calibration = calibrate(all_measurements)
            if calibration.found:
                self._adopt_calibration(calibration, all_measurements)
                for m in pending:
                    self._track(m, FramingCheck(True, True, ""))
        return self._finish_tracker()
