"""Live mode: the latest-frame mailbox, framing checks, sound fallback, and a real session on a sample clip.

The session runs ``live --source`` at the clip's real pace (headless, recording) once per test session and is
checked against ``analyze`` on the same clip: same reps, same fault codes, times within 2 frames when the
machine kept up. ``--every-frame`` sessions on both samples check the same within 2 frames on any machine.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hingecheck.core.framing import check_framing
from hingecheck.core.types import LEFT_HIP, LEFT_SHOULDER, RIGHT_HIP, RIGHT_SHOULDER, Rep
from hingecheck.io.config import load_settings
from hingecheck.io.video import VideoReader
from hingecheck.live.audio import SAMPLE_RATE_HZ, CuePlayer, tone
from hingecheck.live.capture import CapturedFrame, LatestFrameSlot
from hingecheck.live.compare import compare_reps
from hingecheck.live.session import LiveOptions, LiveSession

REPO = Path(__file__).resolve().parents[2]
STATS_KEYS = ("frames_captured", "frames_processed", "frames_dropped", "fps", "latency_ms_p50", "latency_ms_p95")


@pytest.fixture(scope="session")
def live_good_stoop(sample_good_stoop, tmp_path_factory):
    """(out_dir, SessionOutcome) of ``live --source sample --no-window --record OUT``, at the clip's real pace."""
    out = tmp_path_factory.mktemp("live_good_stoop")
    options = LiveOptions(source=str(sample_good_stoop), window=False, record_dir=out, quiet=True)
    outcome = LiveSession(options, say=lambda text: None).run()
    return out, outcome


@pytest.fixture(scope="session", params=["good_stoop", "lowback"])
def live_every_frame(request, tmp_path_factory):
    """(SessionOutcome, analyze's (out, result)) of ``live --source sample --every-frame`` on each sample."""
    sample = request.getfixturevalue(f"sample_{request.param}")
    offline = request.getfixturevalue(f"analysed_{request.param}")
    options = LiveOptions(source=str(sample), window=False, quiet=True, every_frame=True)
    return LiveSession(options, say=lambda text: None).run(), offline


# --- the mailbox ---


def _frame(i: int) -> CapturedFrame:
    return CapturedFrame(i, i / 30.0, time.perf_counter(), np.zeros((4, 4, 3), np.uint8))


def test_slot_hands_over_only_the_newest_frame_and_counts_the_stale_ones():
    slot = LatestFrameSlot()
    for i in range(5):
        slot.put(_frame(i))
    assert slot.take(0.1).capture_index == 4  # a busy consumer gets the newest, never a backlog
    assert slot.frames_dropped == 4 and slot.frames_put == 5
    assert slot.take(0.01) is None  # nothing waits behind it
    slot.close()
    assert slot.finished


def _consume_slowly(slot: LatestFrameSlot, produce, seconds_per_frame: float) -> list[int]:
    """Run ``produce`` in a thread and take frames from ``slot`` until it is finished; the indices taken."""
    producer = threading.Thread(target=produce)
    producer.start()
    taken = []
    while not slot.finished:
        f = slot.take(0.05)
        if f is not None:
            taken.append(f.capture_index)
            time.sleep(seconds_per_frame)
    producer.join()
    return taken


def test_slot_with_a_slow_consumer_never_goes_backwards_and_accounts_for_every_frame():
    slot = LatestFrameSlot()

    def produce():
        for i in range(200):
            slot.put(_frame(i))
            time.sleep(0.001)
        slot.close()

    taken = _consume_slowly(slot, produce, 0.004)  # slower than the producer: frames dropped, not queued
    assert taken == sorted(set(taken)) and taken[-1] == 199
    assert len(taken) + slot.frames_dropped == 200
    assert slot.frames_dropped > 0


def test_slot_in_lock_step_hands_over_every_frame_to_a_slow_consumer():
    slot, stop = LatestFrameSlot(), threading.Event()

    def produce():  # what VideoFileSource does with every_frame: wait for the slot to empty, then put
        for i in range(60):
            slot.wait_taken(stop)
            slot.put(_frame(i))
        slot.close()

    taken = _consume_slowly(slot, produce, 0.003)  # slower than the producer
    assert taken == list(range(60)) and slot.frames_dropped == 0


