from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests.media import write_clip

CONTRACT_COLUMNS = [
    "frame",
    "time_s",
    "detected",
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "pelvic_tilt_deg",
    "trunk_inclination_deg",
    "knee_flexion_deg",
    "confidence",
]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hingecheck", *args], capture_output=True, text=True, timeout=600)


def test_not_a_video_exits_nonzero_with_one_clear_line(tmp_path):
    readme = Path(__file__).resolve().parents[2] / "README.md"
    done = run_cli("analyze", str(readme), "-o", str(tmp_path / "x"))
    assert done.returncode != 0
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert "not a video" in lines[0] and "Traceback" not in done.stderr
    summary = json.loads((tmp_path / "x" / "summary.json").read_text())
    assert summary["status"] == "not_a_video"


def test_no_person_exits_nonzero_and_says_so(tmp_path):
    clip = write_clip(tmp_path / "empty_room.mp4", [i / 30 for i in range(20)], 256, 192)
    done = run_cli("analyze", str(clip), "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "no person" in done.stderr and "Traceback" not in done.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["status"] == "no_person"


def test_bad_config_is_one_line(tmp_path, sample_good_stoop):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[faults]\nno_such_threshold = 3\n")
    done = run_cli("analyze", str(sample_good_stoop), "-o", str(tmp_path / "o"), "--config", str(cfg))
    assert done.returncode != 0
    assert "unknown setting 'faults.no_such_threshold'" in done.stderr and "Traceback" not in done.stderr


def test_unwritable_output_folder_is_one_line_before_any_work(tmp_path, sample_good_stoop):
    taken = tmp_path / "taken"
    taken.write_text("a file where the outputs should go")
    t0 = time.perf_counter()
    done = run_cli("analyze", str(sample_good_stoop), "-o", str(taken))
    assert done.returncode == 2
    assert done.stderr.strip() == f"hingecheck: {taken}: is a file, not a folder (wanted as the output folder)"
    assert time.perf_counter() - t0 < 20, "refused before the video is analysed"
    done = run_cli("analyze", str(sample_good_stoop), "-o", str(taken / "sub"))
    assert done.returncode == 2 and "cannot create the output folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_models_command_verifies_the_bundle():
    done = run_cli("models")
    assert done.returncode == 0 and "checksum verified" in done.stdout


@pytest.fixture(scope="module")
def cli_run(sample_good_stoop, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_out")
    done = run_cli("analyze", str(sample_good_stoop), "-o", str(out))
    return done, out


def test_analyze_end_to_end_writes_the_contract(cli_run, sample_good_stoop):
    done, out = cli_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    with (out / "frames.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert set(CONTRACT_COLUMNS) <= set(rows[0])
    with av.open(str(sample_good_stoop)) as container:
        stream = container.streams.video[0]
        pts_times = [float(f.time) for f in container.decode(stream)]
    assert len(rows) == len(pts_times), "one row per decoded frame"
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    np.testing.assert_allclose([float(r["time_s"]) for r in rows], pts_times, atol=1e-3)
    detected = np.mean([r["detected"] == "1" for r in rows])
    assert detected >= 0.95
    hip = np.array([float(r["hip_flexion_deg"]) for r in rows if r["hip_flexion_deg"]])
    assert hip.size > 0.9 * len(rows) and hip.max() > 30, "the sample's hinges must show as hip flexion"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert isinstance(summary["warnings"], list) and isinstance(summary["reps"], list)
    assert summary["frames"] == len(rows) and summary["model"]["verified"]


def test_annotated_video_is_h264_with_every_frame(cli_run):
    _, out = cli_run
    with av.open(str(out / "annotated.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        n = sum(1 for _ in container.decode(stream))
    with (out / "frames.csv").open() as fh:
        assert n == sum(1 for _ in fh) - 1
