"""The fault rules, one small class each: when a rep's frame shows the fault, where it is placed, its numbers.

``FaultJudge`` (faults.py) runs every rule on every frame of the phases it applies to and turns a condition
that holds for ``sustain_s`` into a fault. Thresholds and their sources: ``[faults]`` in the settings schema.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from hingecheck.core.settings import ExerciseProfile, FaultConfig

if TYPE_CHECKING:
    from hingecheck.core.movement.faults import FaultJudge, RepFrames

NAN = float("nan")


class Rule(ABC):
    """A fault rule: ``holds`` says whether frame ``i`` shows the fault (None: cannot tell on this frame)."""

    code = ""
    phases: frozenset[str] = frozenset()

    def __init__(self, cfg: FaultConfig) -> None:
        self.cfg = cfg

    @abstractmethod
    def holds(self, judge: FaultJudge, frames: RepFrames, i: int) -> bool | None:
        """Whether the fault's condition holds at buffer position ``i`` (None when it cannot be judged)."""

    def place(self, judge: FaultJudge, frames: RepFrames, at: int) -> int:
        """Where the fault is placed once sustained (default: the first frame of the run)."""
        return at

    def details(self, judge: FaultJudge, frames: RepFrames, at: int) -> dict[str, float | None]:
        """The numbers reported with the fault."""
        return {}


class SpinalFlexionTakeover(Rule):
    """The back rounds past tolerance and carries a large share of the motion.

    Judged on the outline's lumbar window (``measure="lumbar"``), or, where the outline is clothing rather than
    the back (a hoodie's fabric shapes the lumbar window), on the whole back: the hip→shoulder line's inclination
    minus the outline's pelvic tilt (``measure="spine"``), with its own, larger tolerance (it holds the thoracic
    flexion too). Also judged in the return (a stalled, noisy hip can look like a return while the back still
    rounds) and at the bar before a pull (the set-up). Averaged like the onset rule, so one noisy frame neither
    makes nor breaks the run.
    """

    code = "spinal_flexion_takeover"
    phases = frozenset({"descent", "setup", "return"})

    def __init__(self, cfg: FaultConfig, measure: str = "lumbar") -> None:
        super().__init__(cfg)
        self.measure = measure
        self.tolerance = cfg.lumbar_tolerance_deg if measure == "lumbar" else cfg.spine_tolerance_deg

    def back(self, judge: FaultJudge, frames: RepFrames, i: int) -> float:
        """The back's flexion at ``i`` (averaged within-rep change) by this rule's measure."""
        if self.measure == "lumbar":
            return judge.avg(frames, "lumbar", i)
        return judge.avg(frames, "trunk", i) - judge.avg(frames, "pelvic", i)

    def holds(self, judge: FaultJudge, frames: RepFrames, i: int) -> bool | None:
        """Lumbar flexion (averaged) past tolerance and at least the minimum share of the motion."""
        cfg = self.cfg
        back = self.back(judge, frames, i)
        if not (
            math.isfinite(frames.rise("lumbar" if self.measure == "lumbar" else "trunk", i)) and math.isfinite(back)
        ):
            return None
        pel_avg, trunk_avg = judge.avg(frames, "pelvic", i), judge.avg(frames, "trunk", i)
        total = back + pel_avg if math.isfinite(pel_avg) else trunk_avg
        share = back / total if math.isfinite(total) and total >= cfg.share_min_motion_deg else NAN
        return back >= self.tolerance and share >= cfg.min_lumbar_share

    def place(self, judge: FaultJudge, frames: RepFrames, at: int) -> int:
        """Where the (averaged) back flexion last rose past tolerance before ``at``: the takeover's time.

        The rule also needs the share, which can creep past its threshold long after the back passed tolerance
        (hip and back rising together): its crossing moves by tens of frames with a degree of noise, whereas the
        back passing tolerance on its way up is well defined.
        """
        k = at
        while k > 0:
            prev = self.back(judge, frames, k - 1)
            if math.isfinite(prev) and prev < self.tolerance:
                break
            k -= 1
        return k

    def details(self, judge: FaultJudge, frames: RepFrames, at: int) -> dict[str, float | None]:
        """The numbers of the fault at ``at``: lumbar flexion from standing."""
        if self.measure == "lumbar":
            return {"lumbar_deg": frames.rise("lumbar", at)}
        return {"spine_deg": frames.rise("trunk", at) - frames.rise("pelvic", at)}


