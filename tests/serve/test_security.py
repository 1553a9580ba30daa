"""Security of the portal's web layer: ownership (404 whatever the URL), links, CSRF, escaping, uploads that
must be refused, file names, login rate limiting, headers."""

from __future__ import annotations

import pytest

from hingecheck.serve.db import audit_rows
from tests.serve.conftest import csrf_of, logged_in, login


def test_another_clinicians_objects_answer_404_on_pages_files_and_api(portal):
    http = portal.client()
    anna_rec = portal.analysed(http, "Anna")
    bob, bob_csrf = logged_in(portal, "bob")
    anna = portal.clients["Anna"]
    for url in (
        f"/clients/{anna}",
        f"/recordings/{anna_rec}",
        f"/recordings/{anna_rec}/report",
        f"/recordings/{anna_rec}/annotated.mp4",
        "/recordings/999999",
        "/clients/999999",
    ):
        r = bob.get(url)
        assert r.status_code == 404, url
        assert "REPORT" not in r.text and "Anna" not in r.text
    for url, data in (
        (f"/recordings/{anna_rec}/notes", {"body": "x"}),
        (f"/clients/{anna}/links", {}),
        (f"/clients/{anna}/delete", {"confirm": "delete"}),
        (f"/clients/{anna}/links/1/revoke", {}),
    ):
        assert bob.post(url, data={"csrf": bob_csrf, **data}).status_code == 404, url
    assert "Anna" not in bob.get("/dashboard").text
    assert "Anna" not in bob.get("/export.csv").text
    assert all(r["id"] != anna_rec for r in bob.get("/status.json").json()["recordings"])
    # nothing of Anna's was changed by those POSTs
    alice, _ = logged_in(portal, "alice")
    assert alice.get(f"/recordings/{anna_rec}").status_code == 200
    assert alice.get(f"/recordings/{anna_rec}/report").status_code == 200
    assert alice.get(f"/recordings/{anna_rec}/annotated.mp4").status_code == 200
    # the API with bob's token
    from hingecheck.serve.accounts import new_api_token

    conn = portal.conn()
    token = new_api_token(conn, "bob")
    conn.close()
    api = portal.client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/recordings/{anna_rec}", headers=auth).status_code == 404
    assert api.get("/api/recordings", headers=auth).json()["recordings"] == []
    assert [c["name"] for c in api.get("/api/clients", headers=auth).json()["clients"]] == ["Ben"]


def test_pages_need_login_and_files_are_not_served_by_path(portal):
    http = portal.client()
    rec = portal.analysed(http, "Anna")
    for url in ("/dashboard", f"/recordings/{rec}", f"/recordings/{rec}/annotated.mp4", "/export.csv", "/audit"):
        r = http.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/login", url
    alice, _ = logged_in(portal, "alice")
    for url in (
        f"/recordings/{rec}/../../results.sqlite",
        f"/recordings/{rec}/summary.json",
        f"/recordings/{rec}/%2e%2e/%2e%2e/results.sqlite",
        "/uploads/",
        "/results/",
    ):
        assert alice.get(url).status_code == 404, url
    assert portal.client().get("/api/recordings").status_code == 401
    assert portal.client().get("/api/recordings", headers={"Authorization": "Bearer made-up"}).status_code == 401


def test_revoked_and_made_up_links_are_refused_and_nothing_is_queued(portal):
    http = portal.client()
    assert http.get("/u/made-up-token").status_code == 404
    assert http.post("/u/made-up-token", files={"video": ("a.mp4", b"x", "video/mp4")}).status_code == 404
    alice, csrf = logged_in(portal, "alice")
    conn = portal.conn()
    link_id = conn.execute("SELECT id FROM upload_links WHERE token = ?", (portal.links["Anna"],)).fetchone()[0]
    conn.close()
    revoke = f"/clients/{portal.clients['Anna']}/links/{link_id}/revoke"
    assert alice.post(revoke, data={"csrf": csrf}).status_code == 303
    assert http.get(f"/u/{portal.links['Anna']}").status_code == 404
    assert portal.upload(http, "Anna").status_code == 404
    conn = portal.conn()
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
    conn.close()


