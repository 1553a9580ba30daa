"""Reps whose top is out of view: a camera close to a floor deadlift loses the lifter at every lockout.

Close gym clips (YFGD's "bad" set) start bent over at the bar; as the lifter stands up the head and shoulders
leave the top of the picture and the plate covers the hips, so MediaPipe loses the person (or returns a body on
its side, which the measurer discards) for the whole lockout and finds them again bent over on the way down.
No standing posture and no lockout is ever measured, so no angle has a zero and nothing can be judged; but
the lift itself is plain to see and is counted: a bent trunk whose shoulders rise fast towards the picture's top,
an unmeasured stretch, and a bent trunk again after it.

Only used where a shot has no standing reference at all (``Calibration.found`` is False): with one, the rep
tracker counts every rep from the angles.
"""

from __future__ import annotations

import numpy as np

from hingecheck.core.kinematics.calibration import true_runs
from hingecheck.core.settings import RepConfig
from hingecheck.core.types import Rep

SETTLED_L = 0.02  # shoulders within this many trunk lengths of their lowest point are still at the bar


def unseen_stretches(time_s: np.ndarray, measured: np.ndarray, glimpse_s: float) -> list[tuple[int, int]]:
    """Inclusive runs of unmeasured frames, with measured islands shorter than ``glimpse_s`` between two of them
    merged in (a frame or two of the lifter upright at lockout is a glimpse, not the lifter back in view)."""
    gaps = true_runs(~measured)
    merged: list[tuple[int, int]] = []
    for a, b in gaps:
        if merged and time_s[a - 1] - time_s[merged[-1][1] + 1] < glimpse_s:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [(a, b) for a, b in merged if a > 0 and b < len(measured) - 1]  # seen on both sides


def unseen_top_reps(
    index: np.ndarray,
    time_s: np.ndarray,
    trunk_deg: np.ndarray,
    shoulder_y_px: np.ndarray,
    trunk_length_px: np.ndarray,
    cfg: RepConfig,
) -> list[Rep]:
    """The reps of a shot whose lockouts were out of view (see the module notes), each starting at the bottom.

    ``trunk_deg``: the trunk's inclination from the image vertical, NaN where the person was not measured;
    ``shoulder_y_px``: the shoulders' height in the picture (y grows downwards); ``trunk_length_px``: hip to
    shoulder. A rep starts where the shoulders were lowest before the rise (the pull's start, its bottom) and
    ends where the trunk is bent deepest again within ``unseen_top_return_s`` after the unseen stretch.
    """
    t = np.asarray(time_s, float)
    trunk = np.asarray(trunk_deg, float)
    shoulder_y = np.asarray(shoulder_y_px, float)
    length = np.asarray(trunk_length_px, float)
    measured = np.isfinite(trunk) & np.isfinite(shoulder_y) & np.isfinite(length)
    frame_no = np.arange(len(t))

    def pull_before(top: int, since: int, window_s: float) -> int | None:
        """Where the pull that reached ``top`` (the last frame seen before the top) began, if it was a pull: from
        a bent trunk, the shoulders rising towards the picture's top within ``window_s`` before it."""
        before = np.flatnonzero(measured & (t >= t[top] - window_s) & (frame_no >= since) & (frame_no <= top))
        if before.size < 2:
            return None
        # it starts where the shoulders leave their lowest point (the last frame near it: a set-up at the bar can
        # be still for a while)
        lowest = shoulder_y[before].max()
        start = int(before[np.flatnonzero(shoulder_y[before] >= lowest - SETTLED_L * length[before])[-1]])
        rise_l = (shoulder_y[start] - shoulder_y[top]) / length[start]
        return start if rise_l >= cfg.unseen_top_rise_l and trunk[start] >= cfg.unseen_top_bent_deg else None

    def rep(start: int, end: int | None) -> Rep:
        return Rep(
            index=len(reps) + 1,
            start_s=float(t[start]),
            bottom_s=float(t[start]),
            end_s=None if end is None else float(t[end]),
            start_frame=int(index[start]),
            bottom_frame=int(index[start]),
            end_frame=None if end is None else int(index[end]),
            partial=end is None,
            start_position="bottom",
        )

    reps: list[Rep] = []
    last_end = 0
    for a, b in unseen_stretches(t, measured, cfg.unseen_top_glimpse_s):
        if not cfg.unseen_top_min_s <= t[b + 1] - t[a - 1] <= cfg.unseen_top_max_s:
            continue
        after = np.flatnonzero(measured & (t > t[b]) & (t <= t[b + 1] + cfg.unseen_top_return_s))
        start = pull_before(a - 1, last_end, cfg.unseen_top_rise_window_s)
        if start is None or after.size == 0:
            continue
        back_down = int(after[np.argmax(trunk[after])])
        if trunk[back_down] >= cfg.unseen_top_bent_deg:
            reps.append(rep(start, back_down))
            last_end = back_down
    # the clip ends during a pull, before its top: a partial rep (a clip cut short, or a lift from the knees
    # that is filmed only on its way up)
    seen = np.flatnonzero(measured)
    if seen.size and seen[-1] == len(t) - 1:
        start = pull_before(int(seen[-1]), last_end, np.inf)  # the whole pull is in view
        if start is not None and trunk[start] - trunk[seen[-1]] >= cfg.unseen_top_end_rise_deg:
            reps.append(rep(start, None))
    return reps
