"""Which lift it is: given by the user, or detected from the start posture, the hands and the knee bend.

Detection reads what analyse_reps found with the generic profile: a lift that starts at the bottom (its first
rep is pull-first, or the standing reference came from lockouts) is a deadlift from the floor; hands at the
shoulders at the bottom of most reps make a good morning; otherwise the knee flexion at the bottom (median over
the reps) tells a kettlebell-style deadlift (bent knees) from a Romanian deadlift (soft knees). The thresholds
and their sources are the ``[exercise]`` section of the settings schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from hingecheck.core.settings import EXERCISES, ExerciseConfig
from hingecheck.core.types import (
    LEFT_HIP,
    LEFT_SHOULDER,
    LEFT_WRIST,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    RIGHT_WRIST,
    AngleSeries,
    PoseFrame,
    Rep,
)


@dataclass(frozen=True)
class ExerciseChoice:
    """The exercise analysed, whether it was detected (or given), and why, in one plain sentence."""

    name: str
    detected: bool
    reason: str

    def to_dict(self) -> dict[str, object]:
        """summary.json's ``exercise`` object."""
        return asdict(self)


def knee_at_bottom_deg(reps: Sequence[Rep], series: AngleSeries) -> float | None:
    """Median over the complete reps of the knee flexion around each bottom (±3 frames); None without reps."""
    values = []
    for rep in reps:
        if rep.partial:
            continue
        lo = max(0, rep.bottom_frame - 3 - int(series.index[0]))
        window = series.knee_flexion_deg[lo : lo + 7]
        if np.isfinite(window).any():
            values.append(float(np.nanmedian(window)))
    return float(np.median(values)) if values else None


def hands_at_shoulders_share(reps: Sequence[Rep], poses: Sequence[PoseFrame], max_frac: float) -> float | None:
    """Share of the reps whose bottom has the wrists within ``max_frac`` trunk lengths of the shoulders."""
    by_index = {p.index: p for p in poses}
    near = []
    for rep in reps:
        pose = by_index.get(rep.bottom_frame)
        if pose is None or not pose.detected or pose.landmarks_px is None:
            continue
        lm = pose.landmarks_px
        shoulder = (lm[LEFT_SHOULDER] + lm[RIGHT_SHOULDER]) / 2
        hip = (lm[LEFT_HIP] + lm[RIGHT_HIP]) / 2
        wrist = (lm[LEFT_WRIST] + lm[RIGHT_WRIST]) / 2
        trunk = float(np.linalg.norm(shoulder - hip))
        if trunk > 1e-6:
            near.append(float(np.linalg.norm(wrist - shoulder)) / trunk <= max_frac)
    return float(np.mean(near)) if near else None


def choose_exercise(
    wanted: str,
    reps: Sequence[Rep],
    series: AngleSeries,
    poses: Sequence[PoseFrame],
    starts_at_bottom: bool,
    cfg: ExerciseConfig,
) -> ExerciseChoice:
    """The given exercise, or (``wanted == "auto"``) the one detected from the reps found with the generic one."""
    if wanted != "auto":
        if wanted not in EXERCISES:
            raise ValueError(f"unknown exercise {wanted!r}")
        return ExerciseChoice(wanted, False, "given")
    if starts_at_bottom or any(r.start_position == "bottom" for r in reps):
        return ExerciseChoice("deadlift", True, "the lift starts at the bottom: a deadlift from the floor")
    if not [r for r in reps if not r.partial]:
        return ExerciseChoice("hinge", True, "no complete rep to tell the lift from")
    hands = hands_at_shoulders_share(reps, poses, cfg.hands_at_shoulders_frac)
    if hands is not None and hands > 0.5:
        return ExerciseChoice("good_morning", True, "the hands stay at the shoulders: a good morning")
    knee = knee_at_bottom_deg(reps, series)
    if knee is not None and knee >= cfg.kb_knee_min_deg:
        return ExerciseChoice("kb_deadlift", True, f"the knees bend {knee:.0f}° at the bottom: a kettlebell deadlift")
    bend = "" if knee is None else f" (knees {knee:.0f}° at the bottom)"
    return ExerciseChoice("rdl", True, f"soft knees and the hips going back: a Romanian deadlift{bend}")
