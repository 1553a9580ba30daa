"""The live coach on constructed frames: it calibrates on analyze's stand and reads every frame as analyze does.

The sample clips have a clean standing outline; here an arm hides the back while standing (as on turned
views), so the calibration's arm-free pelvis zero is only fixed once the first hinge is under way. The coach
must then re-read the frames it has already tracked, ending with exactly the angles analyze computes.
"""

from __future__ import annotations

import numpy as np
import pytest

from hingecheck.core.coach import LiveCoach
from hingecheck.core.filters import LiveAngleSmoother, OneEuroParams
from hingecheck.core.kinematics import FrameMeasurement, calibrate
from hingecheck.core.settings import Settings
from hingecheck.core.types import (
    LEFT_ANKLE,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    AngleSeries,
    PoseFrame,
)

FPS = 30.0
ARM_BIAS_DEG = 10.0  # the hanging arm makes the standing pelvis outline read this much low


def _side_on_pose(i: int) -> PoseFrame:
    """A whole, side-on body in a 640×480 picture (left and right landmarks overlap, as seen from the side)."""
    px = np.full((33, 2), 320.0)
    heights = {NOSE: 60, LEFT_SHOULDER: 120, RIGHT_SHOULDER: 120, LEFT_HIP: 250, RIGHT_HIP: 250}
    heights |= {LEFT_KNEE: 350, RIGHT_KNEE: 350, LEFT_ANKLE: 440, RIGHT_ANKLE: 440}
    for landmark, y in heights.items():
        px[landmark, 1] = y
    norm = np.column_stack([px / [640, 480], np.zeros(33)])
    return PoseFrame(
        index=i,
        time_s=i / FPS,
        width=640,
        height=480,
        detected=True,
        landmarks_px=px,
        landmarks_norm=norm,
        visibility=np.ones(33),
        presence=np.ones(33),
    )


def _measurement(i: int, tilt_deg: float, arm_share: float, pelvis_bias_deg: float) -> FrameMeasurement:
    """A hip hinge: pelvis and thoracolumbar outline turn with the trunk (no lumbar flexion)."""
    m = FrameMeasurement(i, i / FPS, True, "right", trunk_deg=3.0 + tilt_deg, thigh_deg=0.0, shank_deg=0.0)
    m.pelvis_deg = 20.0 + tilt_deg - pelvis_bias_deg
    m.lumbar_deg = m.thorax_deg = 10.0 + tilt_deg
    m.confidence = 0.8
    m.quality["arm_share"] = arm_share
    return m


def _session() -> list[FrameMeasurement]:
    """1.5 s standing with the arm over the back, two 60° hinges (the arm leaves the outline past 5° of trunk
    tilt), standing between and after."""
    stand = np.zeros(int(1.5 * FPS))
    hinge = np.concatenate(
        [60 * np.sin(np.linspace(0, np.pi / 2, 40)) ** 2, 60 * np.cos(np.linspace(0, np.pi / 2, 40)) ** 2]
    )
    tilts = np.concatenate([stand, hinge, np.zeros(25), hinge, np.zeros(30)])
    return [
        _measurement(i, float(t), arm_share=0.5 if t < 5 else 0.0, pelvis_bias_deg=ARM_BIAS_DEG if t < 5 else 0.0)
        for i, t in enumerate(tilts)
    ]


@pytest.fixture(scope="module")
def coached() -> tuple[LiveCoach, list[FrameMeasurement]]:
    measurements = _session()
    coach = LiveCoach(Settings())
    for m in measurements:
        coach.step(_side_on_pose(m.index), m)
    coach.finish(measurements)
    return coach, measurements


def test_coach_calibrates_on_the_frames_analyze_chooses(coached):
    coach, measurements = coached
    offline = calibrate(measurements)
    live = coach.calibrations[-1]
    assert (live.start_s, live.end_s) == (offline.start_s, offline.end_s)
    assert live.pelvis_deg == pytest.approx(offline.pelvis_deg)


def test_arm_free_zero_is_fixed_in_the_first_hinge_at_the_same_frame_live_and_offline(coached):
    coach, measurements = coached
    offline = calibrate(measurements)
    live = coach.calibrations[-1]
    assert offline.arm_free is not None and offline.arm_free.fixed_at is not None
    assert live.arm_free is not None and live.arm_free.fixed_at == offline.arm_free.fixed_at
    first_hinge_end = int(1.5 * FPS) + 40
    assert offline.arm_free.fixed_at < first_hinge_end  # during the first descent, before any fault is judged
    assert live.pelvis_arm_free_deg == pytest.approx(offline.pelvis_arm_free_deg)
    # the arm's bias (10°) is gone: the pelvis reads the true 60° at the bottom, within the early-share
    # uncertainty (this hinge's pelvis share is 1.0, the estimator assumes 0.7 over ~3-16° of tilt: ≤ 5°)
    bottom = measurements[int(1.5 * FPS) + 39]
    assert offline.angles(bottom).pelvic_tilt_deg == pytest.approx(60.0, abs=5.0)
    assert abs(offline.angles(bottom).pelvic_tilt_deg - 60.0) < ARM_BIAS_DEG / 2


