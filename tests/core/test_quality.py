"""core/quality.py: the detectors of what a clip does not show, on constructed inputs, and the withholding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hingecheck.core import picture, quality
from hingecheck.core.quality import KNEE, LOCKOUT, LOW_BACK_RETURN, TAKEOVER, OutlineShape, VerdictSupport
from hingecheck.core.settings import QualityConfig
from hingecheck.core.types import Fault, Rep

CFG = QualityConfig()


def _fault(code: str, **details: float) -> Fault:
    return Fault(code=code, time_s=1.0, frame=30, message=code, cue="", details=dict(details))


def _rep(index: int, *faults: Fault, start: int = 0, end: int = 60) -> Rep:
    return Rep(
        index=index,
        start_s=start / 30,
        bottom_s=(start + end) / 60,
        end_s=end / 30,
        start_frame=start,
        bottom_frame=(start + end) // 2,
        end_frame=end,
        faults=list(faults),
    )


# ---------------------------------------------------------------- withholding


def test_withhold_removes_only_unsupported_faults_and_keeps_reps():
    support = VerdictSupport()
    support.withhold_codes([TAKEOVER, LOW_BACK_RETURN], "camera about 33° from side-on")
    reps = [_rep(1, _fault(TAKEOVER), _fault(KNEE)), _rep(2, _fault(LOW_BACK_RETURN)), _rep(3)]
    reps[0].peak_lumbar_flexion_deg, reps[0].hinge_capacity_deg, reps[0].peak_knee_flexion_deg = 30.0, 40.0, 50.0
    assert support.withhold(reps) == 2
    assert [r.fault_codes for r in reps] == [[KNEE], [], []]
    assert not support.lumbar_supported and support.supports(KNEE)
    # the low-back numbers go with the low-back verdicts; the knee's stay
    assert reps[0].peak_lumbar_flexion_deg is None and reps[0].hinge_capacity_deg is None
    assert reps[0].peak_knee_flexion_deg == 50.0


def test_a_lockout_found_on_the_arch_alone_goes_with_the_lumbar_verdicts():
    support = VerdictSupport(lockout_lean_min_deg=8.0)
    lean = _fault(LOCKOUT, lean_back_deg=12.0, lumbar_extension_deg=3.0)  # the trunk leaned back: landmarks
    arch = _fault(LOCKOUT, lean_back_deg=2.0, lumbar_extension_deg=15.0)  # only the outline saw it
    reps = [_rep(1, lean), _rep(2, arch)]
    assert VerdictSupport().withhold(reps) == 0  # nothing withheld: both stay
    support.withhold_codes([TAKEOVER, LOW_BACK_RETURN], "clothing hides the line of the back")
    assert support.withhold(reps) == 1
    assert [r.fault_codes for r in reps] == [[LOCKOUT], []]


def test_merge_prefixes_the_shot():
    clip, shot = VerdictSupport(), VerdictSupport()
    shot.withhold_codes([KNEE], "knees and ankles hidden")
    clip.merge(shot, prefix="shot 2: ")
    assert clip.withheld == {KNEE: "shot 2: knees and ankles hidden"}


# ---------------------------------------------------------------- black bars


def _profiles(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return picture.edge_profiles(img.astype(float))


def test_pillar_bars_are_found_and_thin_borders_ignored():
    img = np.full((60, 100), 120.0)
    img[:, :12] = img[:, 88:] = 0.0  # pillar-box bars
    img[:1, :] = 5.0  # a one-row encoder border: thinner than bar_min_frac
    img[30, 3] = 255.0  # a watermark pixel in the bar does not make it picture
    cols, rows = _profiles(img)
    area = picture.find_picture_area([cols], [rows], CFG)
    assert (area.x0, area.x1, area.y0, area.y1) == (12, 88, 0, 60) and area.cropped


def test_letterbox_bars_and_even_sizes():
    img = np.full((101, 80), 90.0)
    img[:10] = img[90:] = 3.0
    area = picture.find_picture_area(*map(lambda p: [p], _profiles(img)), CFG)
    assert (area.y0, area.y1) == (10, 90) and (area.x0, area.x1) == (0, 80)
    assert (area.y1 - area.y0) % 2 == 0


def test_no_crop_for_a_black_frame_or_a_plain_picture():
    black = np.zeros((60, 100))
    assert not picture.find_picture_area(*map(lambda p: [p], _profiles(black)), CFG).cropped
    plain = np.full((60, 100), 80.0)
    assert not picture.find_picture_area(*map(lambda p: [p], _profiles(plain)), CFG).cropped


def test_a_bar_must_be_dark_in_every_frame():
    dark_edge = np.full((60, 100), 100.0)
    dark_edge[:, :20] = 0.0  # a dark wall at the left in the first frame ...
    lit = np.full((60, 100), 100.0)  # ... lit in the next: a picture, not a bar
    c1, r1 = _profiles(dark_edge)
    c2, r2 = _profiles(lit)
    assert not picture.find_picture_area([c1, c2], [r1, r2], CFG).cropped


# ---------------------------------------------------------------- a small person

PICTURE = picture.PictureArea(100, 0, 1180, 720, 1280, 720)  # a 1080×720 picture inside pillar bars


def _boxes(x0: float, y0: float, height: float, n: int = 50, width: float = 0.4) -> np.ndarray:
    """n landmark boxes of a person ``height`` px tall, jittering by a few px (a handheld camera)."""
    jitter = np.random.default_rng(1).normal(0, 3, (n, 1))
    return np.hstack([x0 + jitter, y0 + jitter, x0 + width * height + jitter, y0 + height + jitter])


def test_a_small_often_missed_person_is_looked_for_again_around_where_they_stand():
    boxes = _boxes(600, 40, 250)  # 250 of 720 px: 35 % of the picture's height
    area = picture.person_area(boxes, PICTURE, detection_rate=0.66, cfg=CFG)
    assert area is not None and area.cropped
    pad = CFG.zoom_pad_share * 250
    assert area.x0 == pytest.approx(600 - pad, abs=12) and area.y0 == 0  # padded, and kept inside the picture
    assert area.y1 == pytest.approx(40 + 250 + pad, abs=12)
    assert (area.x1 - area.x0) % 2 == 0 and (area.y1 - area.y0) % 2 == 0
    assert (area.width, area.height) == (1280, 720)
    # the picture's own edges bound it (a person at the pillar bar's edge)
    edge = picture.person_area(_boxes(110, 300, 250), PICTURE, 0.66, CFG)
    assert edge is not None and edge.x0 == PICTURE.x0


def test_no_second_look_for_a_person_found_often_or_filling_the_picture():
    small = _boxes(600, 40, 250)
    assert picture.person_area(small, PICTURE, CFG.zoom_below_detection, CFG) is None  # found often enough
    assert picture.person_area(small, PICTURE, CFG.zoom_below_detection - 0.01, CFG) is not None
    share = CFG.zoom_max_person_share * 720
    assert picture.person_area(_boxes(600, 40, share + 8), PICTURE, 0.5, CFG) is None  # big enough already
    assert picture.person_area(_boxes(600, 40, share - 8), PICTURE, 0.5, CFG) is not None
    assert picture.person_area(np.zeros((0, 4)), PICTURE, 0.0, CFG) is None  # nowhere to look


# ---------------------------------------------------------------- scene cuts


def test_histograms_of_same_and_disjoint_pictures():
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 250
    blue = np.zeros((8, 8, 3), np.uint8)
    blue[..., 2] = 250
    assert picture.histogram_difference(picture.colour_histogram(red), picture.colour_histogram(red)) == 0.0
    assert picture.histogram_difference(picture.colour_histogram(red), picture.colour_histogram(blue)) == 1.0
    assert picture.histogram_difference(None, picture.colour_histogram(red)) == 0.0


def _diffs(n: int = 300, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.abs(rng.normal(0.005, 0.003, n)), np.arange(n) / 30.0


def test_a_cut_is_a_one_frame_spike():
    d, t = _diffs()
    d[150] = 0.6
    assert picture.find_cuts(d, t, CFG) == [150]
    assert picture.shots_from_cuts(300, [150]) == [(0, 150), (150, 300)]


def test_motion_over_several_frames_is_no_cut():
    d, t = _diffs()
    d[100:106] = 0.35  # a fast pan: colours change over six frames
    assert picture.find_cuts(d, t, CFG) == []


def test_cuts_too_close_to_the_ends_or_each_other():
    d, t = _diffs()
    d[10] = 0.7  # 0.33 s after the start
    d[295] = 0.9  # 0.17 s before the end (a last black frame)
    d[150], d[160] = 0.5, 0.8  # two cuts 0.33 s apart: the stronger is kept
    assert picture.find_cuts(d, t, CFG) == [160]


def test_no_cuts_in_an_uncut_clip():
    d, t = _diffs()
    assert picture.find_cuts(d, t, CFG) == []
    assert picture.shots_from_cuts(300, []) == [(0, 300)]


# ---------------------------------------------------------------- the back's outline


def _outline(d_of_t, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A back outline for a person facing right (image x right, y down): hip at (200, 300), shoulder 100 px up."""
    hip, shoulder = np.array([200.0, 300.0]), np.array([200.0, 200.0])
    back = np.array([-1.0, 0.0])  # facing right: the back is to the left
    t = np.linspace(-0.2, 1.0, n)
    pts = np.stack([hip[0] + 100.0 * d_of_t(t) * back[0], hip[1] - 100.0 * t], axis=1)
    return pts, hip, shoulder, back


