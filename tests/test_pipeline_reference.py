"""pipeline.shots: a lockout reference is no zero for the low back of a lift from the floor, and reps counted
with no reference at all are never judged."""

from __future__ import annotations

import math

import numpy as np

from hingecheck.core.kinematics import Calibration
from hingecheck.core.movement.faults import FAULT_CODES
from hingecheck.core.quality import LUMBAR_CODES, ShotQuality
from hingecheck.core.settings import QualityConfig
from hingecheck.core.types import AngleSeries, Rep
from hingecheck.pipeline.shots import Shot, leaned_reference, tops_out_of_view


def shot(source: str, trunk_deg: float, start_position: str) -> Shot:
    nan = math.nan
    calibration = Calibration(0.0, 1.0, trunk_deg, 0.0, 0.0, 0.0, 0.0, nan, True, source=source, n_lockouts=1)
    rep = Rep(1, 0.0, 0.5, 3.0, 0, 15, 90, start_position=start_position)
    series = AngleSeries.empty(np.arange(3), np.arange(3) / 30)
    return Shot(0, 3, calibration, series, [rep], quality=ShotQuality())


def test_a_floor_lift_with_only_lockouts_keeps_no_low_back_verdicts_unless_the_range_is_known():
    floor = shot("lockouts", 2.0, "bottom")
    leaned_reference(floor, QualityConfig())
    assert set(floor.quality.support.withheld) == set(LUMBAR_CODES)
    assert [w.code for w in floor.quality.warnings] == ["no_standing_reference"]
    with_range = shot("lockouts", 2.0, "bottom")
    leaned_reference(with_range, QualityConfig(), own_range=True)
    assert with_range.quality.support.withheld == {}


def test_a_stand_or_an_upright_lockout_of_a_lift_from_standing_is_a_zero_and_a_leaned_one_is_not():
    for ok in (shot("stand", 2.0, "standing"), shot("lockouts", 2.0, "standing")):
        leaned_reference(ok, QualityConfig())
        assert ok.quality.support.withheld == {} and ok.quality.warnings == []
    leaned = shot("lockouts", -25.0, "standing")
    leaned_reference(leaned, QualityConfig())
    assert set(leaned.quality.support.withheld) == set(LUMBAR_CODES)
    assert [w.code for w in leaned.quality.warnings] == ["reference_leans_back"]


def test_reps_counted_without_any_reference_keep_no_verdict_and_say_why():
    nan = math.nan
    none = Calibration(nan, nan, nan, nan, nan, nan, nan, nan, True, source="none")
    rep = Rep(1, 0.0, 0.0, 3.0, 0, 0, 90, start_position="bottom")
    counted = Shot(0, 3, none, AngleSeries.empty(np.arange(3), np.arange(3) / 30), [rep], quality=ShotQuality())
    tops_out_of_view(counted)
    assert set(counted.quality.support.withheld) == set(FAULT_CODES)
    assert [w.code for w in counted.quality.warnings] == ["lockout_out_of_view"]
    for judged in (shot("lockouts", 2.0, "bottom"), shot("stand", 2.0, "standing")):
        tops_out_of_view(judged)
        assert judged.quality.support.withheld == {} and judged.quality.warnings == []
