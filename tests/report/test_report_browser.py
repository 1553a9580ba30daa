"""report.html in headless Chromium: no console errors, the inline H.264 video plays, clicks seek the video."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from hingecheck.core.types import Fault
from hingecheck.report.html import write_report
from tests.conftest import watched_page

sync_api = pytest.importorskip("playwright.sync_api")

HOSTILE = "<img src=x onerror=alert(1)>"


def open_page(browser, path: Path):
    return watched_page(browser, path.as_uri(), offline=True)


def wait_playable(page) -> dict:
    """readyState ≥ HAVE_CURRENT_DATA, then play() must resolve and time must advance."""
    page.wait_for_function("document.getElementById('annotated').readyState >= 2")
    return page.evaluate(
        """async () => {
            const v = document.getElementById('annotated');
            const t0 = v.currentTime;
            await v.play();
            await new Promise(r => setTimeout(r, 400));
            v.pause();
            return {error: v.error && v.error.code, duration: v.duration, advanced: v.currentTime - t0,
                    h264: v.canPlayType('video/mp4; codecs="avc1.640028"')};
        }"""
    )


def click_and_read_time(page, selector: str, nth: int) -> float:
    page.locator(selector).nth(nth).click()
    page.wait_for_function("!document.getElementById('annotated').seeking")
    return page.evaluate("document.getElementById('annotated').currentTime")


def test_real_report_plays_and_every_seek_target_works(analysed_lowback, browser, tmp_path):
    out, result = analysed_lowback
    page, problems = open_page(browser, out / "report.html")
    state = wait_playable(page)
    assert state["error"] is None, "the video element reports a decode error"
    assert state["h264"] in ("probably", "maybe"), "this chromium cannot play H.264"
    assert state["duration"] == pytest.approx(result.video.duration_s, abs=0.2)
    assert state["advanced"] > 0.1, "play() resolved but the video did not advance"

    targets = page.eval_on_selector_all("button.seek", "els => els.map(e => parseFloat(e.dataset.seek))")
    assert len(targets) >= len(result.reps) >= 1
    for n, target in enumerate(targets):
        assert click_and_read_time(page, "button.seek", n) == pytest.approx(target, abs=0.1)
    # fault buttons carry the faults' times from summary.json
    summary = json.loads((out / "summary.json").read_text())
    fault_times = [f["time_s"] for rep in summary["reps"] for f in rep["faults"]]
    shown = page.eval_on_selector_all("button.fault-seek", "els => els.map(e => parseFloat(e.dataset.seek))")
    assert shown == pytest.approx(fault_times, abs=1e-3)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)  # for a human look on failure
    assert problems == []


def test_clicking_a_fault_moves_the_video_to_it(analysed_lowback, browser, tmp_path):
    """A known fault (with hostile text) on the real run's video: the click must land on its time."""
    out, real = analysed_lowback
    for name in ("annotated.mp4", "plot_angles.png", "plot_rhythm.png"):
        shutil.copy(out / name, tmp_path / name)
    rep = real.reps[-1]
    fault_time = round((rep.start_s + rep.bottom_s) / 2, 3)
    fault = Fault("spinal_flexion_takeover", fault_time, rep.start_frame + 5, f"rounded {HOSTILE}", HOSTILE, {})
    reps = [*real.reps[:-1], dataclasses.replace(rep, faults=[*rep.faults, fault])]
    report = write_report(dataclasses.replace(real, reps=reps), tmp_path)

    page, problems = open_page(browser, report)
    wait_playable(page)
    page.evaluate("document.getElementById('annotated').currentTime = 0.5")
    buttons = page.locator("button.fault-seek")
    n = buttons.count() - 1  # ours is the last fault of the last rep
    assert float(buttons.nth(n).get_attribute("data-seek")) == fault_time
    assert click_and_read_time(page, "button.fault-seek", n) == pytest.approx(fault_time, abs=0.1)
    assert page.evaluate("document.getElementById('annotated').paused")  # it stops on the fault's frame
    # a click anywhere on a rep's row goes to the rep's start
    page.locator("#reps tr.rep").first.locator("td").first.click()
    page.wait_for_function("!document.getElementById('annotated').seeking")
    assert page.evaluate("document.getElementById('annotated').currentTime") == pytest.approx(
        real.reps[0].start_s, abs=0.1
    )
    assert page.get_by_text("rounded <img src=x onerror=alert(1)>").count() >= 1  # shown as text ...
    assert page.locator("img[onerror]").count() == 0  # ... never as an element
    page.screenshot(path=str(tmp_path / "fault.png"), full_page=True)
    assert problems == []