def _fitted(t: np.ndarray) -> np.ndarray:
    return 0.2 + 0.05 * np.cos(2 * np.pi * (t - 0.1) / 0.725)  # buttock and upper back out, low back in


def test_outline_shape_of_a_fitted_and_a_loose_top():
    fitted = quality.outline_shape(*_outline(_fitted))
    assert fitted is not None
    assert fitted.standoff_l == pytest.approx(0.16, abs=0.03) and fitted.hollow_l > 0.05
    loose = quality.outline_shape(*_outline(lambda t: 0.55 + 0.0 * t))
    assert loose is not None
    assert loose.standoff_l == pytest.approx(0.55, abs=1e-6) and abs(loose.hollow_l) < 1e-6
    assert quality.outline_shape(None, *_outline(_fitted)[1:]) is None


def test_assess_outline_hides_a_loose_top_not_a_fitted_one():
    trunk = [2.0] * 20 + [60.0] * 20  # standing, then bent over: only the standing frames are judged
    fitted = [OutlineShape(0.18, 0.04, 0.005)] * 20 + [OutlineShape(0.7, -0.2, 0.005)] * 20
    verdict = quality.assess_outline(fitted, trunk, CFG)
    assert not verdict.hidden and verdict.standoff_l == pytest.approx(0.18)
    loose = [OutlineShape(0.6, -0.01, 0.006)] * 40
    assert quality.assess_outline(loose, trunk, CFG).hidden
    folded = [OutlineShape(0.2, 0.03, 0.09)] * 40
    assert quality.assess_outline(folded, trunk, CFG).hidden
    too_few = quality.assess_outline([OutlineShape(0.9, -0.1, 0.0)] * 3 + [None] * 37, trunk, CFG)
    assert not too_few.hidden and too_few.frames == 3


