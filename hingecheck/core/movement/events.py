"""What the rep tracker says (events), its states, and the rep it is tracking."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from hingecheck.core.movement.faults import FaultJudge, RepFrames
from hingecheck.core.types import Fault, Rep


@dataclass(frozen=True)
class RepStarted:
    """Event: a rep began (its descent, or its pull for a rep that starts at the bottom)."""

    rep_index: int
    frame: int
    time_s: float
    partial: bool
    phase: str = "descent"  # what live displays show from now on


@dataclass(frozen=True)
class RepBottom:
    """Event: the rep reached its bottom; the return follows."""

    rep_index: int
    frame: int
    time_s: float
    hip_flexion_deg: float | None
    phase: str = "return"


@dataclass(frozen=True)
class FaultFound:
    """Event: a fault was found mid-rep (live cues it at once)."""

    rep_index: int
    fault: Fault


@dataclass(frozen=True)
class RepCompleted:
    """Event: a rep ended, with its measures and faults."""

    rep: Rep


Event = RepStarted | RepBottom | FaultFound | RepCompleted


class State(Enum):
    """Where the tracker is in a rep."""

    UNKNOWN = "unknown"  # not yet seen standing (clip start, or after a long gap)
    STANDING = "standing"
    CANDIDATE = "candidate"  # left standing, not deep enough yet to count as a rep
    DESCENT = "descent"  # includes the bottom: the return is only known once the drive has dropped
    RETURN = "return"
    LOCKOUT = "lockout"  # back near standing; a short window to judge the lockout and place the end
    TOP = "top"  # pull-first rep: held at the top after its lockout, until the bar is lowered again
    LOWERING = "lowering"  # pull-first rep: lowering the load back to the floor; the rep ends at the bottom


Entry = tuple[int, float, float, dict[str, float]]  # frame, time_s, drive, angles


class ActiveRep:
    """The rep being tracked."""

    def __init__(
        self, frames: RepFrames, judge: FaultJudge, baseline: float, partial_start: bool, pull_first: bool = False
    ) -> None:
        self.frames = frames
        self.judge = judge
        self.baseline = baseline
        self.partial_start = partial_start
        # a pull-first rep starts at the bottom (a deadlift from the floor): pull, lockout, lower; it ends at the
        # bottom after the lowering, where the next pull begins
        self.pull_first = pull_first
        self.lowering_i: int | None = None  # buffer position where the lowering began
        self.top_i: int | None = None  # buffer position where the pull reached standing
        self.lower_peak = -math.inf
        self.lower_peak_i = 0
        self.index = 0  # 0 until confirmed
        self.peak = -math.inf
        self.bottom_i: int | None = None
        self.return_i: int | None = None
        self.return_min = math.inf
        self.return_min_i = 0
        self.end_cross_i: int | None = None
        self.lockout_until = math.inf

    @property
    def start_s(self) -> float:
        """When the rep began (its first buffered frame)."""
        return self.frames.time_s[0]

    def track_peak(self, d: float) -> None:
        """Keep the deepest drive seen so far."""
        self.peak = max(self.peak, d)

    @property
    def faults(self) -> list[Fault]:
        """The faults judged so far (each sustained on frames where it was measured)."""
        return list(self.judge.found.values())


def finite(x: float) -> bool:
    """Whether x is a number and finite (None is not)."""
    return x is not None and math.isfinite(x)


def drive_of(angles: dict[str, float], drive: str = "hip") -> float:
    """Hip flexion drives the segmentation (trunk inclination stands in where the hip is not measured), or the
    trunk inclination alone where the exercise's profile says so (a bar and plates in front of the hips).

    The hip is the outline fit's where the series has it: segmentation is timing, and the learned reading (right
    in level) is flat-topped at the bottom, so its maximum wanders by frames between live and offline smoothing.
    """
    if drive == "trunk":
        return angles["trunk"]
    for name in ("outline_hip", "hip"):
        if finite(angles.get(name, math.nan)):
            return angles[name]
    return angles["trunk"]


class GlitchFilter:
    """Marks frames inside a pose glitch: the hip or trunk moved faster than a body can between two frames."""

    def __init__(self, max_speed_deg_s: float, settle_s: float) -> None:
        self.max_speed_deg_s = max_speed_deg_s
        self.settle_s = settle_s
        self._prev_pose: tuple[float, float, float] | None = None  # (time_s, hip, trunk) of the previous frame
        self._glitch_until = -math.inf  # frames before this time are treated as not measured

    def is_glitch(self, t: float, angles: dict[str, float]) -> bool:
        """Whether the frame at ``t`` lies in a pose glitch: hip or trunk moved faster than a body can, or just did.

        A landmark that jumps to another body part (seen with a low, wide camera) swings the hip reading by
        tens of degrees per frame and back, which would split a rep into short phantom reps. A hinge moves the
        hip and trunk at most ~200°/s (devset and stress ground truth ≤ 190°/s, measured ≤ 300°/s); faster than
        ``max_drive_speed_deg_s`` between consecutive frames is not a movement. Each angle is compared with
        itself (the drive may switch between hip and trunk). Smoothing smears a jump over neighbouring frames,
        so the frames within ``glitch_settle_s`` after the last jump are dropped too; the rep then bridges the
        glitch like any short gap (a longer one cuts it, ``max_gap_s``).
        """
        hip, trunk = angles["hip"], angles["trunk"]
        if not (finite(hip) or finite(trunk)):
            return t < self._glitch_until
        prev, self._prev_pose = self._prev_pose, (t, hip, trunk)
        if prev is not None and 0.0 < t - prev[0] <= 0.1:  # consecutive frames only: a gap hides the path
            limit = self.max_speed_deg_s * (t - prev[0])
            if any(finite(a) and finite(b) and abs(a - b) > limit for a, b in ((hip, prev[1]), (trunk, prev[2]))):
                self._glitch_until = t + self.settle_s
        return t < self._glitch_until
