"""core.movement.unseen_top: lifts whose lockout leaves the picture are counted (never judged).

The series mimic what the measurer gives on a close gym camera (YFGD's close deadlifts: bent 55–63° at the bar,
the shoulders rising ~0.4 trunk lengths in the last second before the lifter is lost, 1–3 s unseen with a
one-frame glimpse of the top, bent again after)."""

from __future__ import annotations

import dataclasses

import numpy as np

from hingecheck.core.movement.unseen_top import unseen_top_reps
from hingecheck.core.settings import RepConfig

FPS = 30.0
LENGTH_PX = 350.0


def close_lift(unseen_s: float = 1.2, rise_l: float = 0.45, bent_after_deg: float = 62.0, reps: int = 1):
    """(index, time, trunk, shoulder y, trunk length) of ``reps`` pulls from the floor with the tops unseen."""
    trunk: list[float] = []
    shoulder: list[float] = []
    for _ in range(reps):
        trunk += [60.0] * 30  # set-up at the bar
        shoulder += [420.0] * 30
        rise = np.linspace(0.0, 1.0, 24)  # 0.8 s pull while in view
        trunk += list(60.0 - 22.0 * rise)
        shoulder += list(420.0 - rise_l * LENGTH_PX * rise)
        n_unseen = int(round(unseen_s * FPS))
        unseen_trunk = [np.nan] * n_unseen
        unseen_trunk[n_unseen // 2] = -3.0  # a glimpse of the lockout, one frame
        trunk += unseen_trunk
        shoulder += [np.nan if np.isnan(v) else 500.0 for v in unseen_trunk]
        lower = np.linspace(0.0, 1.0, 20)
        back_in_view_deg = min(35.0, bent_after_deg)
        trunk += list(back_in_view_deg + (bent_after_deg - back_in_view_deg) * lower)
        shoulder += list(250.0 + 170.0 * lower)
    n = len(trunk)
    length = np.where(np.isfinite(trunk), LENGTH_PX, np.nan)
    return np.arange(n), np.arange(n) / FPS, np.array(trunk), np.array(shoulder), length


def test_a_pull_from_the_floor_whose_lockout_leaves_the_picture_is_one_rep_from_the_bar_back_to_the_bar():
    index, t, trunk, shoulder, length = close_lift()
    reps = unseen_top_reps(index, t, trunk, shoulder, length, RepConfig())
    assert len(reps) == 1
    rep = reps[0]
    assert rep.start_position == "bottom" and not rep.partial
    assert 0.95 <= rep.start_s <= 1.05  # the last frame at the bar before the pull (1.0 s)
    assert rep.end_frame == len(t) - 1  # bent deepest again: back at the bar
    assert rep.peak_hip_flexion_deg is None and rep.faults == []  # no reference: nothing measured, nothing judged


def test_each_pull_of_a_set_is_its_own_rep():
    reps = unseen_top_reps(*close_lift(reps=3), RepConfig())
    assert len(reps) == 3
    assert all(a.end_frame is not None and a.end_frame <= b.start_frame for a, b in zip(reps, reps[1:], strict=False))


def test_no_rep_without_a_pull_towards_the_top_a_long_enough_absence_or_a_return_to_the_bar():
    cfg = RepConfig()
    assert unseen_top_reps(*close_lift(rise_l=0.1), cfg) == []  # lost while barely moving: not a lift
    assert unseen_top_reps(*close_lift(unseen_s=0.2), cfg) == []  # a missed frame or two
    assert unseen_top_reps(*close_lift(unseen_s=8.0), cfg) == []  # gone for long: walked off
    assert unseen_top_reps(*close_lift(bent_after_deg=10.0), cfg) == []  # came back upright, not at the bar


def test_the_thresholds_decide():
    lift = close_lift(rise_l=0.3, unseen_s=1.0)
    assert len(unseen_top_reps(*lift, RepConfig())) == 1
    assert unseen_top_reps(*lift, dataclasses.replace(RepConfig(), unseen_top_rise_l=0.35)) == []
    assert unseen_top_reps(*lift, dataclasses.replace(RepConfig(), unseen_top_min_s=1.2)) == []
    assert unseen_top_reps(*lift, dataclasses.replace(RepConfig(), unseen_top_bent_deg=65.0)) == []


def test_a_clip_that_ends_on_the_way_up_from_bent_over_is_one_partial_rep():
    n = 54  # PoseReader's RDL from the knees: 1.8 s, trunk 77° → 45°, the clip ends before the top
    rise = np.linspace(0.0, 1.0, n - 10)
    trunk = np.concatenate([np.full(10, 77.0), 77.0 - 32.0 * rise])
    shoulder = np.concatenate([np.full(10, 400.0), 400.0 - 0.5 * LENGTH_PX * rise])
    index, t = np.arange(n), np.arange(n) / FPS
    reps = unseen_top_reps(index, t, trunk, shoulder, np.full(n, LENGTH_PX), RepConfig())
    assert len(reps) == 1 and reps[0].partial and reps[0].end_frame is None
    assert 9 <= reps[0].start_frame <= 11  # the pull began at the end of the still set-up
    # the shoulders rising while the trunk tips further over is no pull
    assert unseen_top_reps(index, t, 45.0 + (77.0 - trunk), shoulder, np.full(n, LENGTH_PX), RepConfig()) == []
    shallow = dataclasses.replace(RepConfig(), unseen_top_end_rise_deg=35.0)
    assert unseen_top_reps(index, t, trunk, shoulder, np.full(n, LENGTH_PX), shallow) == []
