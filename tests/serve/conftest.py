"""Fixtures of the portal tests: a data folder with two clinicians, their clients and links, and helpers to
log in, post forms with the CSRF token and put an analysed recording in place without running an analysis."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("argon2")

from starlette.testclient import TestClient  # noqa: E402

from hingecheck.batch.worker import JobResult  # noqa: E402
from hingecheck.serve import accounts, jobs  # noqa: E402
from hingecheck.serve.app import create_app  # noqa: E402
from hingecheck.serve.config import load_config  # noqa: E402
from hingecheck.serve.db import connect, db_path, open_data_dir, open_store  # noqa: E402
from hingecheck.serve.dispatcher import RESULTS_DIR, WORK_DIR, ingest  # noqa: E402
from tests.conftest import SAMPLE_GOOD_STOOP  # noqa: E402

# argon2 at its default cost takes ~0.35 s per hash on this machine; the tests only need it to be argon2
accounts._hasher = accounts.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)

PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


class Portal:
    """A data folder, an app on it (dispatcher off unless asked) and the ids the tests need."""

    def __init__(self, data: Path, **config: Any) -> None:
        self.data = data
        conn = open_data_dir(data)
        self.users = {n: accounts.add_user(conn, n, p) for n, p in PASSWORDS.items()}
        self.clients: dict[str, int] = {}
        self.links: dict[str, str] = {}
        for clinician, client in (("alice", "Anna"), ("bob", "Ben")):
            cid, token = accounts.add_client(conn, self.users[clinician], client)
            self.clients[client], self.links[client] = cid, token
        conn.close()
        self.config = load_config(data, **{"start_workers": False, **config})
        self.app = create_app(self.config)

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1:8000", follow_redirects=False)

    def conn(self):
        return connect(db_path(self.data))

    def upload(self, http: TestClient, client: str, name: str = "set.mp4", content: bytes | None = None) -> Any:
        body = SAMPLE_GOOD_STOOP.read_bytes() if content is None else content
        return http.post(f"/u/{self.links[client]}", files={"video": (name, body, "video/mp4")})

    def analysed(
        self, http: TestClient, client: str, faults: int = 1, status: str = "ok", name: str = "set.mp4"
    ) -> int:
        """Upload the sample for ``client`` and ingest a made-up analysis of it (no pose model run)."""
        job_id = self.upload(http, client, name).json()["id"]
        conn = self.conn()
        row = jobs.claim(conn)
        conn.close()
        assert row is not None and int(row["id"]) == job_id
        self.complete(row, faults, status)
        return job_id

    def complete(self, row: Any, faults: int = 1, status: str = "ok") -> None:
        """Ingest a made-up analysis of a claimed job, as the dispatcher does after a worker's run."""
        job_id = int(row["id"])
        conn = self.conn()
        partial = self.data / WORK_DIR / f"{row['uuid']}-1"
        partial.mkdir(parents=True)
        shutil.copy(SAMPLE_GOOD_STOOP, partial / "annotated.mp4")
        (partial / "report.html").write_text(
            "<!doctype html><title>report</title><p id=r>REPORT</p><script>document.title='ok'</script>"
        )
        result = JobResult(job_id, status, "", summary=fake_summary(faults, status))
        with open_store(self.data) as store:
            keyed = {**dict(row), "settings_hash": "s", "model_sha256": "m"}
            assert ingest(conn, store, self.data, keyed, result, partial) == "done"
        conn.close()
        assert (self.data / RESULTS_DIR / row["uuid"] / "report.html").is_file()


def fake_summary(n_faulty: int, status: str = "ok") -> dict[str, Any]:
    reps = []
    for i in range(1, 4):
        faults = (
            [{"code": "spinal_flexion_takeover", "time_s": i * 1.0 + 0.4, "message": "low back", "cue": "hips back"}]
            if i <= n_faulty
            else []
        )
        reps.append(
            {
                "index": i,
                "partial": False,
                "start_s": float(i),
                "end_s": i + 0.9,
                "lumbar_share": 0.3,
                "hinge_capacity_deg": 60.0,
                "peak_hip_flexion_deg": 70.0,
                "faults": faults,
            }
        )
    if status != "ok":
        reps = []
    return {
        "status": status,
        "message": "",
        "warnings": [],
        "verdicts_withheld": {"extension_from_low_back": "the back's outline is clothing"} if n_faulty else {},
        "reps": reps,
        "frames": 90,
        "detection_rate": 1.0,
        "video": {"duration_s": 5.0},
    }


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def login(http: TestClient, name: str, password: str | None = None) -> Any:
    page = http.get("/login")
    return http.post(
        "/login",
        data={
            "csrf": csrf_of(page.text),
            "name": name,
            "password": PASSWORDS.get(name, "") if password is None else password,
        },
    )


def logged_in(portal: Portal, name: str) -> tuple[TestClient, str]:
    """A TestClient logged in as ``name`` and the session's CSRF token."""
    http = portal.client()
    assert login(http, name).status_code == 303
    dash = http.get("/dashboard")
    assert dash.status_code == 200
    return http, csrf_of(dash.text)


@pytest.fixture
def portal(tmp_path) -> Portal:
    return Portal(tmp_path / "data", max_upload_mb=5)