def test_post_without_or_with_a_wrong_csrf_token_is_refused(portal):
    alice, csrf = logged_in(portal, "alice")
    anna = portal.clients["Anna"]
    for data in ({}, {"csrf": "wrong"}, {"csrf": csrf + "x"}):
        assert alice.post("/clients", data={"name": "Mallory", **data}).status_code == 403
        assert alice.post(f"/clients/{anna}/delete", data={"confirm": "delete", **data}).status_code == 403
        assert alice.post(f"/clients/{anna}/links", data=data).status_code == 403
    assert "Mallory" not in alice.get("/dashboard").text
    assert alice.get(f"/clients/{anna}").status_code == 200
    # the login form: a POST without the double-submit token does not log in
    fresh = portal.client()
    r = fresh.post("/login", data={"name": "alice", "password": "alice-password"})
    assert r.status_code == 403 and "hc_session" not in r.cookies
    assert alice.post("/clients", data={"name": "Carla", "csrf": csrf}).status_code == 303


EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_client_and_file_names_are_escaped_everywhere(portal):
    alice, csrf = logged_in(portal, "alice")
    r = alice.post("/clients", data={"name": EVIL, "csrf": csrf})
    assert r.status_code == 303
    client_id = int(r.headers["location"].rsplit("/", 1)[1])
    conn = portal.conn()
    portal.links["evil"] = conn.execute("SELECT token FROM upload_links WHERE client_id = ?", (client_id,)).fetchone()[
        0
    ]
    conn.close()
    portal.clients["evil"] = client_id
    rec = portal.analysed(portal.client(), "evil", name='"><script>alert(2)</script>.mp4')
    alice.post(f"/recordings/{rec}/notes", data={"csrf": csrf, "body": EVIL})
    pages = ["/dashboard", f"/clients/{client_id}", f"/recordings/{rec}", f"/u/{portal.links['evil']}"]
    for url in pages:
        text = (alice if not url.startswith("/u/") else portal.client()).get(url).text
        assert "<script>alert" not in text and "<img src=x" not in text, url
        assert "&lt;script&gt;alert(" in text, url  # shown, as text
    api = alice.get("/status.json").json()["recordings"]
    assert any(r["client"] == EVIL for r in api)  # JSON carries the raw text; pages escape it
    assert alice.get("/export.csv").headers["content-type"].startswith("text/csv")


def test_a_text_file_named_mp4_is_refused_and_nothing_is_queued(portal):
    r = portal.upload(portal.client(), "Anna", "clip.mp4", b"this is not a video\n" * 100)
    assert r.status_code == 415
    assert "not a video" in r.json()["error"]
    conn = portal.conn()
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
    conn.close()
    assert not [p for p in (portal.data / "uploads").rglob("*") if p.is_file()]


