"""hingecheck batch: discovery, honest statuses for bad files, resumability (rerun, SIGKILL), timeouts, safety.

Real analyses on short cuts of the sample clip (1 s each) so the module stays around a minute of CPU.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hingecheck.batch.discovery import (
    client_dir_name,
    discover_videos,
    inside,
    normalise_time,
    read_manifest,
    safe_component,
)
from hingecheck.batch.plan import BatchRequest
from hingecheck.batch.runner import run
from hingecheck.batch.store import ResultStore
from hingecheck.cli.main import main
from hingecheck.io.video import VideoReader, VideoWriter, copy_packets
from hingecheck.pipeline import AnalyzeOptions
from tests.media import truncate_copy, write_audio_only, write_clip

HOSTILE = "<img src=x onerror=alert(1)>"


# --- helpers shared with test_batch_dask.py and test_dashboard_browser.py ---------------------------


def cut_clip(src: Path, dst: Path, start_s: float, duration_s: float) -> Path:
    """Re-encode [start, start + duration) of a clip (timestamps from 0) with hingecheck's H.264 writer."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with (
        VideoReader(src, max_width=640) as reader,
        VideoWriter(dst, reader.info.width, reader.info.height, reader.info.fps) as writer,
    ):
        for frame in reader:
            if frame.time_s < start_s:
                continue
            if frame.time_s >= start_s + duration_s:
                break
            writer.write(frame.rgb, frame.time_s - start_s)
    return dst


def remux_index_last(src: Path, dst: Path, creation_time: str | None = None) -> Path:
    """Copy the packets into an MP4 whose index (moov) comes last, as many cameras write it."""
    return copy_packets(src, dst, {"creation_time": creation_time} if creation_time else None)


