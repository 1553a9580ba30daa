"""The portal in Debian's chromium (Playwright): a client uploads a sample through the link page on a phone-sized
screen; the clinician logs in, sees it arrive analysed without reloading, opens the recording and the report and
clicks a fault: the video seeks. No page requests anything from another host, and no console error (a CSP
violation would be one)."""

from __future__ import annotations

import pytest

from hingecheck.serve import accounts
from hingecheck.serve.db import open_data_dir
from tests.conftest import SAMPLE_GOOD_STOOP
from tests.serve.serverproc import ServerProcess, free_port

pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("portal") / "data"
    conn = open_data_dir(data)
    alice = accounts.add_user(conn, "alice", "a long password")
    _, token = accounts.add_client(conn, alice, "Anna <b>bold</b>")
    conn.close()
    proc = ServerProcess(data, free_port(), "--workers", "1").start()  # with the annotated video: the test seeks it
    proc.token = token
    yield proc
    proc.stop()


def open_watched(browser, server, url: str, width: int):
    """A page in its own context that records console errors, page errors, dialogs and off-site requests."""
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith((server.url, "data:", "blob:")) else problems.append(r.url))
    page.goto(url)
    return page, problems


def _seek_check(page, button_selector: str, video_selector: str) -> None:
    page.wait_for_function(f"document.querySelector('{video_selector}').readyState >= 1")
    button = page.locator(button_selector).first
    target = float(button.get_attribute("data-seek"))
    assert target > 0.5
    button.click()
    page.wait_for_function(
        f"Math.abs(document.querySelector('{video_selector}').currentTime - {target}) < 0.25", timeout=10_000
    )


def test_client_uploads_and_clinician_reviews(browser, server, tmp_path):
    # --- the client, on a phone-sized screen
    phone, problems = open_watched(browser, server, f"{server.url}/u/{server.token}", width=390)
    assert phone.locator("#client-name").text_content() == "Anna <b>bold</b>"  # shown as text
    assert phone.locator("input#record[capture][accept='video/*']").count() == 1
    assert "Stand still for 2 s" in phone.content() and "Side-on" in phone.content()
    phone.set_input_files("#video", str(SAMPLE_GOOD_STOOP))
    phone.click("#send")
    phone.wait_for_selector("#answer.ok >> text=Thank you")
    assert phone.locator("#progress").get_attribute("value") == "100"
    phone.screenshot(path=str(tmp_path / "upload.png"), full_page=True)
    # a file that is not a video gets a clear refusal
    fake = tmp_path / "holiday.mp4"
    fake.write_text("not a video at all\n" * 20)
    phone.set_input_files("#video", str(fake))
    phone.click("#send")
    phone.wait_for_selector("#answer.bad >> text=not a video")
    assert problems[-1].endswith("status of 415 (Unsupported Media Type)")  # the refusal, as expected
    problems.pop()
    phone.context.close()

    # --- the clinician
    page, problems2 = open_watched(browser, server, f"{server.url}/dashboard", width=1280)
    assert page.url.endswith("/login")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", "a long password")
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    status = page.locator("#recent [data-status-of]").first
    assert status.get_attribute("data-status") in ("queued", "running", "ok")
    # the status turns to analysed in place (polling), without a reload
    page.evaluate("window.__notReloaded = true")
    page.wait_for_selector("#recent [data-status-of][data-status='ok']", timeout=150_000)
    assert page.evaluate("window.__notReloaded") is True
    assert status.text_content() == "analysed"
    page.wait_for_selector("[data-client-latest] >> text=analysed")  # the client table too
    assert page.locator("[data-client-rate]").first.text_content() == "33%"
    assert "spinal_flexion_takeover" in page.locator("#recent [data-faults-of]").first.text_content()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.click("#recent a[href^='/recordings/']")
    page.wait_for_selector("#reps")
    _seek_check(page, "#reps button.fault-seek", "#annotated")
    page.screenshot(path=str(tmp_path / "recording.png"), full_page=True)

    page.click("text=Full report")
    page.wait_for_selector("button.fault-seek")
    _seek_check(page, "button.fault-seek", "video")
    # the client page: trend, history and the link with its QR code, made on the server (no other host)
    page.goto(f"{server.url}/dashboard")
    page.click("#clients a[href^='/clients/']")
    page.wait_for_selector(".qr svg")
    assert page.locator("code.url").first.text_content() == f"{server.url}/u/{server.token}"
    page.screenshot(path=str(tmp_path / "client.png"), full_page=True)
    assert problems == [] and problems2 == [], problems + problems2
    page.context.close()