def test_an_oversized_upload_is_refused_early(portal, tmp_path):
    from hingecheck.serve.app import create_app
    from hingecheck.serve.config import load_config

    portal.app = create_app(load_config(portal.data, start_workers=False, max_upload_mb=0.05))  # 50 kB cap
    http = portal.client()
    r = portal.upload(http, "Anna")  # the 94 kB sample
    assert r.status_code == 413 and "limit" in r.json()["error"]

    # a body that hides its size (chunked, no Content-Length) is stopped by the running count
    def chunks():
        yield b'--b\r\nContent-Disposition: form-data; name="video"; filename="x.mp4"\r\n\r\n'
        for _ in range(1000):
            yield b"\0" * 65536  # would be 64 MB: the server stops long before
        yield b"\r\n--b--\r\n"

    r = http.post(
        f"/u/{portal.links['Anna']}", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert r.status_code == 413
    conn = portal.conn()
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
    conn.close()
    assert not [p for p in (portal.data / "uploads").rglob("*") if p.is_file()]
    # a declared Content-Length past the cap is refused before the body is read
    r = http.post(
        f"/u/{portal.links['Anna']}",
        content=b"x" * 10,
        headers={"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(10**9)},
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd.mp4",
        "..\\..\\windows\\evil.mp4",
        "/abs/path.mp4",
        "a\x00b\x1f.mp4",
        "..",
        ".hidden",
        "a/../../b.mp4",
        "CON\r\nX-Header: 1.mp4",
    ],
)
def test_path_characters_in_file_names_stay_inside_the_upload_folder(portal, name):
    r = portal.upload(portal.client(), "Anna", name)
    assert r.status_code == 201, r.text
    conn = portal.conn()
    row = conn.execute("SELECT video_path, original_name FROM jobs WHERE id = ?", (r.json()["id"],)).fetchone()
    conn.close()
    path = portal.data.joinpath(row["video_path"]).resolve()
    assert path.parent.parent == (portal.data / "uploads").resolve()
    assert path.is_file() and "/" not in row["original_name"] and "\\" not in row["original_name"]
    assert ".." not in row["original_name"] and not row["original_name"].startswith(".")
    assert all(ord(c) >= 32 for c in row["original_name"])


def test_repeated_bad_logins_are_rate_limited(portal):
    http = portal.client()
    for _ in range(5):
        assert login(http, "alice", "wrong").status_code == 401
    r = login(http, "alice", "alice-password")  # even the right password, until the window passes
    assert r.status_code == 429 and "hc_session" not in r.cookies
    assert login(portal.client(), "bob").status_code == 303  # other accounts are not locked out
    conn = portal.conn()
    conn.execute("UPDATE login_attempts SET at = at - 3600")  # the window passes
    conn.close()
    assert login(http, "alice").status_code == 303


def test_security_headers_and_cookie_flags(portal):
    http = portal.client()
    r = login(http, "alice")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    for url in ("/login", f"/u/{portal.links['Anna']}", "/healthz", "/dashboard"):
        h = http.get(url).headers
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "http" not in csp
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
    page = http.get("/dashboard").text + http.get(f"/u/{portal.links['Anna']}").text
    assert "http://" not in page.replace("http://127.0.0.1:8000", "") and "https://" not in page


def test_logout_ends_the_server_side_session(portal):
    alice, csrf = logged_in(portal, "alice")
    sid = alice.cookies.get("hc_session")
    assert alice.post("/logout", data={}).status_code == 403  # a forged logout does nothing
    assert alice.get("/dashboard").status_code == 200
    assert alice.post("/logout", data={"csrf": csrf}).status_code == 303
    again = portal.client()
    again.cookies.set("hc_session", sid)
    assert again.get("/dashboard").status_code == 303


def test_views_and_downloads_are_audited(portal):
    rec = portal.analysed(portal.client(), "Anna")
    alice, _ = logged_in(portal, "alice")
    alice.get(f"/recordings/{rec}")
    alice.get(f"/recordings/{rec}/annotated.mp4")
    alice.get("/export.csv")
    conn = portal.conn()
    actions = {(r["action"], r["object"]) for r in audit_rows(conn, "alice")}
    conn.close()
    assert {("view_recording", f"recording {rec}"), ("download_video", f"recording {rec}")} <= actions
    assert any(a == "export_csv" for a, _ in actions)
    assert "view_recording" in alice.get("/audit").text
    assert csrf_of(alice.get("/audit").text)


def test_form_bodies_are_small(portal):
    alice, csrf = logged_in(portal, "alice")
    r = alice.post("/clients", data={"name": "x" * 300_000, "csrf": csrf})
    assert r.status_code == 413 and "content-security-policy" in r.headers

    def chunks():
        for _ in range(100):
            yield b"name=" + b"x" * 65536

    r = alice.post("/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
