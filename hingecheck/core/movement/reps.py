"""Rep segmentation as a streaming state machine: the same code serves live (one frame at a time) and offline.

    standing ──drive > start──▶ candidate ──depth ≥ min_depth──▶ descent (incl. bottom)
        ▲                          │ back to standing: a fidget, dropped      │ drive ≤ peak − hysteresis
        │                          ▼                                         ▼
        └──── lockout window ◀──drive ≤ end── return ──rebound from the lower half──▶ next rep (touch-and-go)

The *drive* signal is hip flexion (trunk inclination when hip flexion is not measured on a frame). Thresholds
are relative to a running standing baseline of the drive, so a calibration offset of a few degrees does not
shift the reps. Hysteresis (start > end, a return needs a drop of ``return_min_deg``/``return_fraction``
from the peak) and a minimum descent time keep noise and pauses from splitting or double-counting reps.
Phase boundaries (bottom, start of the return) are placed afterwards within the rep's own bounded buffer,
with bands rather than sample-level features, so smoothing differences (live one-euro vs offline
zero-phase) move them by a frame or two at most. Reps cut by the clip's edges (or by a long gap) are
reported with ``partial=True``.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from hingecheck.core.movement.events import (
    ActiveRep,
    Entry,
    Event,
    FaultFound,
    GlitchFilter,
    RepBottom,
    RepCompleted,
    RepStarted,
    State,
    drive_of,
    finite,
)
from hingecheck.core.movement.faults import _COLUMN, ANGLES, CHANGES, FaultJudge, RepFrames
from hingecheck.core.movement.measures import bottom_and_return, build_rep, none_if_nan
from hingecheck.core.settings import ExerciseProfile, FaultConfig, HingeProfile, RepConfig, Settings
from hingecheck.core.types import FrameAngles, Rep


class RepTracker:
    """Feed ``update(frame)`` one FrameAngles at a time; it returns the events that frame caused."""

    def __init__(
        self,
        reps: RepConfig | None = None,
        faults: FaultConfig | None = None,
        start_at_bottom: bool | None = None,
        profile: ExerciseProfile | None = None,
        back_measure: str = "lumbar",
        reference_trunk_deg: float | None = None,
    ) -> None:
        """``start_at_bottom``: True when the lift is known to start at the bottom (no stand before the first
        rep: the standing reference came from the lockouts), so a stream that begins bent over begins with a
        pull; None to judge from the stream (bent over at the start and not going clearly deeper)."""
        self.cfg = reps or RepConfig()
        self.fault_cfg = faults or FaultConfig()
        self.start_at_bottom = start_at_bottom
        self.profile = profile or HingeProfile()  # the exercise's squat rule
        self.back_measure = back_measure  # lumbar (the outline's lumbar window) or spine (where it is clothing)
        self.reference_trunk_deg = reference_trunk_deg  # the standing reference's trunk from vertical (None: unknown)
        self.state = State.UNKNOWN
        self.reps: list[Rep] = []
        self._lookback: deque[Entry] = deque()
        self._standing: deque[Entry] = deque()
        self._last_valid_t: float | None = None
        self._last_end_frame = -1
        self._n_reps = 0
        self._cur: ActiveRep | None = None
        self._recent: deque[tuple[float, float]] = deque()  # (time_s, drive) of the last drive_average_s
        self._now: Entry | None = None  # the current frame with its averaged drive
        self._glitches = GlitchFilter(self.cfg.max_drive_speed_deg_s, self.cfg.glitch_settle_s)
        self._seen_standing = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        start_at_bottom: bool | None = None,
        exercise: str = "hinge",
        back_measure: str = "lumbar",
        reference_trunk_deg: float | None = None,
    ) -> RepTracker:
        """A tracker with the settings' rep and fault thresholds and the exercise's profile."""
        profile = settings.profile(exercise)
        return cls(settings.reps, settings.faults, start_at_bottom, profile, back_measure, reference_trunk_deg)

    # -- standing reference -------------------------------------------------------------------------------
    @property
    def baseline(self) -> float:
        """Median drive of the recent standing frames (0 = calibrated standing), clamped to a plausible drift."""
        vals = [e[2] for e in self._standing if finite(e[2])]
        if not vals:
            return 0.0
        m = self.cfg.max_baseline_deg
        return float(np.clip(np.median(vals), -m, m))

    def _refs(self) -> dict[str, float]:
        """Per-angle standing reference before a rep: the recent standing median, within ``standing_tol_deg`` of
        the calibrated zero (the standing reference of the whole set) so that it cannot drift rep after rep: in a
        set with short stands the frames just before each descent pull it forwards (TBY66: lumbar 16→36°, trunk
        3→21° over ten reps before it was bounded), and a forward reference reads the next lockout as a lean."""
        refs = {}
        m = self.cfg.standing_tol_deg
        for k in ANGLES:
            if k in CHANGES:
                continue
            vals = [e[3][k] for e in self._standing if finite(e[3][k])]
            refs[k] = float(np.clip(np.median(vals), -m, m)) if vals else 0.0
        return refs

    def _add_standing(self, entry: Entry) -> None:
        """Feed the standing reference, but never with a lean back: a lockout that overshoots standing (hip
        extended, trunk behind vertical) would drag the baseline and the per-angle references with it, and then
        true standing would no longer count as standing (the next reps misplaced, flexion faults invented)."""
        if self._standing:
            if finite(entry[2]) and entry[2] < self.baseline - self.cfg.standing_tol_deg:
                return
            trunk = entry[3]["trunk"]
            trunks = [e[3]["trunk"] for e in self._standing if finite(e[3]["trunk"])]
            if finite(trunk) and trunks and trunk < float(np.median(trunks)) - self.cfg.standing_lean_tol_deg:
                return
        self._standing.append(entry)
        while self._standing and entry[1] - self._standing[0][1] > self.cfg.baseline_window_s:
            self._standing.popleft()

    @property
    def phase(self) -> str:
        """standing / descent / return / lockout (what a live display shows); candidate counts as descent."""
        if self.state in (State.UNKNOWN, State.STANDING):
            return "standing"
        if self.state == State.CANDIDATE:
            return "descent"
        return self.state.value

    # -- streaming ----------------------------------------------------------------------------------------
    def update(self, frame: FrameAngles) -> list[Event]:
        """Take the next frame's angles; return the events it caused."""
        angles = {k: float(getattr(frame, _COLUMN[k])) for k in ANGLES}
        if not frame.detected:
            angles = dict.fromkeys(ANGLES, math.nan)
        d = drive_of(angles, self.profile.drive)
        t = float(frame.time_s)
        if self._glitches.is_glitch(t, angles):  # an implausible jump of the pose: the frame counts as not measured
            angles = dict.fromkeys(ANGLES, math.nan)
            d = math.nan
        entry: Entry = (int(frame.index), t, d, angles)
        if finite(d):
            self._recent.append((t, d))
        while self._recent and t - self._recent[0][0] > self.cfg.drive_average_s + 1e-9:
            self._recent.popleft()
        self._lookback.append(entry)
        while self._lookback and t - self._lookback[0][1] > self.cfg.lookback_s:
            self._lookback.popleft()
        events: list[Event] = []
        cur = self._cur
        if cur is not None:
            cur.frames.append(entry[0], t, d, angles)
            if self.state != State.TOP and t - cur.start_s > self.cfg.max_rep_s:  # e.g. resting bent over
                events += self._close(partial=True, end_i=None)
                self.state = State.UNKNOWN
                return events
        if not finite(d):
            if self._last_valid_t is not None and t - self._last_valid_t > self.cfg.max_gap_s:
                if cur is not None:
                    events += self._close(partial=True, end_i=None)
                self.state = State.UNKNOWN
            return events
        self._last_valid_t = t
        # decisions use a short causal mean of the drive (a peak of raw samples over-reads); placement uses raw
        self._now = (entry[0], t, sum(v for _, v in self._recent) / len(self._recent), angles)
        handler = {
            State.UNKNOWN: self._on_unknown,
            State.STANDING: self._on_standing,
            State.CANDIDATE: self._on_candidate,
            State.DESCENT: self._on_descent,
            State.RETURN: self._on_return,
            State.LOCKOUT: self._on_lockout,
            State.TOP: self._on_top,
            State.LOWERING: self._on_lowering,
        }[self.state]
        events += handler(self._now)
        return events

    def finish(self) -> list[Event]:
        """End of the stream: a rep still under way is reported as partial."""
        cur = self._cur
        events: list[Event] = []
        if cur is None:
            return events
        if self.state == State.CANDIDATE:
            if cur.peak - cur.baseline >= self.cfg.min_depth_deg:
                events += self._confirm(partial=True)
                events += self._close(partial=True, end_i=None)
            else:
                self._cur = None
        elif self.state == State.LOCKOUT or self.state == State.TOP:
            events += self._close(partial=False, end_i=self._end_index(cur))
        elif self.state == State.LOWERING:  # lowered to the end of the clip: the rep is whole if it got down
            depth = cur.lower_peak - cur.baseline
            band = max(self.cfg.bottom_band_deg, self.cfg.bottom_band_fraction * depth)
            assert cur.lowering_i is not None
            end_i = next(
                k
                for k in range(cur.lowering_i, len(cur.frames))
                if finite(cur.frames.drive[k]) and cur.frames.drive[k] >= cur.lower_peak - band
            )  # where it reached the bottom
            events += self._close(partial=depth < self.cfg.min_depth_deg, end_i=end_i)
        else:
            events += self._close(partial=True, end_i=None)
        self.state = State.UNKNOWN
        return events

    # -- state handlers -----------------------------------------------------------------------------------
    def _on_unknown(self, e: Entry) -> list[Event]:
        base = self.baseline
        if e[2] <= base + self.cfg.end_deg:
            self.state = State.STANDING
            self._seen_standing = True
            self._add_standing(e)
        elif e[2] >= base + self.cfg.start_deg:  # the clip (or the view) begins inside a rep
            # before any standing or rep was seen, the lift starts at the bottom: the first move is the pull
            pull_first = self._n_reps == 0 and not self._seen_standing and self.start_at_bottom is not False
            return self._begin([e], partial_start=not pull_first, pull_first=pull_first)
        return []

    def _on_standing(self, e: Entry) -> list[Event]:
        base = self.baseline
        if e[2] >= base + self.cfg.start_deg:
            return self._begin(self._lookback_entries(base), partial_start=False)
        # Until the standing reference spans half its window it is not trusted as a gate (one noisy first sample,
        # e.g. a live smoother's start, would otherwise lock the baseline low and misplace the next rep's start)
        settled = bool(self._standing) and e[1] - self._standing[0][1] >= 0.5 * self.cfg.baseline_window_s
        if e[2] <= base + (self.cfg.standing_tol_deg if settled else self.cfg.end_deg):
            self._add_standing(e)
        return []

    def _on_candidate(self, e: Entry) -> list[Event]:
        cur = self._cur
        assert cur is not None
        cur.track_peak(e[2])
        if e[2] <= cur.baseline + self.cfg.end_deg:  # came back up before it was a rep: a fidget
            self._cur = None
            self.state = State.STANDING
            return []
        deep = e[2] - cur.baseline >= self.cfg.min_depth_deg and e[1] - cur.start_s >= self.cfg.min_descent_s
        if deep and self._trunk_inclined(cur):
            return self._confirm(partial=cur.partial_start)
        return []

    def _trunk_inclined(self, cur: ActiveRep) -> bool:
        """The trunk has inclined ``min_trunk_deg`` from standing somewhere in the candidate: a drive deep without it
        is a glitch of the outline fit, not a hinge."""
        return bool(np.any(cur.frames.array("trunk") >= self.cfg.min_trunk_deg))  # NaN: not inclined

    def _on_descent(self, e: Entry) -> list[Event]:
        cur = self._cur
        assert cur is not None
        cur.track_peak(e[2])
        i = len(cur.frames) - 1
        events = self._judge(i, "descent")
        hysteresis = max(self.cfg.return_min_deg, self.cfg.return_fraction * (cur.peak - cur.baseline))
        if e[2] <= cur.peak - hysteresis:
            first = next((d for d in cur.frames.drive if finite(d)), cur.peak)
            if cur.pull_first and self.start_at_bottom is None and cur.peak - first > hysteresis:
                # it went clearly deeper after the stream began: a descent under way, not a lift from the bottom
                cur.pull_first, cur.partial_start = False, True
            cur.bottom_i, cur.return_i = bottom_and_return(cur.frames, i + 1, self.cfg, cur.baseline)
            cur.return_min, cur.return_min_i = e[2], i
            self.state = State.RETURN
            hip = cur.frames.values["hip"][cur.bottom_i]
            events.append(
                RepBottom(cur.index, cur.frames.frame[cur.bottom_i], cur.frames.time_s[cur.bottom_i], none_if_nan(hip))
            )
        return events

    def _on_return(self, e: Entry) -> list[Event]:
        cur = self._cur
        assert cur is not None
        i = len(cur.frames) - 1
        events = self._judge(i, "return")
        if e[2] < cur.return_min:
            cur.return_min, cur.return_min_i = e[2], i
        if e[2] <= cur.baseline + self.cfg.end_deg:
            cur.end_cross_i = i
            cur.lockout_until = e[1] + self.cfg.lockout_s
            self.state = State.LOCKOUT
            events += self._judge(i, "lockout")
        elif e[2] >= cur.return_min + self.cfg.rebound_deg:
            depth = cur.peak - cur.baseline
            if cur.return_min - cur.baseline <= 0.5 * depth:
                # touch-and-go: this rep ends at the turn, the next one starts there
                turn = cur.return_min_i
                entries = [self._entry_at(cur.frames, k) for k in range(turn, i + 1)]
                baseline, refs, pull_first = cur.baseline, cur.frames.ref, cur.pull_first
                events += self._close(partial=False, end_i=turn)
                events += self._begin(entries, partial_start=False, baseline=baseline, refs=refs, pull_first=pull_first)
            else:
                self.state = State.DESCENT  # went down again before coming up: same rep
        return events

    def _on_lockout(self, e: Entry) -> list[Event]:
        cur = self._cur
        assert cur is not None
        i = len(cur.frames) - 1
        # the next rep began before the lockout window ended, once the trunk has also left standing forwards: every
        # hinge inclines it, and in a lean back the outline fit's hip (the drive) can jump 15° between frames (a
        # rendered bar body: its lean back was cut off after 0.07 s and never judged)
        if e[2] >= self.baseline + self.cfg.start_deg and cur.frames.rise("trunk", i) >= self.cfg.standing_tol_deg:
            events = self._close(partial=False, end_i=self._end_index(cur))
            self.state = State.STANDING
            return events + self._on_standing(e)
        events = self._judge(i, "lockout")
        # a lean back past standing keeps the lockout open (it is judged there, and it is not standing), up to
        # lockout_max_s after the top was reached
        if self._leaning_back(cur, i) and e[1] < cur.lockout_until - self.cfg.lockout_s + self.cfg.lockout_max_s:
            return events
        if e[1] >= cur.lockout_until:
            if cur.pull_first:  # standing with the load: the rep goes on until it is lowered
                cur.top_i = self._end_index(cur)
                self.state = State.TOP
                return events + self._on_top(e)
            events += self._close(partial=False, end_i=self._end_index(cur))
            self.state = State.STANDING
            if e[2] <= self.baseline + self.cfg.standing_tol_deg:
                self._add_standing(e)
        return events

    def _on_top(self, e: Entry) -> list[Event]:
        """Pull-first rep, standing at the top: feeds the standing reference until the lowering begins."""
        cur = self._cur
        assert cur is not None
        if e[2] >= self.baseline + self.cfg.start_deg:
            i = len(cur.frames) - 1
            near = [
                k
                for k in range(i)
                if finite(cur.frames.drive[k]) and cur.frames.drive[k] <= self.baseline + self.cfg.place_deg
            ]
            cur.lowering_i = near[-1] if near else i
            cur.lower_peak, cur.lower_peak_i = e[2], i
            self.state = State.LOWERING
            return self._judge(i, "lowering")
        if e[2] <= self.baseline + self.cfg.standing_tol_deg:
            self._add_standing(e)
        return []

    def _on_lowering(self, e: Entry) -> list[Event]:
        """Pull-first rep, lowering: ends at the bottom, where the next pull begins (or back at the top)."""
        cur = self._cur
        assert cur is not None
        i = len(cur.frames) - 1
        events = self._judge(i, "lowering")
        if e[2] > cur.lower_peak:
            cur.lower_peak, cur.lower_peak_i = e[2], i
        depth = cur.lower_peak - cur.baseline
        if depth < self.cfg.min_depth_deg:
            if e[2] <= cur.baseline + self.cfg.end_deg:  # a dip, not a lowering: still at the top
                cur.lowering_i = None
                cur.lower_peak = -math.inf
                self.state = State.TOP
            return events
        hysteresis = max(self.cfg.return_min_deg, self.cfg.return_fraction * depth)
        if e[2] <= cur.lower_peak - hysteresis:  # the next pull began: this rep ends at the bottom
            turn = cur.lower_peak_i
            entries = [self._entry_at(cur.frames, k) for k in range(turn, i + 1)]
            baseline, refs = cur.baseline, cur.frames.ref
            events += self._close(partial=False, end_i=turn)
            events += self._begin(entries, partial_start=False, baseline=baseline, refs=refs, pull_first=True)
        return events

    # -- helpers ------------------------------------------------------------------------------------------
    def _lookback_entries(self, base: float) -> list[Entry]:
        """Frames from the last standing frame before the rep (drive within ``place_deg`` of the baseline) to now."""
        entries = [e for e in self._lookback if e[0] > self._last_end_frame]
        start = 0
        for limit in (self.cfg.place_deg, self.cfg.standing_tol_deg, self.cfg.end_deg):
            found = [k for k in range(len(entries) - 1) if finite(entries[k][2]) and entries[k][2] <= base + limit]
            if found:
                start = found[-1]
                break
        return entries[start:]

    @staticmethod
    def _entry_at(frames: RepFrames, k: int) -> Entry:
        return (frames.frame[k], frames.time_s[k], frames.drive[k], {a: frames.values[a][k] for a in ANGLES})

    def _begin(
        self,
        entries: list[Entry],
        partial_start: bool,
        baseline: float | None = None,
        refs: dict[str, float] | None = None,
        pull_first: bool = False,
    ) -> list[Event]:
        frames = RepFrames(ref=refs if refs is not None else self._refs())
        for fr, t, d, a in entries:
            frames.append(fr, t, d, a)
        base = self.baseline if baseline is None else baseline
        # the rep's own frames (from its placed start on) leave the standing reference: the first frames of a
        # descent sit within the standing tolerance, and rep after rep they would ratchet the reference up
        while self._standing and entries and self._standing[-1][0] > entries[0][0]:
            self._standing.pop()
        cur = ActiveRep(
            frames,
            FaultJudge(self.fault_cfg, self.profile, self.back_measure, self.reference_trunk_deg),
            base,
            partial_start,
            pull_first=pull_first,
        )
        for _, _, d, _ in entries:
            if finite(d):
                cur.track_peak(d)
        self._cur = cur
        self.state = State.CANDIDATE
        if pull_first and len(entries) > 1:  # begun at a lowering's bottom: a rep already, its pull under way
            events = self._confirm(partial=False)
            return events + (self._on_descent(self._now) if self._now is not None else [])
        return self._on_candidate(self._now) if self._now is not None else []

    def _confirm(self, partial: bool) -> list[Event]:
        cur = self._cur
        assert cur is not None
        self._n_reps += 1
        cur.index = self._n_reps
        cur.partial_start = partial
        self.state = State.DESCENT
        events: list[Event] = [RepStarted(cur.index, cur.frames.frame[0], cur.frames.time_s[0], partial)]
        for k in range(len(cur.frames)):  # judge what was buffered before the rep was confirmed
            events += self._judge(k, "descent")
        return events

    def _judge(self, i: int, phase: str) -> list[Event]:
        cur = self._cur
        assert cur is not None
        if cur.pull_first and phase == "descent":
            phase = "setup"  # at the bar before the pull: judged for a rounded back and a squat, not for timing
        return [FaultFound(cur.index, f) for f in cur.judge.update(cur.frames, i, phase)]

    def _end_index(self, cur: ActiveRep) -> int:
        """First frame after the end crossing back within ``place_deg`` of standing and not leaning back (a lean
        back past standing belongs to the rep's lockout), else the crossing."""
        assert cur.end_cross_i is not None
        limit = cur.baseline + self.cfg.place_deg
        for k in range(cur.end_cross_i, len(cur.frames)):
            d = cur.frames.drive[k]
            if finite(d) and d <= limit and not self._leaning_back(cur, k):
                return k
        return cur.end_cross_i

    def _leaning_back(self, cur: ActiveRep, k: int) -> bool:
        """The trunk is behind its standing inclination by more than ``standing_lean_tol_deg`` at position k."""
        return cur.frames.rise("trunk", k) <= -self.cfg.standing_lean_tol_deg

    def _close(self, partial: bool, end_i: int | None) -> list[Event]:
        cur = self._cur
        self._cur = None
        if cur is None or cur.index == 0:
            return []
        rep = build_rep(cur.index, cur.frames, end_i, partial or cur.partial_start, cur, self.cfg, self.fault_cfg)
        if end_i is not None:
            self._last_end_frame = cur.frames.frame[end_i]
        self.reps.append(rep)
        return [RepCompleted(rep)]