# --- framing ---


def test_framing_accepts_the_sample_and_names_what_is_wrong_otherwise(live_good_stoop):
    _, outcome = live_good_stoop
    cfg = load_settings().live
    poses = [p for p in outcome.result.poses if p.detected]
    assert np.mean([check_framing(p, cfg).ok for p in poses]) > 0.95

    standing = poses[5]
    cut = standing.without_mask()
    cut.landmarks_px = standing.landmarks_px + np.array([0.0, 0.35 * standing.height])  # feet below the picture
    assert check_framing(cut, cfg).problem.startswith("feet are cut off")

    face_on = standing.without_mask()
    px = standing.landmarks_px.copy()
    trunk = np.linalg.norm(px[[LEFT_SHOULDER, RIGHT_SHOULDER]].mean(0) - px[[LEFT_HIP, RIGHT_HIP]].mean(0))
    for left, right in ((LEFT_SHOULDER, RIGHT_SHOULDER), (LEFT_HIP, RIGHT_HIP)):  # shoulders/hips side by side
        mid = 0.5 * (px[left, 0] + px[right, 0])
        px[left, 0], px[right, 0] = mid + 0.35 * trunk, mid - 0.35 * trunk
    face_on.landmarks_px = px
    check = check_framing(face_on, cfg)
    assert check.whole_body and not check.side_on and "side-on" in check.problem


# --- sound ---


def test_tone_is_short_soft_edged_and_bounded():
    beep = tone(880.0, 0.1, beeps=2)
    assert len(beep) == int(0.1 * SAMPLE_RATE_HZ) * 2 + int(0.1 * SAMPLE_RATE_HZ) // 2
    assert np.abs(beep).max() <= 0.3 + 1e-6
    assert abs(beep[0]) < 0.01 and abs(beep[-1]) < 0.01  # faded: no click


def test_missing_sound_gives_one_note_not_one_per_cue():
    notes: list[str] = []
    player = CuePlayer(note=notes.append)
    for _ in range(3):
        player.beep(440.0, 0.05)
        player.say("Push your hips back.")
    player.close()
    if player.can_play:
        pytest.skip("this machine has sound output and espeak-ng")
    assert len(notes) == 1 and notes[0].startswith("sound:")
    quiet = CuePlayer(quiet=True, note=notes.append)
    assert not quiet.can_play and quiet.notes == []


# --- a real session ---


def test_live_session_stats_meet_the_contract(live_good_stoop, sample_good_stoop):
    out, outcome = live_good_stoop
    stats = json.loads((out / "live_stats.json").read_text())
    for key in STATS_KEYS:
        assert key in stats
    expected = json.loads(sample_good_stoop.with_name("hinge_good_stoop_reps.json").read_text())["n_frames"]
    assert stats["frames_captured"] == expected  # every frame of the clip was released by the capture thread
    assert stats["frames_processed"] + stats["frames_dropped"] == stats["frames_captured"]
    assert 0 < stats["latency_ms_p50"] <= stats["latency_ms_p95"]
    assert stats["fps"] > 10


