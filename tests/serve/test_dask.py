"""``hingecheck serve --scheduler``: the dispatcher hands the portal's jobs to a Dask cluster (LocalCluster)."""

from __future__ import annotations

import time

import pytest

from hingecheck.serve.config import load_config
from hingecheck.serve.dispatcher import Dispatcher, analysis_options
from tests.conftest import SAMPLE_LOWBACK

distributed = pytest.importorskip("distributed", reason='needs pip install "hingecheck[dask]"')


def test_faces_are_blurred_by_default(tmp_path):
    assert analysis_options(load_config(tmp_path))[0].blur_faces is True
    assert analysis_options(load_config(tmp_path, blur_faces=False))[0].blur_faces is False
    (tmp_path / "serve.toml").write_text("[serve]\nblur_faces = false\n")
    assert load_config(tmp_path).blur_faces is False


def test_jobs_run_on_a_dask_cluster(portal):
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1", silence_logs=50
    )
    try:
        job_id = portal.upload(portal.client(), "Anna", "lowback.mp4", SAMPLE_LOWBACK.read_bytes()).json()["id"]
        config = load_config(portal.data, scheduler=cluster.scheduler_address, write_video=False, keep_originals=False)
        dispatcher = Dispatcher(config)
        dispatcher.start()
        try:
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                conn = portal.conn()
                row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
                conn.close()
                if row["state"] in ("done", "failed"):
                    break
                time.sleep(0.5)
        finally:
            dispatcher.stop()
    finally:
        cluster.close()
    assert row["state"] == "done" and row["analysis_status"] == "ok", dict(row)
    conn = portal.conn()
    rec = conn.execute("SELECT client, status, n_reps FROM recordings").fetchall()
    conn.close()
    assert [tuple(r) for r in rec] == [("Anna", "ok", 3)]
    assert not list((portal.data / "uploads" / row["uuid"]).iterdir())  # keep_originals = false: deleted
    assert (portal.data / "results" / row["uuid"] / "summary.json").is_file()
