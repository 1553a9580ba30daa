"""report.html without a browser: verdicts, escaping of hostile names, failed statuses, --no-video, self-containment."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hingecheck.api import analyze_to_dir
from hingecheck.core.types import Fault, Rep, Warning_
from hingecheck.report.html import render_report, verdict, write_report
from hingecheck.result import AnalysisResult

HOSTILE = "<script>alert(1)</script>"  # as a file name the "/" is a folder; the name below avoids it
HOSTILE_NAME = "<img src=x onerror=alert(1)><script>alert(2)<\\script>&amp;.mp4"


class Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def names(self) -> list[str]:
        return [t for t, _ in self.tags]


def takeover_rep(index: int = 3) -> Rep:
    fault = Fault(
        "spinal_flexion_takeover",
        7.4,
        222,
        "low back rounded 24° at 48° of hip flexion",
        "Push your hips back further before your back rounds.",
        {"hip_deg": 48.0},
    )
    return Rep(
        index, 6.8, 7.9, 9.4, 204, 237, 282, return_start_s=8.2, peak_hip_flexion_deg=52.0,
        peak_lumbar_flexion_deg=31.0, lumbar_share=0.55, hinge_capacity_deg=48.0, faults=[fault],
    )  # fmt: skip


def test_verdict_names_the_rep_and_the_hip_angle_where_the_back_took_over(analysed_lowback):
    _, real = analysed_lowback
    result = dataclasses.replace(real, reps=[Rep(1, 1.0, 2.0, 3.0, 30, 60, 90), takeover_rep(3)])
    v = verdict(result)
    assert v.headline == "Rep 3 — your low back took over at 48° of hip flexion"
    assert v.cue == "Push your hips back further before your back rounds." and v.tone == "bad"
    good = dataclasses.replace(real, reps=[Rep(1, 1.0, 2.0, 3.0, 30, 60, 90)])
    assert verdict(good).tone in ("good", "neutral")  # neutral only while the lumbar spine is not measurable
    assert verdict(dataclasses.replace(real, reps=[])).headline == "No hinge reps were found"


def test_report_of_a_real_run_is_self_contained(analysed_lowback):
    out, result = analysed_lowback
    html = (out / "report.html").read_text(encoding="utf-8")
    tags = Tags(html)
    # nothing from the network: every src is a data URI, no stylesheets or scripts from elsewhere
    for tag, attrs in tags.tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:"), (tag, attrs["src"][:60])
        assert tag != "link"
    assert not re.search(r"https?://", html.replace("http://www.w3.org", ""))
    # the video is the annotated.mp4 itself, inline
    source = next(a for t, a in tags.tags if t == "source")
    assert base64.b64decode(source["src"].split(",", 1)[1]) == (out / "annotated.mp4").read_bytes()
    images = [a for t, a in tags.tags if t == "img"]
    assert len(images) == 2 and all(a["alt"] for a in images)
    assert base64.b64decode(images[0]["src"].split(",", 1)[1]) == (out / "plot_angles.png").read_bytes()
    # one table row per rep, with its seek target, and the settings that produced it
    rows = [a for t, a in tags.tags if t == "tr" and "data-seek" in a]
    assert [float(a["data-seek"]) for a in rows] == pytest.approx([r.start_s for r in result.reps], abs=1e-3)
    assert result.settings_hash in html and result.model["sha256"] in html
    assert "hinge_lowback.mp4" in html


def copy_outputs(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("annotated.mp4", "plot_angles.png", "plot_rhythm.png"):
        shutil.copy(src / name, dst / name)
    return dst


def test_hostile_names_and_messages_are_escaped(analysed_lowback, tmp_path):
    out, real = analysed_lowback
    copy = tmp_path / "in" / HOSTILE_NAME
    copy.parent.mkdir()
    shutil.copy(out / "annotated.mp4", copy)  # a real file under the hostile name
    result = dataclasses.replace(
        real,
        video=dataclasses.replace(real.video, path=str(copy)),
        warnings=[Warning_("person_not_always_found", f"hostile {HOSTILE}")],
        config_source=str(tmp_path / f"{HOSTILE_NAME}.toml"),
        reps=[*real.reps, dataclasses.replace(takeover_rep(9), faults=[
            dataclasses.replace(takeover_rep().faults[0], message=HOSTILE, cue=HOSTILE)])],
    )  # fmt: skip
    report = write_report(result, copy_outputs(out, tmp_path / "out"))
    html = report.read_text(encoding="utf-8")
    tags = Tags(html)
    assert tags.names().count("script") == 1  # only the page's own seek script
    assert "img" not in [t for t, a in tags.tags if a.get("onerror")] and not any("onerror" in a for _, a in tags.tags)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE not in html and "<img src=x" not in html


def test_failed_status_gets_a_plain_report(tmp_path):
    bad = tmp_path / f"{HOSTILE_NAME}"
    bad.write_text("this is not a video")
    out = tmp_path / "out"
    result = analyze_to_dir(bad, out)
    assert result.status == "not_a_video"
    html = (out / "report.html").read_text(encoding="utf-8")
    tags = Tags(html)
    assert "This file is not a video hingecheck can read" in html
    assert "not_a_video" in html
    assert "video" not in tags.names() and "table" not in tags.names() and "script" not in tags.names()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html  # the message names the file


@pytest.mark.parametrize("status", ["no_person", "corrupt", "model_error", "config_error", "error", "timeout"])
def test_every_failed_status_renders(tmp_path, status):
    result = AnalysisResult(video=None, status=status, message=f"reason for {status} {HOSTILE}")
    html = render_report(result, tmp_path)
    assert f"reason for {status} &lt;script&gt;" in html
    assert 'class="verdict tone-bad"' in html


def test_no_video_option_leaves_out_the_video_section(analysed_lowback, tmp_path):
    out, real = analysed_lowback
    dst = copy_outputs(out, tmp_path)  # a stale annotated.mp4 from an earlier run sits in OUTDIR ...
    outputs = {k: v for k, v in real.outputs.items() if k != "annotated_video"}  # ... but this run had --no-video
    html = write_report(dataclasses.replace(real, outputs=outputs), dst).read_text(encoding="utf-8")
    tags = Tags(html)
    assert "video" not in tags.names() and "script" not in tags.names()
    assert "button" not in tags.names()  # nothing to seek
    assert len([t for t in tags.names() if t == "img"]) == 2


def test_the_report_says_where_the_standing_reference_came_from_and_which_lift_it_judged(analysed_lowback):
    out, result = analysed_lowback
    html = (out / "report.html").read_text()
    assert result.calibration["source"] == "stand"
    assert "Standing reference" in html and "still standing, found automatically" in html
    assert result.exercise["name"] in ("rdl", "hinge") and result.exercise["detected"]
    assert f"{result.exercise['name']} (detected: " in html
    summary = json.loads((out / "summary.json").read_text())
    assert summary["calibration"]["source"] == "stand" and summary["exercise"] == result.exercise
    assert summary["back_range"] is None