class KneeDominant(Rule):
    """The hinge became a squat, by the exercise's own rule (its profile): the knees bend far and about as much
    as the hips (knee_ratio: RDL, good morning, hinge), or deep with the chest upright (chest_up: kettlebell and
    conventional deadlifts, whose normal knee bend would pass the first rule).

    knee_ratio is judged frame by frame on the way down. chest_up is judged at the bottom, once the rep has
    turned: a lifter who walks up to the bar bends the knees 90°+ with the chest still up on the way down to it
    and only then tips the trunk 45–60° forward (PoseReader: knees 91° at a 36° trunk, 47° at the bar); a squatted
    deadlift keeps the chest up at the bottom too.
    """

    code = "knee_dominant"

    def __init__(self, cfg: FaultConfig, profile: ExerciseProfile) -> None:
        super().__init__(cfg)
        self.profile = profile
        self.at_bottom = profile.squat_rule == "chest_up"
        self.phases = frozenset({"return"} if self.at_bottom else {"descent", "setup"})

    @staticmethod
    def _bottom(judge: FaultJudge, frames: RepFrames, i: int) -> int | None:
        """The frame of the most forward (averaged) trunk up to ``i``: the bottom of a squat or of a lift."""
        return judge.peak(frames, "trunk", 0, i)[0]

    def holds(self, judge: FaultJudge, frames: RepFrames, i: int) -> bool | None:
        """Knees bent past the profile's minimum and, by its squat rule, as much as the hips or with the chest up."""
        if self.at_bottom:
            bottom = self._bottom(judge, frames, i)
            if bottom is None:
                return None
            knee = judge.peak(frames, "knee", 0, i)[1]
            trunk = judge.avg(frames, "trunk", bottom)
            if not math.isfinite(knee):
                return None
            return knee >= self.profile.knee_min_deg and trunk <= self.profile.trunk_max_deg
        knee = frames.rise("knee", i)
        other = frames.rise("hip", i)
        if not (math.isfinite(knee) and math.isfinite(other)):
            return None
        return knee >= self.profile.knee_min_deg and knee >= self.profile.knee_hip_ratio * other

    def place(self, judge: FaultJudge, frames: RepFrames, at: int) -> int:
        """knee_ratio: where it began to hold; chest_up: the bottom."""
        return (self._bottom(judge, frames, at) or at) if self.at_bottom else at

    def details(self, judge: FaultJudge, frames: RepFrames, at: int) -> dict[str, float | None]:
        """The numbers of the fault at ``at``: knee and hip flexion, trunk inclination."""
        return {
            "knee_flexion_deg": frames.rise("knee", at),
            "hip_flexion_deg": frames.rise("hip", at),
            "trunk_inclination_deg": frames.rise("trunk", at),
        }


