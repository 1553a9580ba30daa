"""The live session's parts that need no camera or model: cues (once per fault) and latency bookkeeping."""

from __future__ import annotations

import pytest

from hingecheck.core.settings import LiveConfig
from hingecheck.core.types import Fault, Rep
from hingecheck.live.feedback import SessionFeedback
from hingecheck.live.stats import LatencyBook, LiveStats


class FakePlayer:
    """Records what would be played."""

    def __init__(self) -> None:
        self.played: list[tuple[str, object]] = []

    def beep(self, freq_hz: float, duration_s: float, beeps: int = 1) -> None:
        self.played.append(("beep", freq_hz))

    def say(self, text: str) -> None:
        self.played.append(("say", text))


def fault(code: str = "spinal_flexion_takeover", cue: str = "Hinge from the hips.") -> Fault:
    return Fault(code=code, time_s=1.0, frame=30, message="low back took over", cue=cue)


def rep(index: int, faults: list[Fault], partial: bool = False) -> Rep:
    return Rep(
        index=index, start_s=0.0, bottom_s=1.0, end_s=2.0, start_frame=0, bottom_frame=30, end_frame=60,
        partial=partial, faults=faults,
    )  # fmt: skip


@pytest.fixture
def feedback():
    lines: list[str] = []
    player = FakePlayer()
    return SessionFeedback(LiveConfig(), player, lines.append), player, lines


def test_a_fault_cued_mid_rep_is_not_cued_again_when_its_rep_ends(feedback):
    fb, player, lines = feedback
    fb.announced_faults.add((1, "spinal_flexion_takeover"))
    fb.flag_fault(fault())
    n_cues = len(player.played)
    fb.finish_rep(rep(1, [fault()]))
    assert player.played[n_cues:] == [], "the fault was already cued while the rep was going"
    assert lines and lines[-1].startswith("rep 1: low back took over")
    assert fb.hud["verdict_fault"] is True and fb.hud["cue"] == "Hinge from the hips."


def test_a_fresh_fault_at_the_rep_end_is_cued_and_a_clean_rep_gets_the_good_tone(feedback):
    fb, player, _ = feedback
    fb.finish_rep(rep(1, [fault(cue="Push the hips back.")]))
    assert ("say", "Push the hips back.") in player.played
    player.played.clear()
    fb.finish_rep(rep(2, []))
    assert player.played == [("beep", LiveConfig().tone_hz_good)]


def test_pause_and_recalibration_are_said_and_shown(feedback):
    fb, _, lines = feedback
    fb.paused(True)
    assert fb.hud["paused"] and lines[-1] == "paused: press space to go on"
    fb.paused(False)
    assert not fb.hud["paused"] and lines[-1] == "going on"
    fb.was_calibrated = True
    fb.recalibrating([rep(3, [], partial=True)])
    assert not fb.was_calibrated and lines[-2].endswith("(cut off)") and lines[-1].startswith("recalibrating")


def test_latency_book_fills_the_stats():
    book = LatencyBook()
    t0 = book.t_start
    for i in range(11):  # 10 frames a second, each done 50 ms after capture, 30 ms of it pose inference
        captured = t0 + 0.1 * i
        book.frame_done(captured, captured + 0.01, captured + 0.04, captured + 0.05)
    stats = LiveStats()
    book.fill(stats, frames_processed=11)
    assert stats.fps == pytest.approx(10 / (1.0 + 0.05))
    assert stats.latency_ms_p50 == pytest.approx(50.0) and stats.latency_ms_max == pytest.approx(50.0)
    assert stats.pose_ms_p50 == pytest.approx(30.0) and stats.rest_ms_p95 == pytest.approx(10.0)
    assert book.perf_text().endswith("50 ms")
