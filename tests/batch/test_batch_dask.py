"""``hingecheck batch --scheduler``: the same work on a Dask distributed cluster (a LocalCluster on loopback)."""

from __future__ import annotations

import json

import pytest

from hingecheck.cli.main import main
from tests.batch.test_batch import person_clip, recording_rows, short_clips  # noqa: F401  (shared session fixtures)

distributed = pytest.importorskip("distributed", reason='needs pip install "hingecheck[dask]"')


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=50,
    )
    try:
        yield cluster
    finally:
        cluster.close()


def test_batch_on_a_dask_cluster_gives_the_same_outcomes(cluster, short_clips, tmp_path):  # noqa: F811
    indir, outdir = tmp_path / "in", tmp_path / "out"
    (indir / "erin").mkdir(parents=True)
    (indir / "erin" / "session.mp4").write_bytes(short_clips["a"].read_bytes())
    (indir / "erin" / "empty.mp4").write_bytes(b"")
    args = ["batch", str(indir), "-o", str(outdir), "--scheduler", cluster.scheduler_address, "--no-video", "--quiet"]
    assert main(args) == 0
    doc = json.loads((outdir / "batch.json").read_text())
    assert doc["executor"].startswith(f"Dask cluster {cluster.scheduler_address}")
    statuses = {i["path"]: i["status"] for i in doc["items"]}
    assert statuses == {"erin/empty.mp4": "not_a_video", "erin/session.mp4": "ok"}
    rows = {r["path"]: r for r in recording_rows(outdir / "results.sqlite")}
    assert rows["erin/session.mp4"]["status"] == "ok" and rows["erin/session.mp4"]["frames"] > 0
    assert (outdir / "erin" / next(iter(p.name for p in (outdir / "erin").iterdir())) / "summary.json").is_file()
    # resumable there too: nothing is sent to the cluster again
    assert main(args) == 0
    assert {i["status"] for i in json.loads((outdir / "batch.json").read_text())["items"]} == {"skipped_unchanged"}


def test_unreachable_scheduler_is_a_clear_error():
    from hingecheck.batch.executors import DaskExecutor, ExecutorError

    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=10, connect_timeout_s=1)


def test_a_hanging_video_on_the_cluster_is_stopped_and_the_rest_continues(cluster, tmp_path):
    from hingecheck.batch.runner import run
    from tests.batch.test_batch import request
    from tests.media import write_clip

    indir = tmp_path / "in"
    (indir / "fay").mkdir(parents=True)
    write_clip(indir / "fay" / "a_endless.mp4", [i / 30 for i in range(3600)], width=64, height=48)
    (indir / "fay" / "b_empty.mp4").write_bytes(b"")
    batch = run(request(indir, tmp_path / "out", timeout_s=3.0, scheduler=cluster.scheduler_address))
    assert {i.rel_path: i.status for i in batch.items} == {
        "fay/a_endless.mp4": "timeout",
        "fay/b_empty.mp4": "not_a_video",
    }
    assert not list((tmp_path / "out").rglob(".partial-*"))