def test_live_record_writes_the_analyze_outputs_for_exactly_the_processed_frames(live_good_stoop):
    out, outcome = live_good_stoop
    n = outcome.stats.frames_processed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["frames"] == n
    for name in ("annotated.mp4", "frames.csv", "reps.csv", "summary.json"):
        assert (out / name).is_file(), name
    with (out / "frames.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n
    assert [int(r["frame"]) for r in rows] == list(range(n))
    times = [float(r["time_s"]) for r in rows]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert sum(r["hip_flexion_deg"] != "" for r in rows) > 0.9 * n  # calibrated frames, replayed ones included
    with VideoReader(out / "annotated.mp4") as reader:
        assert sum(1 for _ in reader) == n
    assert len(summary["reps"]) == len(outcome.reps)


def test_live_calibrates_on_the_same_stand_as_analyze(live_good_stoop, analysed_good_stoop):
    _, outcome = live_good_stoop
    _, offline = analysed_good_stoop
    live_cal, off_cal = outcome.result.calibration, offline.calibration
    assert live_cal["found"] and off_cal["found"]
    # live picks analyze's standing frames inside the stretch its still-detector saw: the same frames
    frame_s = 1.0 / offline.video.fps
    assert abs(live_cal["start_s"] - off_cal["start_s"]) < frame_s / 2
    assert abs(live_cal["end_s"] - off_cal["end_s"]) < frame_s / 2


def test_live_finds_the_same_reps_and_faults_as_analyze(live_good_stoop, analysed_good_stoop):
    _, outcome = live_good_stoop
    _, offline = analysed_good_stoop
    assert offline.reps, "analyze found no reps on the sample"
    cmp = compare_reps(offline.reps, outcome.reps)
    assert cmp.problems == []  # same number of reps, same fault codes, rep by rep
    fps = offline.video.fps
    if outcome.stats.dropped_share <= 0.02:  # the live budget was met
        # the same poses (num_poses = 1 in both), the same stand, the same arm-free zero and the same streaming
        # RepTracker; only the smoothing differs (causal one-euro vs zero-phase Savitzky-Golay). A frame live
        # dropped can move a boundary by itself (seen: 2 frames dropped, a start 3 frames off), never more.
        dropped = outcome.stats.frames_dropped
        assert cmp.max_time_diff_s <= (2.0 + dropped) / fps + 1e-6, (cmp.worst, dropped)
    else:  # an overloaded machine dropped frames (seen: 34-54% at load 10 on 2 cores): boundaries move by a
        # few processed frames, never by a phase (descents last >= 0.8 s, reps ~3 s) ...
        def bare(reps: list[Rep]) -> list[Rep]:
            return [dataclasses.replace(r, faults=[]) for r in reps]

        boundaries = compare_reps(bare(offline.reps), bare(outcome.reps))
        assert boundaries.max_time_diff_s <= 0.5, boundaries.worst
        # ... and a fault's time, a threshold crossing of an averaged, slowly rising angle, by under a second (seen:
        # a takeover 0.63 s late with frames dropped during the descent)
        assert cmp.max_time_diff_s <= 1.0, cmp.worst


def test_live_every_frame_matches_analyze_within_two_frames(live_every_frame):
    """Whatever the machine's speed: handed every frame, live finds analyze's reps and faults, times within 2
    frames (the only difference left is the causal one-euro smoothing against analyze's zero-phase filter)."""
    outcome, (_, offline) = live_every_frame
    assert outcome.stats.frames_dropped == 0
    assert outcome.stats.frames_processed == len(offline.angles)
    assert offline.reps and any(r.faults for r in offline.reps)
    cmp = compare_reps(offline.reps, outcome.reps)
    assert cmp.problems == []
    assert cmp.max_time_diff_s <= 2.0 / offline.video.fps + 1e-6, cmp.worst


# --- command line ---


def _run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hingecheck.cli.main", "live", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def test_no_camera_is_one_clear_line_and_a_failure_status():
    proc = _run_cli("--camera", "99", "--no-window", "--quiet")
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "no camera could be opened" in lines[0] and "camera 99" in lines[0] and "tried" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_every_frame_without_a_source_is_one_clear_line():
    proc = _run_cli("--camera", "0", "--every-frame", "--no-window", "--quiet")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--every-frame needs --source" in lines[0], proc.stderr


def test_source_that_is_not_a_video_fails_with_one_line(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video at all\n")
    proc = _run_cli("--source", str(bad), "--no-window", "--quiet")
    assert proc.returncode == 2
    assert "not a video" in proc.stderr and "Traceback" not in proc.stderr


def test_a_record_folder_that_cannot_be_made_fails_with_one_line_before_the_session(sample_lowback, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file where the recording should go")
    for flag, where in (("--record", taken), ("--stats-dir", taken / "stats")):
        proc = _run_cli("--source", str(sample_lowback), flag, str(where), "--no-window", "--quiet")
        assert proc.returncode == 2
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"hingecheck: {where}"), proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout


def test_window_request_without_a_display_runs_headless_with_a_note(sample_lowback, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = _run_cli(
        "--source", str(sample_lowback), "--stats-dir", str(tmp_path), "--max-seconds", "2", "--quiet", env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "no display found" in proc.stderr and "running without a window" in proc.stderr
    stats = json.loads((tmp_path / "live_stats.json").read_text())
    assert stats["frames_processed"] > 10


def test_window_opens_and_runs_under_a_virtual_display(sample_lowback, tmp_path):
    """The real cv2.imshow path (Qt) on Xvfb: PyAV must not be loaded before OpenCV's GUI, or the window hangs."""
    import shutil

    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        if os.environ.get("HINGECHECK_REQUIRE_DISPLAY"):
            pytest.fail("xvfb-run is required here (HINGECHECK_REQUIRE_DISPLAY) but is not installed")
        pytest.skip("xvfb-run not installed (apt-get install xvfb)")
    proc = subprocess.run(
        [xvfb, "-a", sys.executable, "-m", "hingecheck.cli.main", "live", "--source", str(sample_lowback)]
        + ["--stats-dir", str(tmp_path), "--max-seconds", "2", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "running without a window" not in proc.stderr
    assert json.loads((tmp_path / "live_stats.json").read_text())["frames_processed"] > 10


def _x_display() -> tuple[subprocess.Popen, str]:
    """A private Xvfb server and its DISPLAY (``-displayfd`` picks a free number)."""
    import shutil

    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("HINGECHECK_REQUIRE_DISPLAY"):
            pytest.fail("Xvfb is required here (HINGECHECK_REQUIRE_DISPLAY) but is not installed")
        pytest.skip("Xvfb not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not report its display"
    return server, f":{number}"


def _find_window(dpy, title_part: str):
    def walk(window):
        name = window.get_wm_name()
        if isinstance(name, bytes):
            name = name.decode(errors="replace")
        if name and title_part in name:
            return window
        for child in window.query_tree().children:
            found = walk(child)
            if found is not None:
                return found
        return None

    return walk(dpy.screen().root)


def test_keys_pause_recalibrate_and_quit_a_real_window(sample_lowback, tmp_path):
    """Key presses sent through the X server (XTEST) reach the live window: space pauses and resumes, c
    recalibrates, q quits before the clip ends, and the recording is still written."""
    xlib = pytest.importorskip("Xlib")
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    server, display_name = _x_display()
    live = None
    try:
        env = {**os.environ, "DISPLAY": display_name, "QT_QPA_PLATFORM": "xcb"}
        record = tmp_path / "rec"
        live = subprocess.Popen(
            [sys.executable, "-m", "hingecheck.cli.main", "live", "--source", str(sample_lowback), "--quiet"]
            + ["--record", str(record), "--stats-dir", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        dpy = xdisplay.Display(display_name)
        assert xlib.__version__ and dpy.query_extension("XTEST") is not None
        window = None
        deadline = time.monotonic() + 60
        while window is None and time.monotonic() < deadline and live.poll() is None:
            time.sleep(0.2)
            window = _find_window(dpy, "hingecheck live")
        assert window is not None, "the live window never appeared"

        def press(key: str) -> None:
            window.set_input_focus(X.RevertToParent, X.CurrentTime)
            code = dpy.keysym_to_keycode(XK.string_to_keysym(key))
            xtest.fake_input(dpy, X.KeyPress, code)
            xtest.fake_input(dpy, X.KeyRelease, code)
            dpy.sync()

        time.sleep(2.5)  # calibrated on the opening stand by now
        press("space")
        time.sleep(1.5)
        press("space")
        time.sleep(0.5)
        press("c")
        time.sleep(1.0)
        press("q")
        out, err = live.communicate(timeout=60)
    finally:
        if live is not None and live.poll() is None:
            live.kill()
        server.terminate()
        server.wait(10)
    assert live.returncode == 0, err[-2000:]
    assert "paused: press space to go on" in out and "going on" in out
    assert "recalibrating" in out
    stats = json.loads((tmp_path / "live_stats.json").read_text())
    n_frames = json.loads(sample_lowback.with_name("hinge_lowback_reps.json").read_text())["n_frames"]
    assert stats["frames_captured"] < n_frames  # q ended the session before the clip did
    fps = json.loads(sample_lowback.with_name("hinge_lowback_reps.json").read_text())["fps"]
    # the 1.5 s pause held the clip's clock: the session lasted longer than the clip time it played
    assert stats["duration_s"] - stats["frames_captured"] / fps > 1.0, stats
    summary = json.loads((record / "summary.json").read_text())  # quitting still writes the recording
    assert summary["status"] == "ok" and summary["calibration"]["live"]