def test_an_upper_back_bending_backwards_is_fabric_not_a_spine():
    trunk = np.r_[np.zeros(30), np.linspace(0, 70, 30), np.full(30, 70.0)]
    spine = 0.1 * trunk  # a spine's upper back flexes a little as the trunk bends
    hood = -0.3 * trunk  # a hood bunching behind the neck: the outline bends backwards
    assert quality.upper_back_bend(spine, trunk) == pytest.approx(7.0, abs=0.5)
    assert quality.upper_back_bend(hood, trunk) == pytest.approx(-21.0, abs=1.5)
    assert math.isnan(quality.upper_back_bend(hood, np.zeros(90)))  # never bent over: nothing to judge
    fitted = [OutlineShape(0.2, 0.04, 0.005)] * 90
    assert not quality.assess_outline(fitted, trunk, CFG, spine).hidden
    verdict = quality.assess_outline(fitted, trunk, CFG, hood)
    assert verdict.hidden and "hood" in verdict.reason and verdict.to_dict()["upper_back_bend_deg"] < -15


# ---------------------------------------------------------------- legs and the decision


def test_leg_visibility_uses_the_better_leg_and_the_picture():
    vis = np.full(33, 0.9)
    vis[[25, 27]] = 0.1  # the far leg hidden behind the near one
    assert quality.leg_visibility(vis) == pytest.approx(0.9)
    inside = np.ones(33, bool)
    inside[[28]] = False  # the near ankle outside the picture
    assert quality.leg_visibility(vis, inside) == pytest.approx(0.1)
    assert math.isnan(quality.leg_visibility(None))


