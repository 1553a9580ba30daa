"""The pipeline when it cannot see everything: black bars cropped, an edited clip analysed per shot, verdicts
withheld end to end (summary.json, report.html). Made from the sample clips; no real footage."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from hingecheck.core.settings import Settings
from hingecheck.io.video import VideoReader, VideoWriter
from hingecheck.pipeline import AnalyzeOptions, analyze

BAR = 120  # px of black on each side: a 640×480 clip becomes 880×480, pillar-boxed like a phone clip


def _write(path: Path, sources: list[Path], pad_x: int = 0) -> Path:
    """Decode ``sources`` one after the other into one H.264 clip (a cut between them), padded with black bars."""
    t0 = 0.0
    writer = None
    for src in sources:
        with VideoReader(src) as reader:
            last = 0.0
            for frame in reader:
                rgb = frame.rgb
                if pad_x:
                    rgb = np.pad(rgb, ((0, 0), (pad_x, pad_x), (0, 0)))
                if writer is None:
                    writer = VideoWriter(path, rgb.shape[1], rgb.shape[0], reader.info.fps)
                writer.write(rgb, t0 + frame.time_s)
                last = frame.time_s
            t0 += last + 1.0 / reader.info.fps
    assert writer is not None
    writer.close()
    return path


def _labels(sample: Path) -> list[dict]:
    return json.loads(sample.with_name(sample.stem + "_reps.json").read_text())["reps"]


@pytest.fixture(scope="module")
def cut_clip_result(sample_good_stoop, sample_lowback, tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("cut") / "two_shots.mp4", [sample_good_stoop, sample_lowback])
    return analyze(path, AnalyzeOptions(write_video=False))


def test_an_edited_clip_is_analysed_per_shot(cut_clip_result, sample_good_stoop, sample_lowback):
    result = cut_clip_result
    assert result.ok
    assert len(result.shots) == 2
    cut_s = result.shots[1]["start_s"]
    assert cut_s == pytest.approx(290 / 30, abs=0.05)  # the good/stoop sample has 290 frames at 30 fps
    assert all(s["calibration_found"] for s in result.shots)  # each shot its own standing reference
    assert [s["facing"] for s in result.shots] == ["left", "right"]  # the samples face opposite ways
    complete = [r for r in result.reps if not r.partial]
    assert len(complete) == len(_labels(sample_good_stoop)) + len(_labels(sample_lowback)) == 6
    for rep in result.reps:  # no rep spans the cut
        assert (rep.end_s or rep.start_s) < cut_s or rep.start_s >= cut_s
    assert [r.index for r in result.reps] == list(range(1, len(result.reps) + 1))
    assert "edited_clip" in {w.code for w in result.warnings}
    assert "1 cut;" in next(w.message for w in result.warnings if w.code == "edited_clip")
    assert result.verdicts_withheld == {}  # two side views: everything can be judged
    assert len(result.angles) == len(result.poses)  # the shots' angles end to end, one per frame


@pytest.fixture(scope="module")
def barred_turned(sample_lockout_squat, tmp_path_factory):
    """The lockout/squat sample pillar-boxed, analysed as if the camera were turned (yaw limit 0°), written out."""
    path = _write(tmp_path_factory.mktemp("bars") / "pillarboxed.mp4", [sample_lockout_squat], pad_x=BAR)
    base = Settings()
    settings = dataclasses.replace(
        base, quality=dataclasses.replace(base.quality, max_yaw_lumbar_deg=0.0, max_yaw_knee_deg=90.0)
    )
    result = analyze(path, AnalyzeOptions(write_video=False), settings=settings)
    out = tmp_path_factory.mktemp("bars_out")
    result.save(out)
    return result, out


def test_black_bars_are_cropped_and_landmarks_stay_in_full_frame_pixels(barred_turned, sample_lockout_squat):
    result, out = barred_turned
    assert result.ok and result.picture_area == {"x0": BAR, "y0": 0, "x1": BAR + 640, "y1": 480}
    assert result.video.width == 640 + 2 * BAR
    xs = np.concatenate([p.landmarks_px[:, 0] for p in result.poses if p.detected])
    assert xs.min() > BAR - 20 and xs.max() < BAR + 640 + 20  # the person is in the picture, in full-frame pixels
    assert result.detection_rate > 0.95
    summary = json.loads((out / "summary.json").read_text())
    assert summary["video"]["picture_area"] == result.picture_area
    assert len([r for r in result.reps if not r.partial]) == len(_labels(sample_lockout_squat)) == 4


def test_withheld_verdicts_end_to_end(barred_turned):
    result, out = barred_turned
    lumbar = {"spinal_flexion_takeover", "extension_from_low_back"}
    assert lumbar <= set(result.verdicts_withheld)
    assert "knee_dominant" not in result.verdicts_withheld
    codes = {c for r in result.reps for c in r.fault_codes}
    assert not codes & lumbar
    assert "knee_dominant" in codes  # the squat is still judged: its rule does not need the back's outline
    assert all(r.peak_lumbar_flexion_deg is None and r.hinge_capacity_deg is None for r in result.reps)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["verdicts_withheld"]) == set(result.verdicts_withheld)
    assert summary["n_reps"] == 4  # reps are still counted
    assert summary["shots"][0]["verdicts_withheld"] == summary["verdicts_withheld"]
    html = (out / "report.html").read_text()
    assert "Not judged in this video" in html and "from side-on" in html


def _cards_around(sample: Path, path: Path, before_s: float, after_s: float) -> Path:
    """``sample`` between plain title cards (no person), as a coaching channel edits its clips."""
    with VideoReader(sample) as reader:
        frames = [(f.rgb, f.time_s) for f in reader]
        fps = reader.info.fps
    card = np.full_like(frames[0][0], 200)
    n_before, n_after = round(before_s * fps), round(after_s * fps)
    writer = VideoWriter(path, card.shape[1], card.shape[0], fps)
    for i in range(n_before):
        writer.write(card, i / fps)
    for rgb, t in frames:
        writer.write(rgb, n_before / fps + t)
    end = n_before / fps + frames[-1][1]
    for i in range(1, n_after + 1):
        writer.write(card, end + i / fps)
    writer.close()
    return path


def test_a_lift_between_title_cards_is_analysed(sample_lowback, tmp_path):
    """The person is on 37 % of the frames, but throughout 10.5 s of them: that is a lift to analyse (the reps of
    the sample, its verdicts), with the warning that the person was not always found."""
    path = _cards_around(sample_lowback, tmp_path / "cards.mp4", before_s=6.0, after_s=12.0)
    result = analyze(path, AnalyzeOptions(write_video=False))
    assert result.ok, result.message
    assert 0.3 < result.detection_rate < 0.4
    assert "person_not_always_found" in {w.code for w in result.warnings}
    assert [sorted(r.fault_codes) for r in result.reps] == [sorted(r["labels"]) for r in _labels(sample_lowback)]


def test_a_person_seen_only_in_glimpses_is_too_little():
    """Found on a third of the frames but never for MIN_FOUND_STRETCH_S at a time, or on no frame: not analysed."""
    from hingecheck.core.types import PoseFrame
    from hingecheck.pipeline import too_little_person

    def poses(found: list[bool]) -> list[PoseFrame]:
        return [PoseFrame(i, i / 30, 640, 480, f) for i, f in enumerate(found)]

    glimpses = poses([i % 3 == 0 for i in range(900)])
    assert too_little_person(glimpses) == (
        "a person was found in only 33% of the frames, at most 0.0 s at a time: too little to analyse"
    )
    assert too_little_person(poses([False] * 90), "session") == "no person was found in the session"
    for stretch_frames, enough in ((88, False), (92, True)):  # 2.9 s and 3.0 s of 10 s
        assert (too_little_person(poses([i < stretch_frames for i in range(300)])) is None) == enough
    assert too_little_person(poses([i % 2 == 0 for i in range(300)])) is None  # half the frames: enough


def _far_away(sample: Path, path: Path, scale: float) -> Path:
    """``sample`` shrunk into a 1280×720 picture with a mottled grey wall around it: a lifter filmed from across the
    room (about a third of the picture's height)."""
    from PIL import Image

    wall = np.random.default_rng(0).integers(110, 150, (720 // 16, 1280 // 16, 3), dtype=np.uint8)
    wall = wall.repeat(16, axis=0).repeat(16, axis=1)
    with VideoReader(sample) as reader:
        writer = VideoWriter(path, 1280, 720, reader.info.fps)
        for frame in reader:
            small = Image.fromarray(frame.rgb)
            small = np.asarray(small.resize((round(small.width * scale), round(small.height * scale))))
            canvas = wall.copy()
            canvas[60 : 60 + small.shape[0], 500 : 500 + small.shape[1]] = small
            writer.write(canvas, frame.time_s)
    writer.close()
    return path


def test_a_small_person_is_looked_for_again_in_a_crop_around_them(sample_lowback, tmp_path):
    """MediaPipe misses a small person on some frames of the whole picture; in a crop around where they were found
    it finds them on every frame, and the sample's verdicts come out (with the advice to film closer)."""
    path = _far_away(sample_lowback, tmp_path / "far.mp4", 0.8)
    base = Settings()
    one_look = dataclasses.replace(base, quality=dataclasses.replace(base.quality, zoom_below_detection=0.0))
    whole = analyze(path, AnalyzeOptions(write_video=False), settings=one_look)
    assert whole.zoom_area is None and whole.detection_rate < base.quality.zoom_below_detection
    result = analyze(path, AnalyzeOptions(write_video=False))
    assert result.ok, result.message
    area = result.zoom_area
    assert area is not None and area["x0"] >= 500 - 60 and area["y1"] <= 60 + 400 + 40  # around the person
    assert result.detection_rate >= 0.99 and result.detection_rate > whole.detection_rate
    small = next(w for w in result.warnings if w.code == "person_small")
    share = int(re.search(r"about (\d+)% of the picture's height", small.message).group(1))
    assert 27 <= share <= 35  # the person's share (31 %), not the padded crop's (53 %)
    assert [sorted(r.fault_codes) for r in result.reps] == [sorted(r["labels"]) for r in _labels(sample_lowback)]
    result.save(tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["video"]["zoom_area"] == area and summary["video"]["picture_area"] is None


def test_a_person_nobody_finds_in_the_whole_picture_is_found_in_its_tiles(sample_lowback, tmp_path):
    """Shrunk to a fifth of the picture's height, the lifter is found on no frame of the whole picture: looked for
    in its tiles, then in a crop around them, they are found on every frame and the sample's verdicts come out."""
    path = _far_away(sample_lowback, tmp_path / "farther.mp4", 0.5)
    base = Settings()
    no_search = dataclasses.replace(
        base, quality=dataclasses.replace(base.quality, zoom_search_min_found=base.quality.zoom_search_frames + 1)
    )
    assert analyze(path, AnalyzeOptions(write_video=False), settings=no_search).status == "no_person"
    result = analyze(path, AnalyzeOptions(write_video=False))
    assert result.ok and result.detection_rate >= 0.99 and result.zoom_area is not None
    assert [sorted(r.fault_codes) for r in result.reps] == [sorted(r["labels"]) for r in _labels(sample_lowback)]
    assert "person_too_small" not in {w.code for w in result.warnings}
    # a back this small (hip to shoulder ~42 px) is read; one under [quality] min_trunk_px is not: the reps are
    # counted and the lumbar verdicts withheld, with the reason, rather than guessed
    small = dataclasses.replace(base, quality=dataclasses.replace(base.quality, min_trunk_px=60.0))
    withheld = analyze(path, AnalyzeOptions(write_video=False), settings=small)
    assert len(withheld.reps) == len(result.reps) and not any(r.fault_codes for r in withheld.reps)
    assert "person_too_small" in {w.code for w in withheld.warnings}
    assert set(withheld.verdicts_withheld) == {"spinal_flexion_takeover", "extension_from_low_back"}
    assert all(r.peak_lumbar_flexion_deg is None for r in withheld.reps)
