"""The durable queue: claim, lease, re-queue after a crash, retries, idempotent ingest."""

from __future__ import annotations

from hingecheck.batch.worker import JobResult
from hingecheck.serve import jobs
from hingecheck.serve.db import open_store
from tests.serve.conftest import fake_summary


def test_claim_is_one_job_at_a_time_and_interrupted_jobs_are_requeued(portal):
    http = portal.client()
    a, b = (portal.upload(http, "Anna").json()["id"] for _ in range(2))
    conn = portal.conn()
    first = jobs.claim(conn)
    second = jobs.claim(conn)
    assert (first["id"], second["id"]) == (a, b) and jobs.claim(conn) is None
    assert jobs.requeue_abandoned(conn, everything_running=False) == 0  # leases still valid
    conn.execute("UPDATE jobs SET lease_until = 0 WHERE id = ?", (a,))
    assert jobs.requeue_abandoned(conn, everything_running=False) == 1
    assert jobs.requeue_abandoned(conn, everything_running=True) == 1  # start-up: every running job
    again = jobs.claim(conn)
    assert again["id"] == a and again["attempts"] == 2
    conn.execute("UPDATE jobs SET attempts = ? WHERE id = ?", (jobs.MAX_ATTEMPTS, a))
    jobs.requeue_abandoned(conn, everything_running=True)
    states = dict(conn.execute("SELECT id, state FROM jobs").fetchall())
    assert states == {a: "failed", b: "queued"}  # a job that kills its server every time stops being retried
    conn.close()


def test_a_failed_attempt_is_retried_then_given_up(portal):
    http = portal.client()
    job_id = portal.upload(http, "Anna").json()["id"]
    conn = portal.conn()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        row = jobs.claim(conn)
        assert row["attempts"] == attempt
        state = jobs.finish(conn, job_id, analysis_status="timeout", message="slow", result_dir=None, recording_id=None)
        assert state == ("queued" if attempt < jobs.MAX_ATTEMPTS else "failed")
    assert conn.execute("SELECT analysis_status FROM jobs").fetchone()[0] == "timeout"
    conn.close()


def test_ingesting_the_same_job_twice_gives_one_recording(portal):
    """A server killed after storing the recording but before marking the job done redoes the job."""
    http = portal.client()
    job_id = portal.analysed(http, "Anna", faults=1)
    conn = portal.conn()
    conn.execute("UPDATE jobs SET state = 'running'")
    jobs.requeue_abandoned(conn, everything_running=True)
    conn.close()
    portal.complete(portal_claim(portal), faults=2)
    with open_store(portal.data) as store:
        assert store.count("recordings") == 1 and store.count("faults") == 2
    conn = portal.conn()
    assert conn.execute("SELECT state, recording_id IS NOT NULL FROM jobs").fetchone()[:] == ("done", 1)
    conn.close()
    # two uploads of the same bytes are two recordings (the key is salted with the upload id)
    portal.analysed(http, "Anna")
    with open_store(portal.data) as store:
        assert store.count("recordings") == 2
    assert job_id == 1


def portal_claim(portal):
    conn = portal.conn()
    row = jobs.claim(conn)
    conn.close()
    return row


def test_a_dead_worker_leaves_no_recording_and_the_job_is_retried(portal):
    from hingecheck.serve.dispatcher import ingest

    http = portal.client()
    portal.upload(http, "Anna")
    row = portal_claim(portal)
    partial = portal.data / "work" / "p"
    partial.mkdir(parents=True)
    conn = portal.conn()
    with open_store(portal.data) as store:
        keyed = {**dict(row), "settings_hash": "s", "model_sha256": "m"}
        state = ingest(conn, store, portal.data, keyed, JobResult(row["id"], "error", "worker died"), partial)
        assert state == "queued" and store.count("recordings") == 0 and not partial.exists()
        assert fake_summary(0)["reps"]
    conn.close()


def test_folders_no_job_owns_are_removed_at_start(portal):
    from hingecheck.serve.dispatcher import remove_orphans

    http = portal.client()
    kept = portal.analysed(http, "Anna")
    stray_upload = portal.data / "uploads" / "0123456789abcdef0123456789abcdef"
    stray_upload.mkdir()
    (stray_upload / "set.mp4").write_bytes(b"x")  # saved, then the server died before the job row
    (portal.data / "results" / "fedcba9876543210fedcba9876543210").mkdir()
    conn = portal.conn()
    assert remove_orphans(conn, portal.data) == 2
    uuid = conn.execute("SELECT uuid FROM jobs WHERE id = ?", (kept,)).fetchone()[0]
    conn.close()
    assert sorted(p.name for p in (portal.data / "uploads").iterdir() if not p.name.startswith(".")) == [uuid]
    assert [p.name for p in (portal.data / "results").iterdir()] == [uuid]


def test_an_orderly_shutdown_does_not_count_as_an_attempt(portal):
    portal.upload(portal.client(), "Anna")
    row = portal_claim(portal)
    assert row["attempts"] == 1
    conn = portal.conn()
    jobs.release(conn, [int(row["id"])])
    assert tuple(conn.execute("SELECT state, attempts FROM jobs").fetchone()) == ("queued", 0)
    conn.close()