def test_a_plate_in_front_of_the_shins_takes_them_off_the_silhouette():
    mask = np.zeros((100, 100), np.float32)
    mask[:, 40:60] = 1.0  # a standing person's legs
    knee, ankle = np.array([50.0, 50.0]), np.array([50.0, 95.0])
    assert quality.shank_cover(mask, knee, ankle) == 1.0
    mask[60:90, :] = 0.0  # a plate across the shins
    assert quality.shank_cover(mask, knee, ankle) < 0.3
    assert math.isnan(quality.shank_cover(None, knee, ankle))
    vis = np.full(33, 0.9)
    assert quality.leg_visibility(vis, cover=(0.2, 0.1)) == pytest.approx(0.18)
    assert quality.leg_visibility(vis, cover=(math.nan, math.nan)) == pytest.approx(0.9)


def test_assess_legs_looks_at_the_reps():
    vis = np.r_[np.full(30, 0.9), np.full(60, 0.1), np.full(30, 0.9)]  # a plate hides the legs during the rep
    index = np.arange(120)
    assert quality.assess_legs(vis, [_rep(1, start=30, end=89)], index, CFG) == pytest.approx(0.1)
    assert quality.assess_legs(vis, [], index, CFG) == pytest.approx(0.5)  # no rep: the whole clip


def test_decide_side_on_clip_supports_everything():
    q = quality.decide(8.0, None, 0.9, CFG)
    assert q.support.withheld == {} and q.warnings == []


def test_decide_turned_camera_withholds_lumbar_and_knee():
    q = quality.decide(33.0, None, 0.9, CFG)
    assert set(q.support.withheld) == {TAKEOVER, LOW_BACK_RETURN, KNEE}
    assert "33°" in q.support.withheld[TAKEOVER]


def test_decide_a_back_too_small_in_the_picture_withholds_the_lumbar_verdicts():
    q = quality.decide(8.0, None, 0.9, CFG, trunk_px=CFG.min_trunk_px - 1)
    assert set(q.support.withheld) == {TAKEOVER, LOW_BACK_RETURN} and not q.support.lumbar_numbers
    assert [w.code for w in q.warnings] == ["person_too_small"] and "closer" in q.warnings[0].message
    assert quality.decide(8.0, None, 0.9, CFG, trunk_px=CFG.min_trunk_px + 1).support.withheld == {}
    assert quality.decide(8.0, None, 0.9, CFG).support.withheld == {}  # trunk length not known


def test_nine_overlapping_tiles_cover_the_picture():
    tiles = picture.picture_tiles(PICTURE)
    assert len(tiles) == 9
    assert all((t.x1 - t.x0, t.y1 - t.y0) == (540, 360) for t in tiles)
    assert min(t.x0 for t in tiles) == PICTURE.x0 and max(t.x1 for t in tiles) == PICTURE.x1
    assert min(t.y0 for t in tiles) == 0 and max(t.y1 for t in tiles) == 720
    # any box within a quarter of the picture's width and height lies wholly inside one tile
    for x0, y0 in ((100, 0), (400, 200), (900, 500), (640, 330)):
        box = (x0, y0, x0 + 260, y0 + 170)
        assert any(t.x0 <= box[0] and box[2] <= t.x1 and t.y0 <= box[1] and box[3] <= t.y1 for t in tiles), box


def test_decide_hidden_outline_and_legs_warn_in_plain_words():
    outline = quality.OutlineVerdict(40, 0.6, -0.02, 0.01, True, "the outline stands off the body")
    q = quality.decide(5.0, outline, 0.1, CFG)
    # the takeover stays: it is judged on the whole back (shoulder-hip line vs pelvis), which fabric does not bend
    assert set(q.support.withheld) == {LOW_BACK_RETURN, KNEE}
    codes = [w.code for w in q.warnings]
    assert codes == ["back_outline_hidden", "legs_hidden"]
    assert "fitted" in q.warnings[0].message
    assert q.to_dict()["verdicts_withheld"][KNEE] == "knees and ankles hidden"