def test_coach_rereads_the_frames_it_tracked_before_the_zero_was_fixed(coached):
    coach, measurements = coached
    offline = calibrate(measurements)
    cfg = Settings().live
    smoother = LiveAngleSmoother(OneEuroParams.from_live(cfg))
    expected = np.array([smoother.filter(offline.angles(m)).pelvic_tilt_deg for m in measurements])
    got = np.array([a.pelvic_tilt_deg for a in coach.angles])
    # every frame, including those tracked with the standing zero before the arm-free one was fixed
    np.testing.assert_allclose(got, expected, atol=1e-9)
    assert len(coach.reps) == 2 and not any(r.partial for r in coach.reps)


def _floor_session() -> list[FrameMeasurement]:
    """A deadlift from the floor: bent over at the bar, two pulls to lockout and back down, ending at the bar."""
    bottom = np.full(int(0.8 * FPS), 60.0)
    pull = 60 * np.cos(np.linspace(0, np.pi / 2, 30)) ** 2
    top = np.zeros(int(0.5 * FPS))
    lower = 60 * np.sin(np.linspace(0, np.pi / 2, 30)) ** 2
    tilts = np.concatenate([bottom, pull, top, lower, np.full(6, 60.0), pull, top, lower, np.full(20, 60.0)])
    return [_measurement(i, float(t), arm_share=0.0, pelvis_bias_deg=0.0) for i, t in enumerate(tilts)]


def test_a_lift_from_the_floor_is_calibrated_on_its_first_lockout_and_replayed():
    """No stand before the lift: live takes the first lockout as the standing reference (as analyze takes the
    lockouts), replays the pull it missed, and counts each pull-and-lower once, as analyze does."""
    from hingecheck.core.movement import analyse_reps

    measurements = _floor_session()
    coach = LiveCoach(Settings())
    for m in measurements:
        coach.step(_side_on_pose(m.index), m)
    coach.finish(measurements)
    live = coach.calibrations[-1]
    assert live.source == "lockouts"
    first_top = 24 + 30  # frames of the set-up and the first pull
    start = next(m.index for m in measurements if m.time_s >= live.start_s)
    assert first_top - 8 <= start <= first_top + 15  # the slow end of the pull counts as the top
    assert [(r.start_position, r.partial) for r in coach.reps] == [("bottom", False), ("bottom", False)]
    offline = calibrate(measurements)
    # live knows only the first top when it calibrates, analyze pools every top: the references agree closely
    assert offline.source == "lockouts" and offline.trunk_deg == pytest.approx(live.trunk_deg, abs=1.5)
    series = AngleSeries.from_frames([offline.angles(m) for m in measurements])
    series_reps = analyse_reps(series, Settings(), start_at_bottom=True, exercise="deadlift")
    assert len(series_reps) == len(coach.reps) == 2
    # as analyze (no_standing_reference): a loaded lockout is no zero for the low back, so no low-back verdict
    assert "spinal_flexion_takeover" in coach.view_support().withheld
    assert "the lift starts at the bottom" in coach.verdicts_withheld["extension_from_low_back"]


@pytest.mark.parametrize("trunk_px, withheld", [(30.0, True), (40.0, False)])
def test_a_back_too_small_in_the_picture_gets_no_low_back_verdict_live(trunk_px: float, withheld: bool):
    """As analyze (person_too_small): with the trunk under [quality] min_trunk_px in the picture, the rep's low-back
    verdicts are withheld, with the reason; at 40 px they are judged."""
    assert trunk_px < Settings().quality.min_trunk_px if withheld else trunk_px > Settings().quality.min_trunk_px
    measurements = _session()
    for m in measurements:
        m.trunk_length_px = trunk_px
    coach = LiveCoach(Settings())
    for m in measurements:
        coach.step(_side_on_pose(m.index), m)
    coach.finish(measurements)
    assert len(coach.reps) == 2
    if withheld:
        assert set(coach.verdicts_withheld) == {"spinal_flexion_takeover", "extension_from_low_back"}
        assert "30 px" in coach.verdicts_withheld["spinal_flexion_takeover"]
    else:
        assert coach.verdicts_withheld == {}
