"""Rep segmentation (hingecheck/movement/reps.py) on constructed angle sequences and the samples' ground truth."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hingecheck.core.movement import (
    FaultFound,
    RepBottom,
    RepCompleted,
    RepStarted,
    RepTracker,
    analyse_reps,
    track,
)
from hingecheck.core.types import AngleSeries, FrameAngles
from hingecheck.io.config import load_settings
from tests.synthetic import Timeline, add_measurement_noise, copy_series, smooth

SETTINGS = load_settings()
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FPS = 30.0


def good_reps(n: int = 3, depth: float = 75.0) -> Timeline:
    tl = Timeline(fps=FPS).stand(1.0)
    for k in range(n):
        tl.rep(1.4 + 0.2 * k, 0.3, 1.1, hip=depth - 5 * k, lumbar=4, knee=15).stand(0.6)
    return tl


def complete(reps):
    return [r for r in reps if not r.partial]


def test_clean_reps_are_counted_with_phase_times():
    tl = good_reps(3)
    reps = analyse_reps(tl.series(), SETTINGS)
    assert len(reps) == 3 and not any(r.partial for r in reps)
    # rep 1 keyframes: start 1.0 s, bottom 2.4 s, return from 2.7 s, back at 3.8 s
    r = reps[0]
    assert r.start_s == pytest.approx(1.0, abs=0.2)
    assert r.bottom_s == pytest.approx(2.4, abs=0.25)
    assert r.return_start_s == pytest.approx(2.7, abs=0.25)
    assert r.end_s == pytest.approx(3.8, abs=0.25)
    assert r.peak_hip_flexion_deg == pytest.approx(75.0, abs=0.5)
    # eased keyframes sit within the bottom band for ~0.2 s on each side of the hold: its middle is exact
    assert (r.bottom_s + r.return_start_s) / 2 == pytest.approx(2.55, abs=0.05)
    assert r.descent_s > 1.0 and 0.0 <= r.hold_s < 0.8 and r.return_s > 0.7
    assert [r.index for r in reps] == [1, 2, 3]
    assert all(r.faults == [] for r in reps)


def test_noise_and_a_long_pause_at_the_bottom_do_not_split_reps():
    tl = Timeline(fps=FPS).stand(1.0)
    for _ in range(3):
        tl.rep(1.5, 2.0, 1.2, hip=70, lumbar=3, knee=12).stand(0.7)  # 2 s hold at the bottom
    for seed in range(5):
        noisy = add_measurement_noise(tl.series(), np.random.default_rng([seed, 2]), n_gaps=0)
        assert len(complete(analyse_reps(noisy, SETTINGS))) == 3, f"raw noise, seed {seed}"
        assert len(complete(analyse_reps(smooth(noisy), SETTINGS))) == 3, f"smoothed, seed {seed}"


def test_a_mid_descent_pause_is_one_rep():
    tl = Timeline(fps=FPS).stand(1.0).move(0.8, hip=35, knee=8).hold(0.8).move(0.8, hip=80, knee=15)
    tl.hold(0.2).move(1.2).stand(1.0)
    reps = analyse_reps(tl.series(), SETTINGS)
    assert len(reps) == 1
    assert reps[0].peak_hip_flexion_deg == pytest.approx(80, abs=0.5)
    assert reps[0].bottom_s > 3.0  # the real bottom, not the pause at 35°


def test_a_small_dip_mid_return_stays_in_the_rep():
    # comes up to 50°, sinks back to 60°, then stands: still one rep
    tl = Timeline(fps=FPS).stand(1.0).move(1.2, hip=80).move(0.5, hip=50).move(0.4, hip=60).move(0.8).stand(1.0)
    assert len(analyse_reps(tl.series(), SETTINGS)) == 1


def test_fidgets_and_glitches_are_not_reps():
    tl = Timeline(fps=FPS).stand(1.0).move(0.5, hip=15).move(0.5).stand(1.0)  # a shallow nod
    assert analyse_reps(tl.series(), SETTINGS) == []
    s = Timeline(fps=FPS).stand(3.0).series()
    s.hip_flexion_deg[40:43] = 60.0  # a 3-frame pose glitch
    assert analyse_reps(s, SETTINGS) == []


def test_partial_reps_at_the_clip_edges():
    tl = good_reps(3)
    s = tl.series()
    n = len(s)
    # cut the clip in the middle of rep 1's descent and in the middle of rep 3's descent
    cut = AngleSeries(**{k: np.asarray(v)[int(1.9 * FPS) : int(10.2 * FPS)] for k, v in vars(s).items()})
    assert n > int(10.2 * FPS)
    reps = analyse_reps(cut, SETTINGS)
    assert [r.partial for r in reps] == [True, False, True]
    assert reps[0].end_s is not None  # it came back up inside the clip
    assert reps[-1].end_s is None and reps[-1].end_frame is None and reps[-1].return_s is None


def test_short_gaps_are_bridged_and_long_gaps_cut_the_rep():
    s = good_reps(2).series()
    short = copy_series(s)
    for col in ("hip_flexion_deg", "trunk_inclination_deg", "lumbar_flexion_deg"):
        getattr(short, col)[60:69] = np.nan  # 0.3 s mid-descent
    short.detected[60:69] = False
    assert len(complete(analyse_reps(short, SETTINGS))) == 2
    long = copy_series(s)
    long.detected[55:110] = False  # ~1.8 s: the person left the frame mid-rep
    reps = analyse_reps(long, SETTINGS)
    assert reps[0].partial and reps[0].end_s is None
    assert sum(not r.partial for r in reps) == 1


def test_trunk_inclination_drives_when_hip_flexion_is_not_measured():
    s = good_reps(3).series()
    s.hip_flexion_deg[:] = np.nan
    reps = analyse_reps(s, SETTINGS)
    assert len(complete(reps)) == 3
    assert reps[0].peak_hip_flexion_deg is None


def test_touch_and_go_reps_are_split_at_the_turn():
    tl = Timeline(fps=FPS).stand(1.0)
    for _ in range(3):
        tl.move(1.2, hip=80, knee=15).move(1.0, hip=18, knee=4)  # never back to standing between reps
    tl.move(0.6).stand(1.0)
    reps = analyse_reps(tl.series(), SETTINGS)
    assert len(complete(reps)) == 3
    assert reps[1].start_s == pytest.approx(reps[0].end_s, abs=0.05)


def test_a_calibration_offset_does_not_move_the_reps():
    s = good_reps(3).series()
    s.hip_flexion_deg += 6.0  # standing reads 6° instead of 0
    s.trunk_inclination_deg += 6.0
    reps = analyse_reps(s, SETTINGS)
    ref = analyse_reps(good_reps(3).series(), SETTINGS)
    assert len(reps) == 3
    assert [r.start_frame for r in reps] == pytest.approx([r.start_frame for r in ref], abs=2)
    assert [r.end_frame for r in reps] == pytest.approx([r.end_frame for r in ref], abs=2)


def test_streaming_events_come_in_order_and_match_offline():
    tl = Timeline(fps=FPS).stand(1.0).rep(1.5, 0.3, 1.0, hip=35, lumbar=30, knee=12).stand(1.0)
    s = tl.series()
    tracker = RepTracker.from_settings(SETTINGS)
    stream: list[tuple[int, object]] = []
    for frame in s:
        stream += [(frame.index, e) for e in tracker.update(frame)]
    stream += [(len(s), e) for e in tracker.finish()]
    kinds = [type(e) for _, e in stream]
    assert kinds == [RepStarted, FaultFound, RepBottom, RepCompleted]
    at = {type(e): i for i, e in stream}
    bottom_frame = int(2.5 * FPS)
    assert at[FaultFound] < bottom_frame  # the cue can be shown during the descent, not after the rep
    rep = stream[-1][1].rep
    offline = analyse_reps(s, SETTINGS)
    assert [r.to_dict() for r in offline] == [rep.to_dict()]
    assert stream[1][1].fault.code == "spinal_flexion_takeover"


def test_phase_for_live_display():
    tracker = RepTracker.from_settings(SETTINGS)
    s = good_reps(1).series()
    phases = []
    for frame in s:
        tracker.update(frame)
        phases.append(tracker.phase)
    assert phases[0] == "standing"
    assert phases[int(2.0 * FPS)] == "descent"
    assert phases[int(3.3 * FPS)] == "return"
    assert "lockout" in phases and phases[-1] == "standing"


def test_undetected_frames_are_ignored_even_with_stale_angles():
    tracker = RepTracker.from_settings(SETTINGS)
    events = []
    for i in range(60):
        events += tracker.update(FrameAngles(i, i / FPS, detected=False, hip_flexion_deg=70.0))
    assert events == [] and tracker.finish() == []


def test_config_overrides_reach_the_tracker(tmp_path):
    cfg = tmp_path / "strict.toml"
    cfg.write_text("[reps]\nmin_depth_deg = 90.0\n")
    assert analyse_reps(good_reps(3).series(), load_settings(cfg)) == []


# --- the samples' ground truth (devset format), rendered into the repo for tests ---------------------------


def read_gt(path: Path) -> AngleSeries:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    s = AngleSeries.empty(np.array([int(r["frame"]) for r in rows]), np.array([float(r["time_s"]) for r in rows]))
    s.detected[:] = True
    for col in ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg", "trunk_inclination_deg"):
        setattr(s, col, np.array([float(r[col]) for r in rows]))
    for col in ("knee_flexion_deg", "thoracic_flexion_deg", "thigh_inclination_deg"):
        if col in rows[0]:
            setattr(s, col, np.array([float(r[col]) for r in rows]))
    return s


SAMPLE_GT = sorted(SAMPLES.glob("*_gt.csv"))


@pytest.mark.skipif(not SAMPLE_GT, reason="samples/ has no ground truth yet")
@pytest.mark.parametrize("gt_path", SAMPLE_GT, ids=lambda p: p.name)
def test_samples_ground_truth_reps_and_faults(gt_path: Path):
    labels = json.loads(gt_path.with_name(gt_path.name.replace("_gt.csv", "_reps.json")).read_text())["reps"]
    series = read_gt(gt_path)
    reps = analyse_reps(series, SETTINGS)
    assert len(reps) == len(labels) and not any(r.partial for r in reps)
    for rep, lab in zip(reps, labels, strict=True):
        assert abs(rep.start_s - lab["start_s"]) < 0.3 and abs(rep.end_s - lab["end_s"]) < 0.4
        assert sorted(rep.fault_codes) == sorted(lab["labels"]), f"rep {lab['index']} ({lab['type']})"
    # the same with measurement noise, smoothed as offline, and fed raw as a worst case for live
    noisy = add_measurement_noise(series, np.random.default_rng(3))
    assert [sorted(r.fault_codes) for r in analyse_reps(smooth(noisy), SETTINGS)] == [
        sorted(lab["labels"]) for lab in labels
    ]
    assert len(complete(track(noisy, RepTracker.from_settings(SETTINGS)))) == len(labels)


def test_one_noisy_first_sample_does_not_lock_the_standing_baseline():
    # e.g. a live smoother starting on a noisy sample: the rep's start must still be placed at the last standing frame
    tl = Timeline(fps=30.0).stand(1.5).rep(1.2, 0.3, 1.0, hip=70, lumbar=3, knee=12).stand(1.0)
    clean_start = track(tl.series(), RepTracker())[0].start_frame
    s = tl.series()
    hip = np.asarray(s.hip_flexion_deg, float).copy()
    hip[2:40] += np.where(np.arange(2, 40) % 2, 0.6, -0.6)  # standing sway ±0.6°
    hip[:2] = (-5.0, -2.7)  # a smoother settling from a noisy first sample (as seen on devset dev_08, live)
    s.hip_flexion_deg = hip
    reps = track(s, RepTracker())
    assert len(reps) == 1 and abs(reps[0].start_frame - clean_start) <= 2


@pytest.mark.skipif(not (SAMPLES / "hinge_good_stoop_gt.csv").is_file(), reason="samples/ has no ground truth yet")
def test_a_pose_glitch_mid_rep_does_not_split_it():
    # A landmark jumping off the hip and back for ~0.4 s (seen with a low, wide camera: hip and trunk read
    # ±30–40° in a frame), smoothed as offline: the rep bridges it like a short gap instead of splitting
    gt = SAMPLES / "hinge_good_stoop_gt.csv"
    labels = json.loads(gt.with_name("hinge_good_stoop_reps.json").read_text())["reps"]
    s = read_gt(gt)
    jumps = np.array([40, 40, 40, 40, -30, -30, -30, 40, 40, 40, 40], float)
    for lab in labels:
        k = int(round(lab["return_start_s"] * FPS))
        for col in ("hip_flexion_deg", "trunk_inclination_deg"):
            getattr(s, col)[k : k + len(jumps)] += jumps
    glitched = smooth(s)
    reps = analyse_reps(glitched, SETTINGS)
    assert len(reps) == len(labels) and not any(r.partial for r in reps)
    for rep, lab in zip(reps, labels, strict=True):
        assert abs(rep.start_s - lab["start_s"]) < 0.3 and abs(rep.end_s - lab["end_s"]) < 0.4
        assert sorted(rep.fault_codes) == sorted(lab["labels"])
    # without the speed limit the glitch makes phantom reps (the case this guards)
    no_limit = replace(SETTINGS.reps, max_drive_speed_deg_s=1e9)
    assert len(track(glitched, RepTracker(no_limit, SETTINGS.faults))) > len(labels)


# --- lifts that start at the bottom (a deadlift from the floor): pull first, then lower ---------------------------

FLOOR = dict(hip=90, lumbar=4, knee=40)


def test_a_single_pull_from_the_floor_is_one_whole_rep():
    tl = Timeline.from_bottom(**FLOOR).hold(0.6).move(1.2).hold(0.8).move(1.3, **FLOOR).hold(0.6)
    reps = analyse_reps(tl.series(), SETTINGS)
    assert len(reps) == 1
    rep = reps[0]
    assert rep.start_position == "bottom" and not rep.partial and rep.faults == []
    assert rep.return_start_s == pytest.approx(0.6, abs=0.25)  # the pull began after the set-up
    # phase bands trim the slow ends of each move (as for a rep from standing)
    assert 0.8 < rep.return_s < 1.3 and 0.8 < rep.descent_s < 1.4
    assert rep.end_s == pytest.approx(3.9, abs=0.35)  # back at the floor


def test_touch_and_go_pulls_from_the_floor_are_counted_one_each():
    tl = Timeline.from_bottom(**FLOOR).hold(0.4)
    for _ in range(3):
        tl.move(1.0).hold(0.3).move(1.0, **FLOOR).hold(0.1)
    reps = analyse_reps(tl.series(), SETTINGS)
    assert [(r.start_position, r.partial) for r in reps] == [("bottom", False)] * 3
    assert all(a.end_frame == b.start_frame for a, b in zip(reps, reps[1:], strict=False))  # the bottom is shared


def test_a_rounded_pull_from_the_floor_is_a_takeover_and_a_low_back_start_is_found():
    rounded = Timeline.from_bottom(hip=60, lumbar=35, knee=40).hold(0.5).move(1.2).hold(0.6).move(1.2, **FLOOR)
    assert [r.fault_codes for r in analyse_reps(rounded.series(), SETTINGS)] == [["spinal_flexion_takeover"]]
    # the pull starts (the hips rise 8°), then the low back arches 14° while the hips wait: the low back led
    arch_first = Timeline.from_bottom(**FLOOR).hold(0.5).move(0.3, hip=82, lumbar=4, knee=38)
    arch_first.move(0.4, hip=81, lumbar=-10, knee=38).move(1.0).hold(0.6).move(1.2, **FLOOR)
    assert "extension_from_low_back" in analyse_reps(arch_first.series(), SETTINGS)[0].fault_codes
    # setting the back at the bar before the pull (chest up, the hips not moving yet) is the set-up, not a fault
    set_up = Timeline.from_bottom(**FLOOR).hold(0.5).move(0.4, hip=89.5, lumbar=-12, knee=40).hold(0.3)
    set_up.move(1.0).hold(0.6).move(1.2, **FLOOR)
    assert "extension_from_low_back" not in analyse_reps(set_up.series(), SETTINGS)[0].fault_codes


def test_a_rep_the_clip_cuts_before_it_comes_back_up_is_counted_but_not_judged():
    """The last bend of a set is often the set-down (TBY66 puts the bell down after every set): unfinished, it is
    counted as a partial rep without verdicts; the same stoop coming back up is judged."""
    set_down = Timeline().stand(1.0).move(1.6, hip=32, lumbar=38, knee=10).hold(0.5).series()
    reps = analyse_reps(set_down, SETTINGS)
    assert [(r.partial, r.fault_codes) for r in reps] == [(True, [])]
    whole = Timeline().stand(1.0).move(1.6, hip=32, lumbar=38, knee=10).hold(0.5).move(1.2).stand(1.0).series()
    assert [r.fault_codes for r in analyse_reps(whole, SETTINGS)] == [["spinal_flexion_takeover"]]


def _hip_dip_with_trunk(trunk_deg: float) -> AngleSeries:
    """The hip drive dips 30° and back while the trunk inclines only ``trunk_deg`` (the pelvis tilt cancelled)."""
    tl = Timeline(fps=FPS).stand(1.0)
    tl.rep(0.8, 0.3, 0.8, hip=30, trunk_extra=trunk_deg - 30).stand(1.0)
    return tl.series()


def test_a_drive_that_dips_without_the_trunk_is_no_rep():
    # an outline glitch moves the hip drive alone (a real clip: outline hip 28°, trunk 2°); every hinge inclines the
    # trunk, so a candidate becomes a rep only once the trunk has inclined min_trunk_deg (10°) as well
    assert len(analyse_reps(_hip_dip_with_trunk(11.0), SETTINGS)) == 1
    assert analyse_reps(_hip_dip_with_trunk(9.0), SETTINGS) == []
    assert analyse_reps(_hip_dip_with_trunk(0.0), SETTINGS) == []
