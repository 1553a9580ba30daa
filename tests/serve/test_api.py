"""The JSON API: bearer tokens, the clinician's recordings with their status, clients; /healthz."""

from __future__ import annotations

from hingecheck.serve import jobs
from hingecheck.serve.accounts import new_api_token


def test_api_lists_recordings_with_queue_and_analysis_statuses(portal):
    conn = portal.conn()
    token = new_api_token(conn, "alice")
    conn.close()
    auth = {"Authorization": f"Bearer {token}"}
    http = portal.client()
    done = portal.analysed(http, "Anna", faults=1)
    failed = portal.analysed(http, "Anna", status="not_a_video")
    queued = portal.upload(http, "Anna").json()["id"]
    recs = {r["id"]: r for r in http.get("/api/recordings", headers=auth).json()["recordings"]}
    assert set(recs) == {done, failed, queued}
    assert recs[queued]["status"] == "queued" and recs[queued]["n_reps"] is None
    assert recs[failed]["status"] == "not_a_video"
    one = http.get(f"/api/recordings/{done}", headers=auth).json()
    assert one["status"] == "ok" and one["client"] == "Anna" and one["n_reps"] == 3
    assert one["fault_counts"] == {"spinal_flexion_takeover": 1} and one["recorded_at"]
    conn = portal.conn()
    jobs.claim(conn)
    conn.close()
    assert http.get(f"/api/recordings/{queued}", headers=auth).json()["status"] == "running"
    clients = http.get("/api/clients", headers=auth).json()["clients"]
    assert [c["name"] for c in clients] == ["Anna"] and clients[0]["n_uploads"] == 3
    assert http.get("/api/recordings/12345", headers=auth).status_code == 404
    assert http.get("/api/recordings", headers={"Authorization": f"Basic {token}"}).status_code == 401


def test_healthz_needs_no_login(portal):
    r = portal.client().get("/healthz")
    assert r.status_code == 200 and r.json()["ok"] is True
