"""The clinician's pages: attention order, client page (trend, history, links with QR), recording page (video,
reps, click-to-seek targets, notes), status polling, CSV export, deleting a client."""

from __future__ import annotations

import csv
import io

from hingecheck.serve import jobs
from hingecheck.serve.db import open_store
from tests.serve.conftest import logged_in


def _add_client(portal, http, csrf, name):
    r = http.post("/clients", data={"name": name, "csrf": csrf})
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    conn = portal.conn()
    portal.links[name] = conn.execute("SELECT token FROM upload_links WHERE client_id = ?", (cid,)).fetchone()[0]
    conn.close()
    portal.clients[name] = cid
    return cid


def test_dashboard_orders_re_record_first_then_fault_rate_then_worsening(portal):
    alice, csrf = logged_in(portal, "alice")
    for name in ("Clean", "Faulty", "Rerecord", "Worse", "Nothing"):
        _add_client(portal, alice, csrf, name)
    up = portal.client()
    portal.analysed(up, "Clean", faults=0)
    portal.analysed(up, "Faulty", faults=2)
    portal.analysed(up, "Rerecord", faults=3)
    portal.analysed(up, "Rerecord", status="no_person")  # the latest upload must be filmed again
    portal.analysed(up, "Worse", faults=0)
    portal.analysed(up, "Worse", faults=1)  # same latest fault rate as... less than Faulty, but worsening
    portal.analysed(up, "Anna", faults=1)
    text = alice.get("/dashboard").text
    order = [n for n in ("Rerecord", "Faulty", "Worse", "Anna", "Clean", "Nothing") if f">{n}</a>" in text]
    positions = [text.index(f">{n}</a>") for n in order]
    assert positions == sorted(positions), order
    # Worse and Anna share the latest fault rate (1/3): the worsening trend decides
    assert text.index(">Worse</a>") < text.index(">Anna</a>")
    assert "re-record: no person found" in text
    api = [c["name"] for c in portal.client().get("/api/clients", headers=_bearer(portal, "alice")).json()["clients"]]
    assert api[:3] == ["Rerecord", "Faulty", "Worse"]


def _bearer(portal, user):
    from hingecheck.serve.accounts import new_api_token

    conn = portal.conn()
    token = new_api_token(conn, user)
    conn.close()
    return {"Authorization": f"Bearer {token}"}


def test_client_page_has_trend_history_uploads_and_links_with_qr(portal):
    up = portal.client()
    portal.analysed(up, "Anna", faults=0)
    portal.analysed(up, "Anna", faults=2)
    alice, csrf = logged_in(portal, "alice")
    page = alice.get(f"/clients/{portal.clients['Anna']}").text
    assert "data:image/png;base64," in page  # the trend plot, inline
    assert page.count("<svg") == 1 and f"/u/{portal.links['Anna']}" in page  # the link and its QR code
    assert page.count('href="/recordings/') == 2
    assert alice.post(f"/clients/{portal.clients['Anna']}/links", data={"csrf": csrf}).status_code == 303
    page = alice.get(f"/clients/{portal.clients['Anna']}").text
    assert page.count("<svg") == 2


def test_recording_page_has_video_reps_fault_seek_targets_and_notes(portal):
    rec = portal.analysed(portal.client(), "Anna", faults=2)
    alice, csrf = logged_in(portal, "alice")
    page = alice.get(f"/recordings/{rec}").text
    assert f'src="/recordings/{rec}/annotated.mp4"' in page
    assert page.count('class="seek fault-seek" data-seek="') == 2
    assert 'data-seek="1.400"' in page and "Low back took over" in page
    assert f'href="/recordings/{rec}/report"' in page
    assert "Not judged in this video" in page and "extension from low back — the back&#39;s outline is clothing" in page
    r = alice.post(f"/recordings/{rec}/notes", data={"csrf": csrf, "body": "Check the dowel position"})
    assert r.status_code == 303
    assert "Check the dowel position" in alice.get(f"/recordings/{rec}").text
    report = alice.get(f"/recordings/{rec}/report")
    nonce = report.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in report.text  # the report's own script may run, nothing else
    video = alice.get(f"/recordings/{rec}/annotated.mp4", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.content) == 100


def test_status_json_reports_queued_then_the_analysis_status(portal):
    up = portal.client()
    queued = portal.upload(up, "Anna").json()["id"]
    alice, _ = logged_in(portal, "alice")
    recs = {r["id"]: r for r in alice.get("/status.json").json()["recordings"]}
    assert recs[queued]["status"] == "queued"
    page = alice.get("/dashboard").text
    assert f'data-status-of="{queued}"' in page and 'data-pending="1">' in page and 'fetch("/status.json"' in page
    conn = portal.conn()
    row = jobs.claim(conn)
    conn.close()
    assert alice.get("/status.json").json()["recordings"][0]["status"] == "running"
    portal.complete(row, faults=1)
    rec = alice.get("/status.json").json()["recordings"][0]
    assert rec["id"] == queued and rec["status"] == "ok" and rec["n_reps"] == 3
    assert rec["fault_counts"] == {"spinal_flexion_takeover": 1}
    assert 'data-pending="1">' not in alice.get("/dashboard").text


def test_csv_export_lists_the_clinicians_recordings(portal):
    up = portal.client()
    rec = portal.analysed(up, "Anna", faults=1, name="=cmd|calc.mp4")
    alice, _ = logged_in(portal, "alice")
    r = alice.get("/export.csv")
    assert r.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(row["id"]) for row in rows] == [rec]
    assert rows[0]["status"] == "ok" and rows[0]["fault_counts"] == "spinal_flexion_takeover=1"
    assert not rows[0]["file_name"].startswith("=")  # no spreadsheet formula


def test_deleting_a_client_removes_their_files_and_rows(portal):
    up = portal.client()
    rec = portal.analysed(up, "Anna")
    ben = portal.analysed(up, "Ben")
    conn = portal.conn()
    uuid, rec_id = conn.execute("SELECT uuid, recording_id FROM jobs WHERE id = ?", (rec,)).fetchone()
    conn.close()
    assert (portal.data / "uploads" / uuid).is_dir() and (portal.data / "results" / uuid).is_dir()
    alice, csrf = logged_in(portal, "alice")
    anna = portal.clients["Anna"]
    assert alice.post(f"/clients/{anna}/delete", data={"csrf": csrf, "confirm": "no"}).status_code == 400
    assert alice.post(f"/clients/{anna}/delete", data={"csrf": csrf, "confirm": "delete"}).status_code == 303
    assert not (portal.data / "uploads" / uuid).exists() and not (portal.data / "results" / uuid).exists()
    conn = portal.conn()
    for table in ("clients", "jobs", "upload_links"):
        col = "id" if table == "clients" else "client_id"
        assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {col} = ?", (anna,)).fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0
    assert any(r["action"] == "delete_client" for r in conn.execute("SELECT action FROM audit_log"))
    conn.close()
    with open_store(portal.data) as store:
        assert store.reps(rec_id) == [] and store.faults(rec_id) == []
        assert [r["client"] for r in store.recordings()] == ["Ben"]
    assert alice.get(f"/recordings/{rec}").status_code == 404
    bob, _ = logged_in(portal, "bob")
    assert bob.get(f"/recordings/{ben}").status_code == 200
