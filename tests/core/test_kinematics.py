"""Angle maths of the hip/lumbar split on constructed silhouettes with a known pelvis and lumbar geometry."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hingecheck.core.kinematics import SagittalMeasurer, assess_view, calibrate
from hingecheck.core.kinematics.contour import fit_line, march_to_edge
from hingecheck.core.kinematics.sagittal import FrameMeasurement, facing_vote
from hingecheck.core.types import (
    LEFT_ANKLE,
    LEFT_EAR,
    LEFT_ELBOW,
    LEFT_FOOT_INDEX,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    LEFT_WRIST,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_EAR,
    RIGHT_ELBOW,
    RIGHT_FOOT_INDEX,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    RIGHT_WRIST,
    PoseFrame,
)

W, H = 480, 480
L = 120.0  # trunk length in pixels
HALF_DEPTH = 0.3 * L  # trunk half-thickness: the back edge lies this far behind the spine line
PELVIS_TOP = 0.3 * L  # the "lumbar joint": above it the back bends by the lumbar angle


def _rot(deg: float) -> np.ndarray:
    """Rotation that tilts an upward vector forward (towards +x, the front of a subject facing right)."""
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def make_pose(
    pelvis_deg: float = 0.0,
    lumbar_deg: float = 0.0,
    facing: str = "right",
    index: int = 0,
    arm_on_back: bool = False,
    shoulder_gap_px: float = 0.0,
) -> PoseFrame:
    """A side-view silhouette: legs straight down, a pelvis block tilted by pelvis_deg about the hip, and an
    upper trunk bent a further lumbar_deg at PELVIS_TOP. Subject faces +x (right); mirrored for "left"."""
    hip = np.array([W / 2, 300.0])
    up = np.array([0.0, -1.0])
    back = np.array([-1.0, 0.0])
    rp = _rot(pelvis_deg)
    ru = _rot(pelvis_deg + lumbar_deg)
    joint = hip + rp @ up * PELVIS_TOP
    shoulder = joint + ru @ up * (L - PELVIS_TOP)
    # outline: back edge from low pelvis to the top of the trunk, then the front edge back down
    back_pts = [hip + rp @ (up * s + back * HALF_DEPTH) for s in (-0.4 * L, 0.0, PELVIS_TOP)]
    back_pts += [joint + ru @ (up * s + back * HALF_DEPTH) for s in (0.0, L - PELVIS_TOP + 0.2 * L)]
    front_pts = [joint + ru @ (up * s - back * HALF_DEPTH) for s in (L - PELVIS_TOP + 0.2 * L, 0.0)]
    front_pts += [hip + rp @ (up * s - back * HALF_DEPTH) for s in (PELVIS_TOP, -0.4 * L)]
    trunk = np.array(back_pts + front_pts)
    knee = hip + np.array([0.0, 0.6 * L])
    ankle = knee + np.array([0.0, 0.6 * L])
    leg = np.array([hip + [-0.25 * L, 0], hip + [0.25 * L, 0], ankle + [0.2 * L, 0], ankle + [-0.2 * L, 0]])
    mask = np.zeros((H, W), np.uint8)
    cv2.fillPoly(mask, [np.round(trunk * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    cv2.fillPoly(mask, [np.round(leg * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 1.0)

    px = np.tile(hip, (33, 1))
    px[[LEFT_HIP, RIGHT_HIP]] = hip
    px[LEFT_SHOULDER] = shoulder + [shoulder_gap_px / 2, 0]
    px[RIGHT_SHOULDER] = shoulder - [shoulder_gap_px / 2, 0]
    px[[LEFT_KNEE, RIGHT_KNEE]] = knee
    px[[LEFT_ANKLE, RIGHT_ANKLE]] = ankle
    px[[LEFT_HEEL, RIGHT_HEEL]] = ankle + [-0.1 * L, 0.05 * L]
    px[[LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX]] = ankle + [0.2 * L, 0.05 * L]
    head = shoulder + ru @ up * 0.3 * L
    px[[LEFT_EAR, RIGHT_EAR]] = head
    px[NOSE] = head + ru @ (-back) * 0.1 * L
    elbow = shoulder + np.array([0.0, 0.5 * L])
    wrist = elbow + np.array([0.0, 0.5 * L])
    if arm_on_back:  # the arm hangs along the back edge, as when the camera sees the subject's front
        elbow = hip + up * 0.55 * L + back * (HALF_DEPTH - 0.05 * L)
        wrist = hip + up * -0.1 * L + back * (HALF_DEPTH - 0.05 * L)
    px[[LEFT_ELBOW, RIGHT_ELBOW]] = elbow
    px[[LEFT_WRIST, RIGHT_WRIST]] = wrist
    if facing == "left":
        px = px.copy()
        px[:, 0] = W - 1 - px[:, 0]
        soft = soft[:, ::-1].copy()
    return PoseFrame(
        index=index,
        time_s=index / 30.0,
        width=W,
        height=H,
        detected=True,
        landmarks_px=px,
        visibility=np.ones(33),
        mask=soft,
        n_people=1,
    )


def _standing_then(poses_after: list[PoseFrame], facing: str = "right") -> list[FrameMeasurement]:
    measurer = SagittalMeasurer()
    stand = [make_pose(facing=facing, index=i) for i in range(30)]
    out = [measurer.measure(p) for p in stand]
    for k, p in enumerate(poses_after):
        p.index, p.time_s = 30 + k, (30 + k) / 30.0
        out.append(measurer.measure(p))
    return out


# --- contour primitives --------------------------------------------------------------------------------------


def test_march_finds_sub_pixel_edge_of_soft_mask():
    x = np.arange(40, dtype=float)
    mask = np.tile(np.clip((10.3 - x) / 4 + 0.5, 0.0, 1.0), (5, 1)).astype(np.float32)  # soft edge, 0.5 at 10.3
    dist = march_to_edge(mask, np.array([[2.0, 2.0]]), np.array([1.0, 0.0]), 30.0, step_px=0.5)
    assert dist[0] + 2.0 == pytest.approx(10.3, abs=0.05)


def test_march_is_nan_when_starting_outside_or_no_edge():
    mask = np.zeros((10, 10), np.float32)
    assert np.isnan(march_to_edge(mask, np.array([[5.0, 5.0]]), np.array([1.0, 0.0]), 4.0))[0]
    full = np.ones((10, 10), np.float32)
    assert np.isnan(march_to_edge(full, np.array([[1.0, 5.0]]), np.array([1.0, 0.0]), 3.0))[0]


def test_fit_line_direction_and_residual():
    t = np.linspace(0, 10, 20)
    pts = np.c_[3 + 0.5 * t, 7 - t]
    fit = fit_line(pts, np.array([0.0, -1.0]))
    assert fit is not None
    assert fit.direction @ np.array([0.0, -1.0]) > 0
    assert abs(fit.direction[0] / -fit.direction[1] - 0.5) < 1e-9  # 0.5 px right per px up
    assert fit.rms_residual_px < 1e-9


# --- the split -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("facing", ["right", "left"])
def test_rigid_trunk_rotation_reads_as_pelvis_and_hip_not_lumbar(facing):
    ms = _standing_then([make_pose(pelvis_deg=40.0, facing=facing)], facing)
    cal = calibrate(ms)
    assert cal.found and cal.split_found
    a = cal.angles(ms[-1])
    assert a.pelvic_tilt_deg == pytest.approx(40.0, abs=2.0)
    assert a.hip_flexion_deg == pytest.approx(40.0, abs=2.0)  # thigh did not move
    assert a.lumbar_flexion_deg == pytest.approx(0.0, abs=2.0)
    assert a.trunk_inclination_deg == pytest.approx(40.0, abs=1.0)
    assert a.confidence > 0.5


@pytest.mark.parametrize("facing", ["right", "left"])
def test_lumbar_bend_reads_as_lumbar_not_hip(facing):
    ms = _standing_then([make_pose(pelvis_deg=10.0, lumbar_deg=30.0, facing=facing)], facing)
    a = calibrate(ms).angles(ms[-1])
    assert a.lumbar_flexion_deg == pytest.approx(30.0, abs=3.0)
    assert a.pelvic_tilt_deg == pytest.approx(10.0, abs=2.5)
    assert a.hip_flexion_deg == pytest.approx(10.0, abs=2.5)
    # the landmark-only "hip" (trunk + thigh) would have said ~35°: the split is what tells them apart
    assert a.trunk_inclination_deg > 25.0


def test_pelvis_window_follows_the_pelvis_not_the_trunk_axis():
    """With a strongly flexed spine the trunk axis rotates away from the pelvis; the pelvis read must not."""
    ms = _standing_then([make_pose(pelvis_deg=20.0, lumbar_deg=40.0)])
    a = calibrate(ms).angles(ms[-1])
    assert a.pelvic_tilt_deg == pytest.approx(20.0, abs=3.0)
    assert a.lumbar_flexion_deg == pytest.approx(40.0, abs=4.0)


def test_measurement_keeps_contour_but_not_mask():
    m = SagittalMeasurer().measure(make_pose())
    assert m.dorsal_contour is not None and m.dorsal_contour.shape[1] == 2 and len(m.dorsal_contour) > 20
    assert not any(isinstance(v, np.ndarray) and v.ndim == 2 and v.shape == (H, W) for v in vars(m).values())
    # the back edge of a subject facing right is on the left of the hip
    assert np.all(m.dorsal_contour[:, 0] < W / 2)


def test_no_mask_leaves_split_unmeasured_and_hip_falls_back():
    measurer = SagittalMeasurer()
    ms = [measurer.measure(make_pose(index=i)) for i in range(30)]
    bent = make_pose(pelvis_deg=30.0, index=30)
    bent.mask = None
    ms.append(measurer.measure(bent))
    a = calibrate(ms).angles(ms[-1])
    assert np.isnan(a.lumbar_flexion_deg) and np.isnan(a.pelvic_tilt_deg)
    assert a.hip_flexion_deg == pytest.approx(30.0, abs=1.5)  # landmark trunk+thigh fallback
    assert a.confidence == 0.0


def test_undetected_frame_gives_undetected_angles():
    ms = _standing_then([])
    empty = SagittalMeasurer().measure(PoseFrame(99, 3.3, W, H, detected=False))
    a = calibrate(ms).angles(empty)
    assert not a.detected and np.isnan(a.hip_flexion_deg)


# --- facing, baseline, view ----------------------------------------------------------------------------------


def test_facing_vote_and_measurer_facing():
    assert facing_vote(make_pose(facing="right")) > 0
    assert facing_vote(make_pose(facing="left")) < 0
    measurer = SagittalMeasurer()
    measurer.measure(make_pose(facing="left"))
    assert measurer.facing == "left"
    assert SagittalMeasurer(facing="right").facing == "right"


def test_calibration_finds_standing_after_initial_motion():
    measurer = SagittalMeasurer()
    poses = [make_pose(pelvis_deg=30.0 + (i % 5), index=i) for i in range(20)]  # moving, bent
    poses += [make_pose(index=20 + i) for i in range(30)]  # then stands still for 1 s
    poses += [make_pose(pelvis_deg=50.0, index=50 + i) for i in range(10)]
    ms = [measurer.measure(p) for p in poses]
    cal = calibrate(ms)
    assert cal.found and cal.automatic
    assert cal.start_s >= 20 / 30 - 1e-6 and cal.end_s <= 50 / 30 + 1e-6
    assert calibrate(ms).angles(ms[-1]).pelvic_tilt_deg == pytest.approx(50.0, abs=2.5)


def test_calibration_warns_when_never_still():
    measurer = SagittalMeasurer()
    ms = [measurer.measure(make_pose(pelvis_deg=float(10 * (i % 2)), index=i)) for i in range(40)]
    cal = calibrate(ms)
    assert not cal.found
    assert [w.code for w in cal.warnings] == ["no_standing_baseline"]
    assert np.isnan(cal.angles(ms[5]).hip_flexion_deg)


def test_calibration_window_given():
    ms = _standing_then([make_pose(pelvis_deg=20.0) for _ in range(10)])
    cal = calibrate(ms, window_s=(0.0, 0.5))
    assert not cal.automatic and cal.end_s <= 0.5
    assert cal.angles(ms[-1]).hip_flexion_deg == pytest.approx(20.0, abs=2.0)


def test_arm_along_the_back_is_detected_and_lowers_confidence():
    clean = SagittalMeasurer().measure(make_pose())
    armed = SagittalMeasurer().measure(make_pose(arm_on_back=True))
    assert clean.quality["arm_share"] < 0.1
    assert armed.quality["arm_share"] > 0.5
    assert armed.confidence < clean.confidence
    measurer = SagittalMeasurer()
    ms = [measurer.measure(make_pose(arm_on_back=True, index=i)) for i in range(30)]
    assert "arm_hides_back" in [w.code for w in assess_view(ms, [])]


def test_view_warns_when_not_side_on_and_when_several_people():
    measurer = SagittalMeasurer()
    side = [measurer.measure(make_pose(index=i)) for i in range(30)]
    assert assess_view(side, []) == []
    measurer = SagittalMeasurer()
    turned = [measurer.measure(make_pose(index=i, shoulder_gap_px=0.5 * L)) for i in range(30)]
    assert "not_side_on" in [w.code for w in assess_view(turned, [])]
    crowd = [make_pose(index=i) for i in range(10)]
    for p in crowd:
        p.n_people = 2
    warnings = assess_view(side, crowd)
    assert "multiple_people" in [w.code for w in warnings]
    assert all(w.message.endswith(".") and len(w.message) > 40 for w in warnings)


def test_the_turned_camera_warning_starts_at_its_setting():
    """not_side_on from [quality] not_side_on_yaw_deg (20°): a camera turned ~17° is side-on enough, ~23° is not."""
    import dataclasses

    from hingecheck.core.settings import QualityConfig

    def turned_by(yaw_deg: float) -> list:
        measurer = SagittalMeasurer()
        gap = 0.9 * np.sin(np.radians(yaw_deg)) * L  # the shoulders' image separation at that yaw
        return [measurer.measure(make_pose(index=i, shoulder_gap_px=gap)) for i in range(30)]

    def warned(ms: list, cfg: QualityConfig | None = None) -> bool:
        return "not_side_on" in [w.code for w in assess_view(ms, [], cfg)]

    assert not warned(turned_by(17.0)) and warned(turned_by(23.0))
    assert not warned(turned_by(23.0), dataclasses.replace(QualityConfig(), not_side_on_yaw_deg=25.0))


def test_view_warns_when_body_leaves_the_frame():
    measurer = SagittalMeasurer()
    ms = []
    for i in range(30):
        p = make_pose(index=i)
        p.landmarks_px[[LEFT_ANKLE, RIGHT_ANKLE]] += [0.0, 400.0]  # feet below the bottom edge
        ms.append(measurer.measure(p))
    assert "partly_out_of_frame" in [w.code for w in assess_view(ms, [])]


# --- ground truth: the rendered sample clips (MediaPipe runs once per session via the shared fixtures) ---------


def _gt_and_reps(video):
    import json

    gt = np.genfromtxt(video.with_name(f"{video.stem}_gt.csv"), delimiter=",", names=True, dtype=None, encoding=None)
    reps = json.loads(video.with_name(f"{video.stem}_reps.json").read_text())["reps"]
    return gt, reps


def _rmse(e):
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e**2)))


@pytest.mark.parametrize("which", ["analysed_good_stoop", "analysed_lowback"])
def test_split_matches_ground_truth_on_samples(which, request, sample_good_stoop, sample_lowback):
    _, result = request.getfixturevalue(which)
    video = sample_good_stoop if which == "analysed_good_stoop" else sample_lowback
    gt, reps = _gt_and_reps(video)
    a = result.angles
    n = min(len(a), len(gt))
    hip_err = a.hip_flexion_deg[:n] - gt["hip_flexion_deg"][:n]
    lumbar_err = a.lumbar_flexion_deg[:n] - gt["lumbar_flexion_deg"][:n]
    landmark_only_err = a.trunk_inclination_deg[:n] + a.thigh_inclination_deg[:n] - gt["hip_flexion_deg"][:n]
    assert np.isfinite(a.lumbar_flexion_deg[:n]).mean() >= 0.9
    # the learned reading (hand-made outline fit: hip 3.3–4.0°, lumbar 2.9–5.0° on these two samples)
    assert _rmse(hip_err) < 4.5  # measured 2.7–3.0°
    assert _rmse(lumbar_err) < 3.5  # measured 1.2–2.3°
    assert _rmse(hip_err) < 0.3 * _rmse(landmark_only_err)  # the split beats trunk–thigh (13–17°) by far
    # the stated 90 % intervals hold the truth on most frames, and are stated on nearly every measured frame
    for err, unc in ((hip_err, a.hip_uncertainty_deg[:n]), (lumbar_err, a.lumbar_uncertainty_deg[:n])):
        both = np.isfinite(err) & np.isfinite(unc)
        assert both.mean() >= 0.9
        assert np.mean(np.abs(err[both]) <= unc[both]) >= 0.85

    # rep by rep: a spinal-flexion rep's lumbar peak stands far above every other rep's
    peaks = {}
    for rep in reps:
        seg = a.lumbar_flexion_deg[rep["start_frame"] : rep["end_frame"] + 1]
        peaks.setdefault(bool(rep["labels"]) and "spinal_flexion_takeover" in rep["labels"], []).append(np.nanmax(seg))
    flexed, others = peaks[True], peaks.get(False, [])
    assert min(flexed) > 25.0  # truth 34–44°
    if others:
        # truth ≤ 5°; the outline over-reads deep good hinges (up to ~15°, docs/DESIGN.md §8), which is why
        # faults are judged on change and shares, and why the separation below is what matters
        assert max(others) < 20.0
        assert min(flexed) - max(others) > 15.0


def _measurement(i: int, trunk: float, pelvis: float, upper_lumbar: float, arm: float) -> FrameMeasurement:
    m = FrameMeasurement(i, i / 30, True, "right", trunk_deg=trunk, thigh_deg=0.0, shank_deg=0.0)
    m.pelvis_deg, m.lumbar_deg, m.thorax_deg = pelvis, upper_lumbar, upper_lumbar
    m.confidence = 0.8
    m.quality["arm_share"] = arm
    return m


def _arm_then_hinge(standing_arm: float, arm_bias_deg: float) -> list[FrameMeasurement]:
    """Standing with the outline biased by an arm (pelvis reads arm_bias_deg low), then an arm-free hip hinge
    to 60° in which pelvis and thoracolumbar outline turn with the trunk."""
    ms = [_measurement(i, 3.0, 20.0 - arm_bias_deg, 10.0, standing_arm) for i in range(30)]
    for k, tilt in enumerate(np.linspace(1.0, 60.0, 30)):
        ms.append(_measurement(30 + k, 3.0 + tilt, 20.0 + tilt, 10.0 + tilt, 0.0))
    return ms


def test_arm_covered_standing_outline_gets_an_arm_free_pelvis_baseline():
    ms = _arm_then_hinge(standing_arm=0.4, arm_bias_deg=10.0)
    cal = calibrate(ms)
    assert cal.pelvis_deg == pytest.approx(10.0)  # the standing (arm) reading is the standing frames' zero ...
    assert cal.angles(ms[5]).pelvic_tilt_deg == pytest.approx(0.0, abs=0.1)
    # ... but the hinge is read against the arm-free estimate: 60° ± the early-share uncertainty, not 70°
    assert cal.angles(ms[-1]).pelvic_tilt_deg == pytest.approx(60.0, abs=4.0)
    assert cal.angles(ms[-1]).lumbar_flexion_deg == pytest.approx(0.0, abs=4.0)


def test_clean_standing_outline_keeps_the_standing_pelvis_baseline():
    ms = _arm_then_hinge(standing_arm=0.0, arm_bias_deg=0.0)
    cal = calibrate(ms)
    assert np.isnan(cal.pelvis_arm_free_deg)
    assert cal.angles(ms[-1]).pelvic_tilt_deg == pytest.approx(60.0, abs=1e-6)


def test_a_body_read_lying_on_its_side_is_no_posture():
    """A close camera cuts off head and shoulders at lockout and MediaPipe returns a person lying down (YFGD: trunk
    −88°): that frame is taken as no person, with the reason, and does not vote on the facing."""
    measurer = SagittalMeasurer()
    ok = measurer.measure(make_pose(pelvis_deg=60.0, index=0))
    assert ok.detected and ok.trunk_deg == pytest.approx(60.0, abs=3.0)
    for bend, expect in ((130.0, True), (140.0, False), (-40.0, True), (-50.0, False)):
        m = SagittalMeasurer(facing="right").measure(make_pose(pelvis_deg=bend, index=1))
        assert m.detected is expect, bend
        assert ("implausible_pose" in m.quality) is (not expect)


def _stand_hinge_lean(lean_frames: int, thigh_flicker_deg: float = 0.0) -> list[FrameMeasurement]:
    """A short clip at 30 fps: a 1 s stand (trunk 2°), a hinge to 60° and back, a lean back to −12° held
    lean_frames, then 0.5 s of standing; the thigh flickers ±thigh_flicker_deg frame to frame throughout."""
    trunk = [2.0] * 30 + list(np.linspace(2.0, 60.0, 30)) + list(np.linspace(60.0, -12.0, 15))
    trunk += [-12.0] * lean_frames + list(np.linspace(-12.0, 2.0, 9)) + [2.0] * 15
    ms = []
    for i, tr in enumerate(trunk):
        m = _measurement(i, tr, tr + 20.0, tr + 10.0, 0.0)
        m.thigh_deg = thigh_flicker_deg * (i % 2)
        ms.append(m)
    return ms


def test_a_short_clip_that_ends_leaning_back_still_calibrates_on_its_stand():
    """Leaning back 14° at lockout for 1.2 s fills over a quarter of a short clip; the clip's 25th centile of trunk
    inclination then sat in the lean, the stand before it did not count as upright, the lean calibrated and read
    as standing (4 of the 7 lean backs missed on the validation bodies)."""
    cal = calibrate(_stand_hinge_lean(lean_frames=36))
    assert cal.source == "stand" and cal.start_s == 0.0
    assert cal.trunk_deg == pytest.approx(2.0)


def test_a_flickering_thigh_still_lets_the_trunk_find_the_stand():
    """A plate or kettlebell at the knee makes the thigh landmark jump every frame: no stretch is quiet in the
    thigh, and the still trunk finds the stand before the first hinge (not the lockouts after it)."""
    ms = _stand_hinge_lean(lean_frames=0, thigh_flicker_deg=12.0)
    cal = calibrate(ms)
    assert cal.source == "stand" and cal.start_s == 0.0
    steady = calibrate(_stand_hinge_lean(lean_frames=0, thigh_flicker_deg=2.0))
    assert steady.source == "stand" and steady.start_s == 0.0


def test_a_set_up_held_still_at_the_bar_is_no_stand():
    """A lift from the floor filmed close: 1.5 s still at the bar (trunk 40°, the thigh flickering behind the
    plate), settling deeper, the pull, a short lockout, the lowering. The set-up is the stillest stretch before the
    first bend, but it is no stand (not upright in the picture): the lockout is the reference."""
    trunk = [40.0] * 45 + list(np.linspace(40.0, 60.0, 10)) + list(np.linspace(60.0, 3.0, 20)) + [3.0] * 6
    trunk += list(np.linspace(3.0, 60.0, 20)) + [60.0] * 20
    ms = []
    for i, tr in enumerate(trunk):
        m = _measurement(i, tr, tr + 20.0, tr + 10.0, 0.0)
        m.thigh_deg = 12.0 * (i % 2)
        ms.append(m)
    cal = calibrate(ms)
    assert cal.source == "lockouts" and cal.trunk_deg == pytest.approx(3.0, abs=0.5)
