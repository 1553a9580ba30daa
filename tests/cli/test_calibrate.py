"""``hingecheck calibrate`` stores a client's range test; ``analyze --client`` judges against it."""

from __future__ import annotations

import json
import sqlite3

from tests.cli.test_cli import run_cli
from tests.media import write_clip


def test_a_range_test_is_stored_and_then_used_for_that_client(tmp_path, sample_good_stoop, sample_lowback):
    db = tmp_path / "results.sqlite"
    # the stoop rep of this sample is the deepest bend in the bundled clips: it stands in for a range test
    done = run_cli("calibrate", str(sample_good_stoop), "--client", "Ann", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Ann: lumbar flexion ")
    stored = sqlite3.connect(db).execute("SELECT client, range_json FROM client_ranges").fetchall()
    assert [row[0] for row in stored] == ["Ann"]
    back_range = json.loads(stored[0][1])
    assert back_range["lumbar_flexion_deg"] > 15 and back_range["spine_flexion_deg"] > 15

    out = tmp_path / "out"
    done = run_cli("analyze", str(sample_lowback), "-o", str(out), "--no-video", "--client", "Ann", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "Ann's range test of" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["back_range"] == {k: v for k, v in back_range.items()}
    shares = [r["lumbar_range_share"] for r in summary["reps"]]
    assert shares and all(s is not None for s in shares)
    peak = summary["reps"][0]["peak_lumbar_flexion_deg"]
    assert abs(shares[0] - peak / back_range["lumbar_flexion_deg"]) < 0.01

    other = run_cli(
        "analyze", str(sample_lowback), "-o", str(tmp_path / "o2"), "--no-video", "--client", "Bo", "--db", str(db)
    )
    assert "no range test for Bo" in other.stdout
    assert json.loads((tmp_path / "o2" / "summary.json").read_text())["back_range"] is None


def test_a_range_test_without_a_person_is_refused_in_one_line(tmp_path):
    """(A clip with a person but no full bend is refused the same way: tests/core/test_rom.py.)"""
    clip = write_clip(tmp_path / "empty.mp4", [i / 30 for i in range(20)], 256, 192)
    db = tmp_path / "r.sqlite"
    done = run_cli("calibrate", str(clip), "--client", "Ann", "--db", str(db))
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no person" in lines[0] and "Traceback" not in done.stderr
    assert not db.exists()  # nothing stored


def test_a_database_that_cannot_be_created_is_refused_before_the_analysis(tmp_path, sample_good_stoop):
    (tmp_path / "taken").write_text("a file where the database's folder should be")
    db = tmp_path / "taken" / "r.sqlite"
    done = run_cli("calibrate", str(sample_good_stoop), "--client", "Ann", "--db", str(db))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"hingecheck: {tmp_path / 'taken'}: is a file, not a folder (wanted as the database folder)"
    )