# ---------------------------------------------------------------- live mode


def _live_pose(i: int, turned: bool):
    """A whole body in a 640×480 picture: side-on (left/right overlap) or turned (shoulders and hips spread)."""
    from hingecheck.core.types import PoseFrame

    px = np.full((33, 2), 320.0)
    for landmarks, y in (((0,), 60), ((11, 12), 120), ((23, 24), 250), ((25, 26), 350), ((27, 28), 440)):
        for k in landmarks:
            px[k, 1] = y
    if turned:  # ~0.7 trunk lengths apart left-right: about 50° from side-on
        px[[11, 23], 0] -= 45.0
        px[[12, 24], 0] += 45.0
    norm = np.column_stack([px / [640, 480], np.zeros(33)])
    return PoseFrame(i, i / 30.0, 640, 480, True, px, norm, np.ones(33), np.ones(33))


def _stoop_session():
    """1.5 s standing, then two stoops (the low back carries 60 % of a 60° trunk tilt), standing between."""
    from hingecheck.core.kinematics import FrameMeasurement

    hinge = np.concatenate(
        [60 * np.sin(np.linspace(0, np.pi / 2, 40)) ** 2, 60 * np.cos(np.linspace(0, np.pi / 2, 40)) ** 2]
    )
    tilts = np.concatenate([np.zeros(45), hinge, np.zeros(25), hinge, np.zeros(30)])
    out = []
    for i, tilt in enumerate(tilts):
        m = FrameMeasurement(i, i / 30.0, True, "right", trunk_deg=3.0 + tilt, thigh_deg=0.0, shank_deg=0.0)
        m.pelvis_deg = 20.0 + 0.4 * tilt
        m.lumbar_deg = m.thorax_deg = 10.0 + tilt
        m.confidence = 0.8
        out.append(m)
    return out


@pytest.mark.parametrize("turned", [False, True])
def test_live_coach_withholds_lumbar_cues_when_the_camera_is_turned(turned):
    from hingecheck.core.coach import LiveCoach
    from hingecheck.core.settings import Settings

    coach = LiveCoach(Settings())
    early = []
    for m in _stoop_session():
        update = coach.step(_live_pose(m.index, turned and m.index >= 45), m)  # calibrated side-on, then turned
        early += [f.code for _, f in update.early_faults]
    coach.finish()
    codes = {c for r in coach.reps for c in r.fault_codes}
    assert len([r for r in coach.reps if not r.partial]) == 2  # reps still counted
    if turned:
        assert not codes & {TAKEOVER, LOW_BACK_RETURN} and not set(early) & {TAKEOVER, LOW_BACK_RETURN}
        assert TAKEOVER in coach.verdicts_withheld
    else:
        assert TAKEOVER in codes and coach.verdicts_withheld == {}


# ---------------------------------------------------------------- brightness


def _scene(person_luma: int, wall_luma: int) -> tuple[np.ndarray, np.ndarray]:
    rgb = np.full((80, 60, 3), wall_luma, np.uint8)
    mask = np.zeros((80, 60), np.float32)
    mask[20:70, 25:40] = 1.0
    rgb[mask >= 0.5] = person_luma
    return rgb, mask


def test_a_lit_person_before_a_dark_wall_is_not_a_dark_scene():
    rgb, mask = _scene(person_luma=160, wall_luma=20)  # the picture's mean is below DARK_LUMA
    assert rgb[::4, ::4].mean() < picture.DARK_LUMA
    assert picture.scene_luma(rgb, mask) == 160.0


def test_a_backlit_person_stands_out_against_the_bright_sky():
    rgb, mask = _scene(person_luma=25, wall_luma=200)
    assert picture.scene_luma(rgb, mask) == 200.0


def test_a_dark_person_in_a_dark_room_is_a_dark_scene():
    rgb, mask = _scene(person_luma=35, wall_luma=20)
    assert picture.scene_luma(rgb, mask) == 35.0 < picture.DARK_LUMA


def test_without_a_person_the_whole_picture_is_measured():
    rgb, mask = _scene(person_luma=160, wall_luma=30)
    assert picture.scene_luma(rgb, None) == picture.scene_luma(rgb, np.zeros_like(mask)) == rgb[::4, ::4].mean()