class ExtensionFromLowBack(Rule):
    """Near the bottom the lumbar extends while the hips have not moved yet: the low back started the return.

    Read two ways, either of which raises it: on the outline fit's angles since the bottom (below), or on the
    learned reading's changes over its short window (lumbar_change_deg / hip_change_deg; lagged.py), which see the
    motion the outline fit shares between pelvis and low back on some bodies.

    Who moved first is judged where the lumbar has extended clearly: the hips may have moved a little plus a
    share of the lumbar's extension, because a silhouette's pelvis reading follows the lumbar (measured 0.3–0.8°
    per degree on the devset), whereas a hip-led return has moved the hips well over a degree per lumbar degree
    by then (the lumbar starts 0.1–0.25 s after the hips). Only the early return counts (the hips have done less
    than return_onset_fraction of their depth): later in a stoop's return both extend. In a lift from the floor
    the set-up at the bar (flattening the back, chest up, before the hips drive) is not judged: the rule starts
    with the pull.
    """

    code = "extension_from_low_back"
    phases = frozenset({"descent", "setup", "return"})

    def __init__(self, cfg: FaultConfig) -> None:
        super().__init__(cfg)
        self.hip_max = -math.inf  # running hip maximum (averaged)
        self.zone_start = 0  # first frame of the bottom zone: within bottom_zone_deg of the hip maximum
        self.lumbar_zone_max = -math.inf
        self.learned_zone_max = -math.inf  # the learned lumbar's bottom-zone maximum (the confirmation)
        self.learned_hip_max = -math.inf  # the learned hip's running maximum (the changes' early window)
        self._last: dict[str, float] = {}

    def holds(self, judge: FaultJudge, frames: RepFrames, i: int) -> bool | None:
        """Early in the return the lumbar has extended clearly while the hips have barely moved."""
        cfg = self.cfg
        # who moved first is read on the outline fit where the series has it: the learned reading gets the level
        # right but flattens fast changes (a 15° arch at the start of a return read as 4°; low-back returns found
        # on 11 of 20 unseen rendered bodies with it, 17 of 20 with the outline fit)
        hip, lumbar = ("outline_hip", "outline_lumbar") if math.isfinite(frames.values["outline_hip"][i]) else (
            "hip", "lumbar")  # fmt: skip
        hip_i, lum_i = judge.avg(frames, hip, i), judge.avg(frames, lumbar, i)
        if not math.isfinite(hip_i):
            return None
        if hip_i > self.hip_max:
            self.hip_max = hip_i
            j = self.zone_start
            while j < i and not (judge.avg(frames, hip, j) >= self.hip_max - cfg.bottom_zone_deg):
                j += 1
            if j != self.zone_start:
                self.zone_start = j
                self.lumbar_zone_max = judge.peak(frames, lumbar, j, i)[1]
                self.learned_zone_max = judge.peak(frames, "lumbar", j, i)[1]
        if not math.isfinite(lum_i):
            return None
        self.lumbar_zone_max = max(self.lumbar_zone_max, lum_i)
        extension = self.lumbar_zone_max - lum_i
        confirmed = True
        if lumbar != "lumbar":  # timing from the outline fit: the learned reading must agree the back extended
            learned_i = judge.avg(frames, "lumbar", i)
            if math.isfinite(learned_i):
                self.learned_zone_max = max(self.learned_zone_max, learned_i)
                confirmed = self.learned_zone_max - learned_i >= cfg.return_confirm_deg
        hip_extension = self.hip_max - hip_i
        self._last = {"lumbar_extension_deg": extension, "hip_extension_deg": hip_extension}
        if judge.phase == "setup" and hip_extension < cfg.return_hip_still_deg:
            # at the bar before the hips drive: setting the back is the set-up, not the return; the low back's
            # reference is where it is when the pull begins
            self.lumbar_zone_max = lum_i
            return False
        hip_allowed = cfg.return_hip_still_deg + cfg.return_hip_per_lumbar * extension
        early = hip_extension < cfg.return_onset_fraction * max(self.hip_max, cfg.return_hip_still_deg)
        outline_led = extension >= cfg.return_lumbar_extension_deg and hip_extension < hip_allowed and confirmed
        learned_hip = judge.avg(frames, "hip", i)
        if math.isfinite(learned_hip):  # tracked on every judged frame, whichever reading raises the fault
            self.learned_hip_max = max(self.learned_hip_max, learned_hip)
        return (early and outline_led) or self._change_led(judge, frames, i, learned_hip)

    def _change_led(self, judge: FaultJudge, frames: RepFrames, i: int, learned_hip: float) -> bool:
        """Early in the return as the learned hip reads it, the learned changes over their window: the lumbar
        extended clearly, the hip much less. (The outline fit's hip follows a low-back arch, so its own early
        window can close before the arch shows in the changes.)"""
        cfg = self.cfg
        early = self.learned_hip_max - learned_hip < cfg.return_change_onset_fraction * max(
            self.learned_hip_max, cfg.return_hip_still_deg
        )  # fmt: skip
        if not early:
            return False
        lumbar = -judge.avg(frames, "lumbar_change", i)
        hip = -judge.avg(frames, "hip_change", i)
        if not (math.isfinite(lumbar) and math.isfinite(hip)):
            return False
        hip_allowed = cfg.return_change_hip_still_deg + cfg.return_change_hip_per_lumbar * lumbar
        return lumbar >= cfg.return_change_lumbar_deg and hip < hip_allowed

    def details(self, judge: FaultJudge, frames: RepFrames, at: int) -> dict[str, float | None]:
        """The numbers of the fault at ``at``: low-back and hip extension since the bottom."""
        return dict(self._last)