def add_bad_files(folder: Path, donor: Path) -> dict[str, str]:
    """The bad inputs of the issue, with the status each must get. ``donor`` is a ≥3 s clip with a person."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("these are session notes, not a video\n" * 40)
    write_audio_only(folder / "audio_only.mp4", seconds=1.0)
    truncate_copy(donor, folder / "truncated.mp4", 0.4)
    write_clip(folder / "nobody.mp4", [i / 30 for i in range(30)])
    (folder / "readme.txt").write_text("not a video extension: ignored\n")
    return {
        "empty.mp4": "not_a_video",
        "notes.mp4": "not_a_video",
        "audio_only.mp4": "not_a_video",
        "truncated.mp4": "ok",  # still decodes: analysed with a video_damaged warning
        "nobody.mp4": "no_person",
    }


def request(indir: Path, outdir: Path, workers: int = 2, timeout_s: float = 300.0, **kw) -> BatchRequest:
    return BatchRequest(
        indir=indir,
        outdir=outdir,
        workers=workers,
        timeout_s=timeout_s,
        db_path=kw.pop("db_path", outdir / "results.sqlite"),
        options=AnalyzeOptions(write_video=False),
        quiet=True,
        **kw,
    )


def items_by_path(outdir: Path) -> dict[str, dict]:
    return {i["path"]: i for i in json.loads((outdir / "batch.json").read_text())["items"]}


def recording_rows(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM recordings ORDER BY path").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def person_clip(sample_good_stoop: Path) -> Path:
    """A side-view clip with a person (samples/hinge_good_stoop.mp4)."""
    return sample_good_stoop


@pytest.fixture(scope="session")
def short_clips(person_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """1 s cuts from different moments (so their bytes differ) and one 3 s cut used as a donor for damage."""
    d = tmp_path_factory.mktemp("clips")
    return {
        "a": cut_clip(person_clip, d / "a.mp4", 0.0, 1.0),
        "b": cut_clip(person_clip, d / "b.mp4", 0.2, 1.0),
        "c": cut_clip(person_clip, d / "c.mp4", 0.4, 1.0),
        "long": cut_clip(person_clip, d / "long.mp4", 0.0, 3.0),
        "long_moov_last": remux_index_last(d / "long.mp4", d / "long_moov_last.mp4"),
    }


@pytest.fixture(scope="module")
def batch_run(short_clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """One real batch over good clips (nested folders, odd extension case, hostile names) and every bad file."""
    root = tmp_path_factory.mktemp("batch")
    indir, outdir = root / "uploads", root / "out"
    (indir / "alice" / "2024-01").mkdir(parents=True)
    (indir / "alice" / "2024-01" / "s1.mp4").write_bytes(short_clips["a"].read_bytes())
    remux_index_last(short_clips["b"], indir / "alice" / "s2.MOV", creation_time="2024-05-01T10:00:00.000000Z")
    (indir / HOSTILE).mkdir()
    (indir / HOSTILE / f"{HOSTILE}.mp4").write_bytes(short_clips["c"].read_bytes())
    expected = {f"bob/{k}": v for k, v in add_bad_files(indir / "bob", short_clips["long"]).items()}
    truncate_copy(short_clips["long_moov_last"], indir / "bob" / "truncated_before_index.mp4", 0.4)
    expected["bob/truncated_before_index.mp4"] = "corrupt"
    expected |= {"alice/2024-01/s1.mp4": "ok", "alice/s2.MOV": "ok", f"{HOSTILE}/{HOSTILE}.mp4": "ok"}
    code = main(["batch", str(indir), "-o", str(outdir), "--workers", "2", "--no-video", "--quiet"])
    return indir, outdir, expected, code


# --- pure helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../evil", "/etc/passwd", "..", ".", "", HOSTILE, "a/b\\c", "Ünïcødé name", "con:x", "." * 300]
)
def test_safe_component_is_one_harmless_path_component(name, tmp_path):
    safe = safe_component(name)
    assert safe and "/" not in safe and "\\" not in safe and ".." not in safe and not safe.startswith(".")
    assert len(safe) <= 60
    assert inside(tmp_path / client_dir_name(name) / safe, tmp_path)


def test_client_dir_names_stay_distinct_when_they_sanitize_alike():
    assert client_dir_name("anna") == "anna"
    assert client_dir_name("a b") != client_dir_name("a_b")
    assert client_dir_name("../x") != client_dir_name("x")


def test_discovery_finds_videos_at_any_depth_by_extension_case_insensitively(tmp_path):
    for rel in ["c1/a.MP4", "c1/deep/er/b.mov", "c2/c.webm", "c2/notes.txt", "c2/.hidden.mp4", "top.mkv"]:
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(b"x")
    os.mkfifo(tmp_path / "in" / "c2" / "pipe.mp4")  # would block a reader: not a regular file, skipped
    (tmp_path / "outside.mp4").write_bytes(b"x")
    (tmp_path / "in" / "c2" / "link.mp4").symlink_to(tmp_path / "outside.mp4")
    (tmp_path / "in" / "out").mkdir()
    (tmp_path / "in" / "out" / "annotated.mp4").write_bytes(b"x")
    found = discover_videos(tmp_path / "in", exclude=[tmp_path / "in" / "out"])
    assert [p.relative_to(tmp_path / "in").as_posix() for p in found] == [
        "c1/a.MP4",
        "c1/deep/er/b.mov",
        "c2/c.webm",
        "top.mkv",
    ]


def test_manifest_rejects_paths_outside_and_bad_dates(tmp_path):
    (tmp_path / "in").mkdir()
    good = tmp_path / "m.csv"
    good.write_text("path,client,date\nx/a.mp4,Anna,2024-03-01\nb.mp4,,\n")
    rows = read_manifest(good, tmp_path / "in")
    assert rows["x/a.mp4"].client == "Anna" and rows["x/a.mp4"].recorded_at == "2024-03-01T00:00:00"
    assert rows["b.mp4"].client == "unassigned"
    outside = tmp_path / "o.csv"
    outside.write_text(f"path,client\n{tmp_path / 'elsewhere.mp4'},x\n")
    with pytest.raises(Exception, match="outside"):
        read_manifest(outside, tmp_path / "in")
    bad_date = tmp_path / "d.csv"
    bad_date.write_text("path,client,date\na.mp4,x,yesterday\n")
    with pytest.raises(Exception, match="ISO 8601"):
        read_manifest(bad_date, tmp_path / "in")


# --- a real batch ---------------------------------------------------------------------------------------


def test_batch_gives_every_file_its_own_status_and_exits_0(batch_run):
    _, outdir, expected, code = batch_run
    assert code == 0
    items = items_by_path(outdir)
    assert {p: i["status"] for p, i in items.items()} == expected
    assert "bob/readme.txt" not in items
    assert "no video stream" in items["bob/audio_only.mp4"]["message"]
    assert "empty" in items["bob/empty.mp4"]["message"]
    assert "no person" in items["bob/nobody.mp4"]["message"]
    assert "video_damaged" in items["bob/truncated.mp4"]["warnings"]
    for item in items.values():  # messages name no absolute path (batch.json already names the file)
        assert str(outdir.parent) not in item["message"]


def test_good_videos_have_outputs_and_one_row_each(batch_run):
    _, outdir, expected, _ = batch_run
    items = items_by_path(outdir)
    rows = {r["path"]: r for r in recording_rows(outdir / "results.sqlite")}
    for path, status in expected.items():
        item = items[path]
        folder = outdir / item["output_dir"]
        assert folder.parent.parent == outdir, "OUTDIR/<client>/<video>/"
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] in (status, "not_a_video")  # batch refines an unopenable MP4 to corrupt
        assert json.loads((folder / "source.json").read_text())["content_sha256"] == item["content_sha256"]
        assert rows[path]["status"] == status and rows[path]["client"] == item["client"]
        assert str(outdir.parent) not in rows[path]["message"]
        if status == "ok":
            assert (folder / "frames.csv").is_file() and summary["frames"] > 0
            assert rows[path]["recorded_at"] and rows[path]["output_dir"] == str(folder)
    assert len(rows) == len(expected)
    assert rows["alice/s2.MOV"]["client"] == "alice" and rows["alice/2024-01/s1.mp4"]["client"] == "alice"
    # recording date: the container's creation time when it has one, else the file's modification time
    assert (rows["alice/s2.MOV"]["recorded_at"], rows["alice/s2.MOV"]["recorded_at_source"]) == (
        "2024-05-01T10:00:00+00:00",
        "metadata",
    )
    assert rows["alice/2024-01/s1.mp4"]["recorded_at_source"] == "mtime"
    assert not list(outdir.rglob(".partial-*"))


def test_hostile_names_are_escaped_and_stay_inside_outdir(batch_run):
    _, outdir, _, _ = batch_run
    for path in outdir.rglob("*"):
        assert inside(path, outdir) and "<" not in path.name and ">" not in path.name
    index = (outdir / "index.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in index
    assert HOSTILE not in index
    client_pages = list((outdir / "clients").glob("*.html"))
    assert len(client_pages) == 3
    for page in client_pages:
        assert HOSTILE not in page.read_text()


def test_rerun_redoes_nothing(batch_run, capsys):
    indir, outdir, expected, _ = batch_run
    before = {p: p.stat().st_mtime_ns for p in outdir.rglob("summary.json")}
    t0 = time.perf_counter()
    batch = run(request(indir, outdir))
    assert time.perf_counter() - t0 < 20
    assert {i.status for i in batch.items} == {"skipped_unchanged"}
    assert batch.executor_description == "", "no worker may be started when nothing changed"
    items = items_by_path(outdir)
    assert {p: i["previous_status"] for p, i in items.items()} == expected
    assert {p: p.stat().st_mtime_ns for p in outdir.rglob("summary.json")} == before
    assert len(recording_rows(outdir / "results.sqlite")) == len(expected)


def test_manifest_overrides_client_and_date_without_escaping_outdir(tmp_path):
    indir = tmp_path / "in"
    (indir / "bob").mkdir(parents=True)
    (indir / "bob" / "empty.mp4").write_bytes(b"")
    (indir / "bob" / "notes.mp4").write_text("not a video")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"path,client,date\nbob/empty.mp4,../../evil,2023-05-06\nbob/notes.mp4,{HOSTILE},\n")
    outdir = tmp_path / "out"
    batch = run(request(indir, outdir, db_path=tmp_path / "shared.sqlite", manifest=manifest))
    by_path = {i.rel_path: i for i in batch.items}
    assert by_path["bob/empty.mp4"].client == "../../evil"
    assert by_path["bob/empty.mp4"].recorded_at == "2023-05-06T00:00:00"
    assert by_path["bob/empty.mp4"].recorded_at_source == "manifest"
    assert by_path["bob/notes.mp4"].client == HOSTILE
    for item in batch.items:
        if item.output_dir is not None:
            assert inside(item.output_dir, outdir)
    assert not (tmp_path.parent / "evil").exists() and not (tmp_path / "evil").exists()
    rows = {r["path"]: r for r in recording_rows(tmp_path / "shared.sqlite")}
    assert rows["bob/empty.mp4"]["client"] == "../../evil"
    # --force redoes everything and still keeps one row per video
    again = run(request(indir, outdir, db_path=tmp_path / "shared.sqlite", manifest=manifest, force=True))
    assert {i.status for i in again.items} == {"not_a_video"}
    assert len(recording_rows(tmp_path / "shared.sqlite")) == 2


def test_a_symlinked_client_folder_cannot_lead_outputs_out_of_outdir(tmp_path):
    indir, outdir, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    (indir / "bob").mkdir(parents=True)
    (indir / "bob" / "empty.mp4").write_bytes(b"")
    elsewhere.mkdir()
    outdir.mkdir()
    (outdir / "bob").symlink_to(elsewhere, target_is_directory=True)
    batch = run(request(indir, outdir))
    assert batch.items[0].status == "error" and "refusing" in batch.items[0].message
    assert list(elsewhere.iterdir()) == []


def test_finished_folders_the_database_missed_are_recovered_not_redone(tmp_path):
    """A run killed after moving a folder into place but before writing its row: the rerun adopts the folder."""
    indir, outdir = tmp_path / "in", tmp_path / "out"
    (indir / "gil").mkdir(parents=True)
    (indir / "gil" / "empty.mp4").write_bytes(b"")
    run(request(indir, outdir))
    (outdir / "results.sqlite").unlink()
    summary_file = next(outdir.rglob("summary.json"))
    before = summary_file.stat().st_mtime_ns
    batch = run(request(indir, outdir))
    assert batch.items[0].status == "skipped_unchanged" and "recovered" in batch.items[0].message
    assert summary_file.stat().st_mtime_ns == before
    assert [(r["path"], r["status"]) for r in recording_rows(outdir / "results.sqlite")] == [
        ("gil/empty.mp4", "not_a_video")
    ]


def test_container_dates_are_normalised():
    assert normalise_time("2024-05-01T10:00:00.000000Z") == "2024-05-01T10:00:00+00:00"
    assert normalise_time("1904-01-01T00:00:00.000000Z") is None  # camera without a clock
    assert normalise_time("garbage") is None and normalise_time(None) is None


def test_history_command_prints_the_trend(batch_run, capsys, monkeypatch):
    _, outdir, _, _ = batch_run
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["history", "ALICE", "--db", str(outdir / "results.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "alice: 2 sessions" in out and "s1.mp4" in out and "s2.MOV" in out
    assert main(["history", "nobody-here", "--db", str(outdir / "results.sqlite")]) == 2
    assert "not in the database" in capsys.readouterr().err


def test_sigkill_mid_run_then_rerun_leaves_one_row_per_video(short_clips, tmp_path):
    indir, outdir = tmp_path / "in", tmp_path / "out"
    for i, key in enumerate(("a", "b", "c")):
        (indir / "carol").mkdir(parents=True, exist_ok=True)
        (indir / "carol" / f"session{i}.mp4").write_bytes(short_clips[key].read_bytes())
    db = outdir / "results.sqlite"
    cmd = [sys.executable, "-m", "hingecheck.cli.main", "batch", str(indir), "-o", str(outdir), "--workers", "1"]
    proc = subprocess.Popen([*cmd, "--no-video", "--quiet"], start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if len(recording_rows(db)) >= 1:
                    break
            except sqlite3.OperationalError:  # not created or not migrated yet
                pass
            time.sleep(0.1)
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: its orphaned worker must notice and exit
        proc.wait(timeout=10)
        assert len(recording_rows(db)) < 3
        assert json.loads((outdir / "batch.json").read_text())["complete"] is False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    leftovers = ["?"]
    for _ in range(50):  # the orphan's watchdog checks every 0.5 s; multiprocessing's tracker follows it
        leftovers = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
        if not leftovers:
            break
        time.sleep(0.2)
    ps = subprocess.run(["ps", "-o", "pid,ppid,stat,etime,cmd", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftovers == [], f"the orphaned worker kept running:\n{ps.stdout}"

    assert main([*cmd[3:], "--no-video", "--quiet"]) == 0
    rows = recording_rows(db)
    assert sorted(r["path"] for r in rows) == ["carol/session0.mp4", "carol/session1.mp4", "carol/session2.mp4"]
    statuses = {p: i["status"] for p, i in items_by_path(outdir).items()}
    assert statuses["carol/session0.mp4"] == "skipped_unchanged"
    assert set(statuses.values()) <= {"ok", "skipped_unchanged"} and "ok" in statuses.values()
    assert sorted(p.name.split("-")[0] for p in (outdir / "carol").iterdir()) == [
        "session0",
        "session1",
        "session2",
    ], "one output folder per video, no partial or duplicate folders"


def test_a_hanging_video_is_stopped_and_the_rest_continues(tmp_path):
    indir, outdir = tmp_path / "in", tmp_path / "out"
    (indir / "dave").mkdir(parents=True)
    # two minutes of an empty scene: far longer to analyse than the 3 s allowed
    write_clip(indir / "dave" / "a_endless.mp4", [i / 30 for i in range(3600)], width=64, height=48)
    (indir / "dave" / "b_empty.mp4").write_bytes(b"")
    t0 = time.perf_counter()
    batch = run(request(indir, outdir, workers=1, timeout_s=3.0))
    statuses = {i.rel_path: i.status for i in batch.items}
    assert statuses == {"dave/a_endless.mp4": "timeout", "dave/b_empty.mp4": "not_a_video"}
    assert time.perf_counter() - t0 < 60
    assert "3 s" in items_by_path(outdir)["dave/a_endless.mp4"]["message"]
    assert not list(outdir.rglob(".partial-*")), "the killed worker's half-written folder is removed"
    assert [r["path"] for r in recording_rows(outdir / "results.sqlite")] == ["dave/b_empty.mp4"]
    # a timeout is retried on the next run (the machine may have been busy), the rest is not
    batch = run(request(indir, outdir, workers=1, timeout_s=3.0))
    assert {i.rel_path: i.status for i in batch.items}["dave/b_empty.mp4"] == "skipped_unchanged"


def test_unusable_setup_is_a_one_line_error(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) == 2
    assert "input folder not found" in capsys.readouterr().err
    (tmp_path / "in").mkdir()
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "in")]) == 2
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--model", str(tmp_path / "x.task")]) == 2
    assert "pose model not found" in capsys.readouterr().err
    (tmp_path / "taken").write_text("a file where the outputs should go")
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "taken")]) == 2
    assert "is a file, not a folder (wanted as the output folder)" in capsys.readouterr().err


def test_empty_input_folder_completes_with_an_empty_dashboard(tmp_path):
    (tmp_path / "in").mkdir()
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--quiet"]) == 0
    assert json.loads((tmp_path / "o" / "batch.json").read_text())["items"] == []
    assert (tmp_path / "o" / "index.html").is_file()
    with ResultStore(tmp_path / "o" / "results.sqlite") as store:
        assert store.count("recordings") == 0