class LockoutHyperextension(Rule):
    """Leaning back past standing at the top, judged on the trunk line (landmarks).

    The outline's lumbar reading alone never raises it: at the top it scatters 3–10° (SD) between reps in loose
    clothing while the trunk scatters ≤ 3° (TBY66), and 8 of 9 alarms on a correct real set came from it. An arched
    low back counts once the trunk also leans back ``lockout_arch_lean_deg``: a lean that arches the back.
    """

    code = "lockout_hyperextension"
    phases = frozenset({"lockout"})

    def __init__(self, cfg: FaultConfig, reference_trunk_deg: float | None = None) -> None:
        super().__init__(cfg)
        self.reference_trunk_deg = reference_trunk_deg

    def holds(self, judge: FaultJudge, frames: RepFrames, i: int) -> bool | None:
        """At the top the trunk leans back past its limit, or leans back a little with the low back arched; and,
        where the reference's own inclination is known, the trunk is behind the picture's vertical: a person who
        stood hunched to calibrate (head down behind the bar: 13–19° forward) leans back past that stance at an
        upright lockout, which is no lean back."""
        trunk, lum = frames.rise("trunk", i), frames.rise("lumbar", i)
        if not math.isfinite(trunk):
            return None
        if self.reference_trunk_deg is not None:
            absolute = self.reference_trunk_deg + float(frames.values["trunk"][i])
            if math.isfinite(absolute) and absolute > -self.cfg.lockout_behind_vertical_deg:
                return False
        lean = trunk <= -self.cfg.lockout_lean_back_deg
        arch = trunk <= -self.cfg.lockout_arch_lean_deg and math.isfinite(lum)
        return lean or (arch and lum <= -self.cfg.lockout_lumbar_extension_deg)

    def details(self, judge: FaultJudge, frames: RepFrames, at: int) -> dict[str, float | None]:
        """The numbers of the fault: lean back and low-back extension where the trunk leaned back furthest in the
        run that raised it (from ``at`` to now). At the run's first frame the lean has only just begun (7° of a
        10° lean on a rendered body), and where the outline cannot be trusted the lean alone decides whether the
        fault is reported (quality.VerdictSupport.keeps)."""
        trunk = frames.array("trunk")[at:]
        deepest = at + int(np.nanargmin(trunk)) if np.isfinite(trunk).any() else at
        return {
            "lean_back_deg": -frames.rise("trunk", deepest),
            "lumbar_extension_deg": -frames.rise("lumbar", deepest),
        }


def make_rules(
    cfg: FaultConfig, profile: ExerciseProfile, back_measure: str = "lumbar", reference_trunk_deg: float | None = None
) -> list[Rule]:
    """Fresh rule instances for one rep (some keep running state); ``back_measure``: lumbar or spine;
    ``reference_trunk_deg``: the standing reference's trunk from the picture's vertical (None: not known)."""
    return [
        SpinalFlexionTakeover(cfg, back_measure),
        KneeDominant(cfg, profile),
        ExtensionFromLowBack(cfg),
        LockoutHyperextension(cfg, reference_trunk_deg),
    ]
